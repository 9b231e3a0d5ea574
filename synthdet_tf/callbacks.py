"""Training callbacks that Keras does not ship."""

import csv
import logging
import math
import os

import keras
import numpy as np
from sklearn.metrics import roc_auc_score


def per_source_metrics(labels, logits, sources) -> list[dict]:
    """Accuracy (at probability 0.5) and ROC-AUC for each source.

    A source with both classes is scored on its own images. A one-class source
    (e.g. one generator) is scored against every image of the other class, so
    its AUC says how well that generator is separated from the real images.
    """
    labels, logits, sources = np.asarray(labels), np.asarray(logits), np.asarray(sources)
    rows = []
    for source in sorted(set(sources.tolist())):
        own = sources == source
        classes = set(labels[own].tolist())
        pool = own if len(classes) == 2 else own | (labels != next(iter(classes)))
        auc = roc_auc_score(labels[pool], logits[pool]) if len(set(labels[pool].tolist())) == 2 else float("nan")
        rows.append(
            {
                "source": source,
                "n": int(own.sum()),
                "classes": "+".join(sorted({"REAL" if c == 0 else "FAKE" for c in classes})),
                "accuracy": float(np.mean((logits[own] > 0) == (labels[own] > 0.5))),
                "auc": float(auc),
            }
        )
    return rows


class PerSourceValidation(keras.callbacks.Callback):
    """After each epoch: accuracy and AUC per source on the validation set, to a CSV."""

    def __init__(self, dataset, labels, sources, path: str):
        super().__init__()
        self.dataset, self.labels, self.sources, self.path = dataset, labels, sources, path

    def on_epoch_end(self, epoch, logs=None):
        logits = self.model.predict(self.dataset, verbose=0).reshape(-1)
        rows = per_source_metrics(self.labels, logits, self.sources)
        new = not os.path.exists(self.path)
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["epoch", *rows[0]])
            if new:
                writer.writeheader()
            for row in rows:
                writer.writerow({"epoch": epoch + 1, **row})
        worst = min(rows, key=lambda r: r["accuracy"])
        logging.info("epoch %d: worst source %s accuracy %.3f", epoch + 1, worst["source"], worst["accuracy"])


class StopOnNaN(keras.callbacks.Callback):
    """Stops with a clear error (not a silent stop) when the loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise FloatingPointError(
                f"Training loss became {loss} at batch {batch}: lower --config.train.lr, "
                "set --config.train.clipnorm, or check the data (the last backup is kept for resuming)"
            )

