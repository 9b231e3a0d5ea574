"""Binary REAL/FAKE metrics from labels and fake probabilities, via scikit-learn.

Every function is pure: arrays in, a JSON-ready dict out. FAKE (1) is the
positive class, so "FPR" is the share of real photographs called fake.
"""

import numpy as np
from sklearn import metrics as skm

from synthdet_tf.data.discovery import LABEL_NAMES

MIN_TRUSTED = 30  # fewer images than this: a source's numbers are flagged as too small to trust
TARGET_FPR = 0.05


def _nan_if_one_class(fn, labels, scores):
    return float(fn(labels, scores)) if len(np.unique(labels)) == 2 else float("nan")


def tpr_at_fpr(labels, scores, fpr_target: float = TARGET_FPR) -> float:
    """Highest TPR among operating points whose FPR is at most `fpr_target`."""
    if len(np.unique(labels)) < 2:
        return float("nan")
    fpr, tpr, _ = skm.roc_curve(labels, scores)
    return float(tpr[fpr <= fpr_target].max())


def expected_calibration_error(labels, probs, n_bins: int = 15) -> float:
    """ECE over equal-width probability bins: sum_b |B|/N * |acc(B) - conf(B)|.

    Confidence is P(FAKE) against the FAKE frequency in each bin (the
    reliability diagram's definition); scikit-learn has the bins
    (`calibration_curve`) but no ECE, so the weighted sum is done here.
    """
    labels, probs = np.asarray(labels, float), np.asarray(probs, float)
    if len(labels) == 0:
        return float("nan")
    bins = np.clip((probs * n_bins).astype(int), 0, n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        sel = bins == b
        total += sel.sum() * abs(labels[sel].mean() - probs[sel].mean())
    return float(total / len(labels))


def binary_metrics(labels, probs, threshold: float = 0.5) -> dict:
    """All the headline numbers at one probability threshold (FAKE when prob >= threshold)."""
    labels = np.asarray(labels).astype(int)
    probs = np.asarray(probs, float)
    preds = (probs >= threshold).astype(int)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        labels, preds, labels=[0, 1], zero_division=0
    )
    per_class = {
        name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "n": int(support[i])}
        for i, name in enumerate(LABEL_NAMES)
    }
    two_classes = len(np.unique(labels)) == 2
    return {
        "n": int(len(labels)),
        "threshold": float(threshold),
        "accuracy": float(skm.accuracy_score(labels, preds)),
        # With one class present, balanced accuracy is that class's recall.
        "balanced_accuracy": float(skm.balanced_accuracy_score(labels, preds)) if two_classes else float(np.mean(preds == labels)),
        "per_class": per_class,
        "roc_auc": _nan_if_one_class(skm.roc_auc_score, labels, probs),
        "average_precision": _nan_if_one_class(skm.average_precision_score, labels, probs),
        "tpr_at_5pct_fpr": tpr_at_fpr(labels, probs),
        "ece": expected_calibration_error(labels, probs),
        "confusion_matrix": skm.confusion_matrix(labels, preds, labels=[0, 1]).tolist(),
    }


def per_source_metrics(labels, probs, sources, threshold: float = 0.5) -> list[dict]:
    """`binary_metrics` per source, with the share of the data and a too-small flag.

    A one-class source (e.g. one generator) has no ROC of its own: its AUC and
    AP are computed against every image of the other class (`*_vs_rest`), which
    says how well that source is separated from the other class overall.
    """
    labels, probs, sources = np.asarray(labels).astype(int), np.asarray(probs, float), np.asarray(sources)
    rows = []
    for source in sorted(set(sources.tolist())):
        own = sources == source
        row = {"source": source, **binary_metrics(labels[own], probs[own], threshold)}
        classes = np.unique(labels[own])
        row["classes"] = "+".join(LABEL_NAMES[c] for c in classes)
        if len(classes) == 1:
            pool = own | (labels != classes[0])
            row["roc_auc_vs_rest"] = _nan_if_one_class(skm.roc_auc_score, labels[pool], probs[pool])
            row["average_precision_vs_rest"] = _nan_if_one_class(skm.average_precision_score, labels[pool], probs[pool])
        row["too_small"] = bool(own.sum() < MIN_TRUSTED)
        rows.append(row)
    return rows
