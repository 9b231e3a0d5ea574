"""A corpus's shortcut score: how well file metadata alone tells its classes apart.

A small gradient-boosted classifier sees only what a file says about itself
without its pixels (format, width, height, bytes, bytes per pixel, estimated
JPEG quality, square or not) and is trained on the train split and scored on
the test split. Its AUC is the score: 0.5 means the metadata carries no label;
near 1.0 means a detector can reach high test figures by learning "PNG at
1024 x 1024 = fake" instead of generation traces. Cheap enough to run on every
`synthdet-data inspect`.
"""

import math

import numpy as np

FORMATS = ("JPEG", "PNG", "WEBP")
FEATURES = (*(f"is_{f.lower()}" for f in FORMATS), "is_other_format", "log_width", "log_height", "log_bytes",
            "bits_per_pixel", "jpeg_quality", "square")
MIN_PER_CLASS = 10  # per class, in each of train and test, before a score means anything


def features(info) -> list:
    """The metadata a file gives away without decoding, as numbers (FEATURES order)."""
    pixels = max(info.width * info.height, 1)
    fmt = [float(info.format == f) for f in FORMATS]
    return [*fmt, float(not any(fmt)), math.log(max(info.width, 1)), math.log(max(info.height, 1)),
            math.log(max(info.num_bytes, 1)), 8.0 * info.num_bytes / pixels,
            float(info.jpeg_quality) if info.jpeg_quality is not None else -1.0, float(info.width == info.height)]


def _arrays(records) -> tuple:
    x = np.array([features(r.info) for r in records], dtype=np.float64).reshape(-1, len(FEATURES))
    return x, np.array([r.label for r in records], dtype=np.int64)


def shortcut_score(records, seed: int = 0) -> dict:
    """{"auc": test AUC of the metadata-only classifier (None when a split lacks a class), counts, top features}."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import roc_auc_score

    train = [r for r in records if r.split == "train"]
    test = [r for r in records if r.split == "test"]
    (x_tr, y_tr), (x_te, y_te) = _arrays(train), _arrays(test)
    counts = {"train": np.bincount(y_tr, minlength=2).tolist(), "test": np.bincount(y_te, minlength=2).tolist()}
    if min(counts["train"] + counts["test"]) < MIN_PER_CLASS:
        return {"auc": None, "counts": counts, "why": f"fewer than {MIN_PER_CLASS} images of a class in train or test"}
    # class_weight: the score should not depend on the class ratio
    model = HistGradientBoostingClassifier(max_depth=3, max_iter=100, learning_rate=0.1, class_weight="balanced",
                                           random_state=seed).fit(x_tr, y_tr)
    auc = float(roc_auc_score(y_te, model.predict_proba(x_te)[:, 1]))
    importance = permutation_importance(model, x_te, y_te, scoring="roc_auc", n_repeats=3, random_state=seed)
    order = np.argsort(-importance.importances_mean)[:3]
    top = [[FEATURES[i], round(float(importance.importances_mean[i]), 3)] for i in order]
    return {"auc": round(auc, 3), "counts": counts, "top_features": top}


def describe(score: dict) -> str:
    """One line for the inspect report."""
    if score["auc"] is None:
        return f"Shortcut score: not computed ({score['why']})"
    top = ", ".join(f"{name} (AUC drop {drop})" for name, drop in score["top_features"])
    return (f"Shortcut score (metadata-only classifier, AUC on the test split; 0.5 = no shortcut): {score['auc']:.3f}"
            f"\n  leans most on: {top}")
