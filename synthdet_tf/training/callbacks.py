"""Training callbacks that Keras does not ship."""

import csv
import logging
import math
import os

import keras

from synthdet_tf.evaluate import metrics
from synthdet_tf.evaluate.calibration import sigmoid


def per_source_metrics(labels, logits, sources) -> list[dict]:
    """Accuracy (at probability 0.5) and ROC-AUC for each source, from logits.

    The per-epoch summary of `evaluate.metrics.per_source_metrics`: a one-class
    source (e.g. one generator) is scored against every image of the other
    class, so its AUC says how well that generator is separated from the
    real images.
    """
    rows = metrics.per_source_metrics(labels, sigmoid(logits), sources)
    return [
        {
            "source": r["source"],
            "n": r["n"],
            "classes": "+".join(sorted(r["classes"].split("+"))),
            "accuracy": r["accuracy"],
            "auc": r.get("roc_auc_vs_rest", r["roc_auc"]),
        }
        for r in rows
    ]


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

