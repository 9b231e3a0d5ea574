"""One logit from two streams: the whole-image model and the local-evidence model.

    synthdet-fuse --whole=exported/synthdet/2 --local=runs/v3/local_npr_s0 \\
        --data_dir=../shared/data/dev,runs/wide --external=runs/external --output_dir=runs/v3/fuse_npr_s0

The two see different evidence (the whole image's content and style; a few
pixels' dependencies at native resolution), so their logits are combined
linearly, `fused = a_whole * z_whole + a_local * z_local + bias`, with the
coefficients fitted on the validation split (never on the external folder;
`synthdet_tf.detect.fused.fuse` applies them):

- `standardized_mean`: each logit standardised on validation, then averaged
  with equal weights (no weight is learned from in-distribution data, where
  the whole-image model's shortcuts look like skill);
- `val_weighted`: a logit average whose weight maximises validation AUC;
- `logistic`: a two-input logistic regression (a small learned head).
The threshold (and UNSURE band) of the fused score is then chosen on the
same validation split, like every model's.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

RULES = ("standardized_mean", "val_weighted", "logistic")


def fit(rule: str, labels, z_whole, z_local) -> dict:
    """{"rule", "a_whole", "a_local", "bias"} fitted on validation logits."""
    labels, z_whole, z_local = np.asarray(labels), np.asarray(z_whole, float), np.asarray(z_local, float)
    if rule == "standardized_mean":
        (mw, sw), (ml, sl) = (z_whole.mean(), z_whole.std() + 1e-6), (z_local.mean(), z_local.std() + 1e-6)
        return {"rule": rule, "a_whole": 0.5 / sw, "a_local": 0.5 / sl, "bias": -0.5 * (mw / sw + ml / sl)}
    if rule == "val_weighted":
        weights = np.linspace(0.0, 1.0, 21)
        aucs = [roc_auc_score(labels, w * z_whole + (1 - w) * z_local) for w in weights]
        w = float(weights[int(np.argmax(aucs))])
        return {"rule": rule, "a_whole": w, "a_local": 1.0 - w, "bias": 0.0, "val_auc": float(max(aucs))}
    if rule == "logistic":
        head = LogisticRegression(C=1.0).fit(np.stack([z_whole, z_local], 1), labels)
        return {"rule": rule, "a_whole": float(head.coef_[0, 0]), "a_local": float(head.coef_[0, 1]), "bias": float(head.intercept_[0])}
    raise ValueError(f"Unknown fusion rule {rule!r}; choose one of {RULES}")
