"""Leave-one-source-out: how the detector does on a generator it never saw.

For each FAKE source with enough images: train on everything else (all REAL
images' train split, every other FAKE source's train split), then score

- `held_out`: the left-out source's fakes (all of them: none was trained on)
  against the REAL test split: AUC, AP, and the share of its fakes caught;
- `seen`: the other sources' test fakes against the same REAL test split,
  the in-distribution number to compare with.
"""

import csv
import json
import logging
import os
import re

import numpy as np

from synthdet_tf.data.discovery import FAKE, REAL, discover_from_config, subsample
from synthdet_tf.evaluate import calibration, metrics
from synthdet_tf.evaluate.predict import predict_logits
from synthdet_tf.detect.backends import KerasBackend

MIN_IMAGES = 100


def by_source(record) -> str:
    return record.source


def fake_sources(records, min_images: int = MIN_IMAGES, key=by_source) -> list[str]:
    """FAKE groups (sources, or whatever `key` gives) with at least min_images images."""
    counts = {}
    for r in records:
        if r.label == FAKE:
            counts[key(r)] = counts.get(key(r), 0) + 1
    return sorted(s for s, n in counts.items() if n >= min_images)


def fold(records, held_out: str, key=by_source) -> dict:
    """train / val / held_out / seen / real_test records for one left-out FAKE group."""
    out = lambda r: r.label == FAKE and key(r) == held_out  # noqa: E731
    return {
        "train": [r for r in records if r.split == "train" and not out(r)],
        "val": [r for r in records if r.split == "val" and not out(r)],
        "held_out": [r for r in records if out(r)],
        "seen": [r for r in records if r.split == "test" and r.label == FAKE and not out(r)],
        "real_test": [r for r in records if r.split == "test" and r.label == REAL],
    }


def slug(source: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", source)


def val_threshold(backend, val):
    if len({r.label for r in val}) < 2:
        logging.warning("The validation split lacks a class: using threshold 0.5")
        return 0.5
    return calibration.choose_threshold([r.label for r in val], calibration.sigmoid(predict_logits(backend, val)))


def train_fold(config, run_dir, found, f, overwrite=False):
    """Trains a fold's model unless `run_dir` holds a finished one; returns (backend, validation threshold)."""
    from synthdet_tf.training.train import DONE, train_and_evaluate

    if overwrite or not os.path.exists(os.path.join(run_dir, DONE)):
        logging.info("Training %s on %d images", run_dir, len(f["train"]))
        train_and_evaluate(config, run_dir, overwrite=overwrite, splits=(found, f["train"], f["val"]))
    backend = KerasBackend(run_dir)
    return backend, val_threshold(backend, f["val"])


def held_out_scores(real_logits, fake_logits, threshold):
    labels = np.r_[np.zeros(len(real_logits)), np.ones(len(fake_logits))]
    probs = calibration.sigmoid(np.r_[real_logits, fake_logits])
    m = metrics.binary_metrics(labels, probs, threshold)
    return {
        "n_fake": len(fake_logits),
        "auc": m["roc_auc"],
        "ap": m["average_precision"],
        "fake_recall": m["per_class"]["FAKE"]["recall"],
        "balanced_accuracy": m["balanced_accuracy"],
    }


def run_loso(config, workdir: str, *, min_images: int = MIN_IMAGES, sources=None, overwrite: bool = False) -> list[dict]:
    """Trains one model per left-out source under `workdir`; returns (and writes) the table."""
    found = discover_from_config(config.data)
    candidates = fake_sources(found.records, min_images)
    chosen = sources or candidates
    unknown = set(chosen) - set(candidates)
    if unknown:
        raise ValueError(f"Not FAKE sources with >= {min_images} images: {sorted(unknown)}; choose from {candidates}")
    rows = []
    for source in chosen:
        f = fold(found.records, source)
        if not f["real_test"] or not f["seen"]:
            raise ValueError(f"Leaving out {source} leaves no REAL test images or no other FAKE test images to compare with")
        backend, threshold = train_fold(config, os.path.join(workdir, slug(source)), found, f, overwrite)
        real = predict_logits(backend, f["real_test"])
        n_train = len(subsample(f["train"], config.train.max_train_images))
        row = {"held_out": source, "n_train": n_train, "threshold": threshold}
        for name in ("held_out", "seen"):
            s = held_out_scores(real, predict_logits(backend, f[name]), threshold)
            row.update({f"{name}_{k}": v for k, v in s.items()})
        rows.append(row)
        logging.info("LOSO %s: %s", source, row)
    write_table(rows, workdir)
    return rows


def write_table(rows, workdir):
    with open(os.path.join(workdir, "loso.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(workdir, "loso.json"), "w") as f:
        json.dump(rows, f, indent=2)
    with open(os.path.join(workdir, "loso.md"), "w") as f:
        f.write(format_table(rows))


def format_table(rows) -> str:
    lines = [
        "| left-out FAKE source | its fakes | AUC (left out) | AP | fakes caught | AUC (seen sources) | fakes caught (seen) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['held_out']} | {r['held_out_n_fake']} | {r['held_out_auc']:.3f} | {r['held_out_ap']:.3f} | "
            f"{r['held_out_fake_recall']:.3f} | {r['seen_auc']:.3f} | {r['seen_fake_recall']:.3f} |"
        )
    return "\n".join(lines) + "\n"
