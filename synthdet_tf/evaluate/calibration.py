"""Decision threshold and temperature, chosen on the validation split.

The threshold is a fake probability (after temperature scaling, when there is
one). It is chosen on validation data only; evaluation reports test metrics
at it and at 0.5, and a threshold fitted on test is only ever reported as an
"oracle". The result is a small JSON document stored with the model
(`calibration.json` in a training workdir, `assets/` of an exported model,
the sidecar of a TFLite file), so export and detect use the same numbers.
"""

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn import metrics as skm

# The runtime half (the sigmoid, the file and its checks) is detection's; fitting stays here, with scipy and sklearn.
from synthdet_tf.detect.calibration import CALIBRATION_FILE, DEFAULT, load, save, sigmoid  # noqa: F401

METHODS = ("balanced_accuracy", "fpr")


def fit_temperature(labels, logits) -> float:
    """T minimising the log loss of sigmoid(logit / T) (Guo et al., 2017).

    One scalar, so ranking (AUC, AP) is unchanged; only the probabilities move.
    """
    labels, logits = np.asarray(labels, float), np.asarray(logits, float)

    def nll(log_t):
        p = np.clip(sigmoid(logits, np.exp(log_t)), 1e-12, 1 - 1e-12)
        return skm.log_loss(labels, p, labels=[0, 1])

    return float(np.exp(minimize_scalar(nll, bounds=(-4, 4), method="bounded").x))


def choose_threshold(labels, probs, method: str = "balanced_accuracy", target_fpr: float = 0.05) -> float:
    """The probability threshold (FAKE when prob >= it) that

    - "balanced_accuracy": maximises balanced accuracy, or
    - "fpr": calls at most `target_fpr` of the real images fake, with the most fakes caught.

    Candidates are the ROC curve's thresholds; ties go to the one closest to 0.5.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown threshold method {method!r}; choose one of {METHODS}")
    labels, probs = np.asarray(labels).astype(int), np.asarray(probs, float)
    if len(np.unique(labels)) < 2:
        raise ValueError("Choosing a threshold needs both REAL and FAKE images in the validation split")
    fpr, tpr, thresholds = skm.roc_curve(labels, probs, drop_intermediate=False)
    thresholds = np.clip(thresholds, 0.0, 1.0)  # roc_curve's first threshold is +inf
    if method == "balanced_accuracy":
        score = (tpr + 1 - fpr) / 2
        ok = score >= score.max() - 1e-12
    else:
        allowed = fpr <= target_fpr
        ok = allowed & (tpr >= tpr[allowed].max() - 1e-12)
    candidates = thresholds[ok]
    return float(candidates[np.argmin(np.abs(candidates - 0.5))])


UNSURE_ACCURACY = 0.95  # outside the band, verdicts should be right this often on validation
UNSURE_MAX_SHARE = 0.3  # ... but the band never swallows more than this share of images


def unsure_band(labels, probs, threshold: float, accuracy: float = UNSURE_ACCURACY, max_share: float = UNSURE_MAX_SHARE) -> list:
    """[low, high] around the threshold; strictly inside it a verdict is UNSURE. Chosen on validation.

    The narrowest band (in probability, symmetric) outside which the validation
    accuracy reaches `accuracy`, widened no further than holding `max_share` of
    the images; [threshold, threshold] when the model is that accurate everywhere.
    """
    labels, probs = np.asarray(labels), np.asarray(probs, dtype=np.float64)
    distance = np.abs(probs - threshold)
    correct = (probs >= threshold) == (labels == 1)
    best = 0.0
    for width in np.unique(np.concatenate([[0.0], distance])):
        inside = distance < width
        if inside.mean() > max_share:
            break
        best = float(width)
        outside = ~inside
        if not outside.any() or correct[outside].mean() >= accuracy:
            break
    return [max(0.0, threshold - best), min(1.0, threshold + best)]


def calibrate(labels, logits, method="balanced_accuracy", target_fpr=0.05, temperature=False, chosen_on="val") -> dict:
    """The calibration document for a model, from its validation logits."""
    t = fit_temperature(labels, logits) if temperature else 1.0
    threshold = choose_threshold(labels, sigmoid(logits, t), method, target_fpr)
    doc = {"threshold": threshold, "temperature": t, "method": method, "chosen_on": chosen_on, "n": int(len(labels)),
           "unsure_band": unsure_band(labels, sigmoid(logits, t), threshold)}
    if method == "fpr":
        doc["target_fpr"] = float(target_fpr)
    return doc
