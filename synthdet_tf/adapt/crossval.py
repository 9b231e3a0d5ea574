"""The threshold and the figures of an adapted head, from out-of-fold scores of the small set itself.

At k = 8 per class there is no separate validation split: every example is
scored by a head fitted without it, the threshold is the one that balances the
two classes best on those scores, and the figures are read at it. They are
slightly optimistic for that reason (the threshold saw the same scores), and
the intervals are wide at small k: both are printed.
"""

import math

import numpy as np

from synthdet_tf.detect.calibration import sigmoid  # noqa: F401  the one sigmoid, at temperature 1 here


def balanced_accuracy(y, fake) -> float:
    y, fake = np.asarray(y, int), np.asarray(fake, bool)
    return float(np.mean([np.mean(fake[y == 1]), np.mean(~fake[y == 0])]))


def choose_threshold(y, probs, replay=None) -> float:
    """The probability cut with the best balanced accuracy; ties go to the cut nearest 0.5.

    `replay` (labels, probs) of the base's own kind of data: then the cut balances the new examples' accuracy
    and the replay's equally, so the threshold does not buy the new source with the base's old ones.
    """
    candidates = np.unique(np.concatenate([[0.5], probs] + ([replay[1]] if replay is not None else [])))

    def score(t):
        ba = balanced_accuracy(y, probs >= t)
        if replay is not None:
            ba = 0.5 * (ba + balanced_accuracy(replay[0], replay[1] >= t))
        return ba, -abs(t - 0.5)

    return float(max(candidates, key=score))


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def report(y, probs, threshold: float, n_boot: int = 2000, seed: int = 0) -> dict:
    """Balanced accuracy with a stratified-bootstrap 95 % interval, and each class's accuracy with Wilson's."""
    y, probs = np.asarray(y, int), np.asarray(probs, float)
    fake = probs >= threshold
    per_class = {}
    for name, cls, right in (("REAL", 0, ~fake), ("FAKE", 1, fake)):
        n, k = int((y == cls).sum()), int(right[y == cls].sum())
        per_class[name] = {"n": n, "accuracy": k / n if n else float("nan"), "interval": wilson(k, n)}
    rng = np.random.default_rng(seed)
    idx = [np.flatnonzero(y == c) for c in (0, 1)]
    boots = [balanced_accuracy(y[s], fake[s]) for s in
             (np.concatenate([rng.choice(i, len(i)) for i in idx]) for _ in range(n_boot))]
    return {"balanced_accuracy": balanced_accuracy(y, fake), "interval": tuple(np.percentile(boots, [2.5, 97.5])),
            "threshold": float(threshold), "per_class": per_class}
