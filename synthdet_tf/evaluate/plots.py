"""The report's pictures (matplotlib, PNG). Each function writes one file and returns its path."""

import csv
import os

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402
from sklearn import metrics as skm  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402

from synthdet_tf.data.discovery import LABEL_NAMES  # noqa: E402

REAL_COLOR, FAKE_COLOR = "#1f77b4", "#d62728"


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def roc_pr(labels, probs, threshold, path):
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.4))
    fpr, tpr, thr = skm.roc_curve(labels, probs)
    a.plot(fpr, tpr, color="black", label=f"ROC (AUC {skm.roc_auc_score(labels, probs):.3f})")
    a.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    i = np.argmin(np.abs(thr - threshold))
    a.plot(fpr[i], tpr[i], "o", color=FAKE_COLOR, label=f"threshold {threshold:.3f}")
    a.axvline(0.05, color="grey", lw=0.8, ls="--", label="5% FPR")
    a.set(xlabel="False positive rate (real called fake)", ylabel="True positive rate (fakes caught)", title="ROC curve")
    a.legend(loc="lower right")
    precision, recall, _ = skm.precision_recall_curve(labels, probs)
    b.plot(recall, precision, color="black", label=f"PR (AP {skm.average_precision_score(labels, probs):.3f})")
    b.axhline(np.mean(labels), ls=":", color="grey", label=f"chance ({np.mean(labels):.2f})")
    b.set(xlabel="Recall (fakes caught)", ylabel="Precision (calls that are fake)", title="Precision-recall curve", ylim=(0, 1.02))
    b.legend(loc="lower left")
    return _save(fig, path)


def confusion(cm, threshold, path):
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(cm, cmap="Blues")
    row = cm.sum(axis=1, keepdims=True).clip(min=1)
    for i in range(2):
        for j in range(2):
            color = "white" if cm[i, j] > cm.max() / 2 else "black"
            ax.text(j, i, f"{cm[i, j]}\n({cm[i, j] / row[i, 0]:.1%})", ha="center", va="center", color=color, fontsize=12)
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=LABEL_NAMES, yticklabels=LABEL_NAMES)
    ax.set(xlabel="Predicted", ylabel="True", title=f"Confusion matrix (threshold {threshold:.3f})")
    return _save(fig, path)


def reliability(labels, probs, ece, path, n_bins=10):
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.2, 6), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    frac, mean = calibration_curve(labels, probs, n_bins=n_bins, strategy="uniform")
    a.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    a.plot(mean, frac, "o-", color="black", label=f"model (ECE {ece:.3f})")
    a.set(ylabel="Share that is FAKE", title="Reliability diagram", ylim=(0, 1))
    a.legend(loc="upper left")
    b.hist(probs, bins=n_bins, range=(0, 1), color="grey")
    b.set(xlabel="Predicted fake probability", ylabel="Images")
    return _save(fig, path)


def score_histograms(labels, probs, threshold, path):
    labels = np.asarray(labels)
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, 1, 41)
    for label, color in ((0, REAL_COLOR), (1, FAKE_COLOR)):
        ax.hist(np.asarray(probs)[labels == label], bins=bins, alpha=0.6, color=color, label=f"{LABEL_NAMES[label]} (n={int((labels == label).sum())})")
    ax.axvline(threshold, color="black", ls="--", label=f"threshold {threshold:.3f}")
    ax.set(xlabel="Predicted fake probability", ylabel="Images", title="Scores per class", yscale="log")
    ax.legend(loc="upper center", framealpha=1)
    return _save(fig, path)


def training_curves(log_csv, path):
    """Loss, accuracy and AUC per epoch from a training run's log.csv; None when there is none."""
    if not log_csv or not os.path.exists(log_csv):
        return None
    with open(log_csv) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, key in zip(axes, ("loss", "accuracy", "auc")):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            if prefix + key in rows[0]:
                ax.plot(epochs, [float(r[prefix + key]) for r in rows], style, label="validation" if prefix else "training")
        ax.set(xlabel="Epoch", title=key.upper() if key == "auc" else key.capitalize(), xticks=epochs)
        ax.legend()
    return _save(fig, path)


def robustness(rows, clean, path):
    """Balanced accuracy and AUC against perturbation strength, one panel per family."""
    families = [
        ("jpeg", "JPEG quality", True, "JPEG re-encode"),
        ("downscale", "Downscale factor", True, "Downscale"),
        ("blur", "Gaussian blur sigma", False, "Gaussian blur"),
        ("study_240px", "Longer side (px)", True, "Study's 240 px test size"),
    ]
    low = min([clean["balanced_accuracy"], clean["roc_auc"]] + [min(r["balanced_accuracy"], r["roc_auc"]) for r in rows])
    present = [f for f in families if any(r["family"] == f[0] for r in rows)]
    fig, axes = plt.subplots(1, len(present), figsize=(3.6 * len(present), 3.6), sharey=True, squeeze=False)
    for ax, (family, xlabel, descending, title) in zip(axes[0], present):
        sel = sorted((r for r in rows if r["family"] == family), key=lambda r: r["strength"], reverse=descending)
        xs = ["none"] + [f"{r['strength']:g}" for r in sel]
        for key, name, style in (("balanced_accuracy", "balanced acc.", "-o"), ("roc_auc", "AUC", "--s")):
            ax.plot(xs, [clean[key]] + [r[key] for r in sel], style, label=name)
        ax.set(xlabel=xlabel, title=title, ylim=(min(0.4, low - 0.05), 1.01))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Metric at the stored threshold")
    axes[0][0].legend(loc="lower left")
    return _save(fig, path)


def _thumbnail(path, size):
    with Image.open(path) as im:
        im.seek(0)
        return np.asarray(ImageOps.fit(im.convert("RGB"), (size, size)))


def pick_grid(labels, probs, threshold, n=16, seed=0):
    """Indices for the prediction grid: half mistakes, half hits, both classes in each."""
    labels, preds = np.asarray(labels), (np.asarray(probs) >= threshold).astype(int)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero((labels == y) & ((preds == labels) == hit)) for hit in (False, True) for y in (0, 1)]
    picked, quota = [], n // 4
    for g in groups:
        picked += list(rng.choice(g, min(quota, len(g)), replace=False))
    rest = np.setdiff1d(np.arange(len(labels)), picked)
    picked += list(rng.choice(rest, min(n - len(picked), len(rest)), replace=False))
    return picked


def prediction_grid(paths, labels, probs, threshold, path, cols=4, size=160):
    """Images captioned 'Real: fake / Predicted: fake (p)', mistakes framed in red, hits in green."""
    rows = -(-len(paths) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, p, y, prob in zip(axes.flat, paths, labels, probs):
        pred = int(prob >= threshold)
        ax.imshow(_thumbnail(p, size))
        ax.axis("on")
        ax.set_xticks([]), ax.set_yticks([])
        color = "#2ca02c" if pred == y else FAKE_COLOR
        for spine in ax.spines.values():
            spine.set_edgecolor(color)
            spine.set_linewidth(4)
        ax.set_title(
            f"Real: {LABEL_NAMES[y].lower()} / Predicted: {LABEL_NAMES[pred].lower()}\np(fake) = {prob:.2f}",
            fontsize=9,
            color="black" if pred == y else FAKE_COLOR,
        )
    fig.suptitle("Test predictions (red frame = mistake)", fontsize=11)
    return _save(fig, path)
