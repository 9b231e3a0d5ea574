"""A new logit head over the base's frozen features, fitted on a few labelled examples.

Every method returns one linear head (kernel [D], bias), so the adapted model is
the base with its last Dense layer replaced. The methods compared in
docs/adapt.md (`synthdet-benchmark adapt`):
- `logistic`: an L2 logistic regression on standardised features, from scratch;
- `prototype`: the line between the two class means (nearest class mean with a
  shared isotropic covariance, as a prototypical network's head), then a 1-D
  logistic fit of its scale and offset;
- `shrink`: the base's own head plus a correction, with an L2 penalty on the
  correction only, so few examples move it little and the base's knowledge
  stays unless the examples pay for the change.
Classes are weighted to count equally, whatever the folder's balance.
"""

import numpy as np
from scipy.optimize import minimize

METHODS = ("shrink", "logistic", "prototype")
# Penalties tried by the inner cross-validation, per feature-standardised unit; the largest keeps the base.
STRENGTHS = (0.01, 0.1, 1.0, 10.0, 100.0)


def _weights(y: np.ndarray) -> np.ndarray:
    n1, n0 = max(1, y.sum()), max(1, (1 - y).sum())
    return np.where(y == 1, 0.5 / n1, 0.5 / n0)


def _fit_offset_logistic(z, y, w, x, strength):
    """min_d,c  weighted log loss of (z + x d + c) + strength |d|^2 / 2: z is the prior's logit."""
    d0 = np.zeros(x.shape[1] + 1)

    def loss(p):
        d, c = p[:-1], p[-1]
        t = z + x @ d + c
        # log(1 + e^t) - y t, written to stay finite for large |t|
        ll = np.logaddexp(0.0, t) - y * t
        g = (1.0 / (1.0 + np.exp(-t)) - y) * w
        return float(np.sum(w * ll) + 0.5 * strength * d @ d), np.concatenate([x.T @ g + strength * d, [g.sum()]])

    result = minimize(loss, d0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return result.x[:-1], float(result.x[-1])


def _with_replay(x, y, replay, replay_share: float):
    """The new examples, then the replayed ones, with weights: each part balanced, replay `replay_share` of the total."""
    w = _weights(y)
    if replay is None:
        return x, y, w
    xr, yr = np.asarray(replay[0], np.float64), np.asarray(replay[1], np.float64)
    return (np.concatenate([x, xr]), np.concatenate([y, yr]),
            np.concatenate([(1 - replay_share) * w, replay_share * _weights(yr)]))


def fit(method: str, x: np.ndarray, y: np.ndarray, base_head, strength: float = 1.0, replay=None,
        replay_share: float = 0.5):
    """(kernel [D], bias) of a head on raw features x [N, D] (labels y in {0, 1}).

    `replay`: (features, labels) of the base's own kind of data, fitted beside the new examples so that the
    head keeps what the base did well (the new examples and the replay each weigh as `replay_share` says).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    n_new = len(y)  # the penalty is per new example, with or without a replay beside them
    x, y, w = _with_replay(np.asarray(x, np.float64), np.asarray(y, np.float64), replay, replay_share)
    # A feature that barely moves over a few dozen images would get a huge weight once unscaled; the floor keeps
    # every weight on the scale of the others (and the int8 export, which shares one scale per layer, exact).
    mean, std = x.mean(0), x.std(0)
    scale = np.maximum(std, np.median(std)) + 1e-6
    xs = (x - mean) / scale
    if method == "prototype":
        direction = xs[y == 1].mean(0) - xs[y == 0].mean(0)
        direction /= np.linalg.norm(direction) + 1e-12
        proj = xs @ direction
        (a,), c = _fit_offset_logistic(np.zeros(len(y)), y, w, proj[:, None], 1e-3)
        kernel_s, bias_s = a * direction, c
    elif method == "logistic":
        kernel_s, bias_s = _fit_offset_logistic(np.zeros(len(y)), y, w, xs, strength / n_new)
    else:
        k0, b0 = base_head
        z = x @ k0 + b0
        kernel_s, bias_s = _fit_offset_logistic(z, y, w, xs, strength / n_new)
    # Back from standardised units to the raw features the Dense layer sees.
    kernel = kernel_s / scale
    bias = bias_s - float(mean @ kernel)
    if method == "shrink":
        kernel, bias = base_head[0] + kernel, base_head[1] + bias
    return kernel, bias


def folds(y: np.ndarray, n_folds: int, seed: int = 0) -> list[np.ndarray]:
    """Stratified fold index per example (each class dealt round-robin after a shuffle)."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), int)
    for cls in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == cls))
        fold[idx] = np.arange(len(idx)) % n_folds
    return [np.flatnonzero(fold == f) for f in range(n_folds)]


def out_of_fold_logits(method, x, y, base_head, strength, n_folds: int = 5, seed: int = 0, replay=None) -> np.ndarray:
    """Each example's logit from a head fitted without it (stratified k-fold; the replay is in every fit)."""
    n_folds = int(max(2, min(n_folds, np.bincount(y.astype(int), minlength=2).min())))
    out = np.zeros(len(y))
    for test in folds(y, n_folds, seed):
        train = np.setdiff1d(np.arange(len(y)), test)
        kernel, bias = fit(method, x[train], y[train], base_head, strength, replay)
        out[test] = x[test] @ kernel + bias
    return out


def choose_strength(method, x, y, base_head, seed: int = 0, replay=None) -> float:
    """The penalty whose out-of-fold log loss on the new examples is lowest (`prototype` has none)."""
    if method == "prototype":
        return 0.0
    w = _weights(y)

    def cv_loss(s):
        z = out_of_fold_logits(method, x, y, base_head, s, seed=seed, replay=replay)
        return float(np.sum(w * (np.logaddexp(0.0, z) - y * z)))

    return min(STRENGTHS, key=cv_loss)
