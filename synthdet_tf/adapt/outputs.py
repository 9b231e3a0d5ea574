"""What an adaptation writes beside its head: what it was fitted on, what it costs the base, its exports."""

import collections
import datetime
import os

import numpy as np

from synthdet_tf.adapt import crossval
from synthdet_tf.adapt.embed import embed_files

NAME = "synthdet_adapted"


def adapt_info(base, records, found, failed, method, fitted, replay_dir, command) -> dict:
    """The facts the model card and config.json carry about this adaptation."""
    by_class = lambda f: dict(collections.Counter(v for v in map(f, records) if v is not None).most_common())  # noqa: E731
    sides = [min(r.info.width, r.info.height) for r in records]
    return {
        "base": os.path.abspath(base.path), "method": method, "penalty": fitted["strength"],
        "replay": os.path.abspath(replay_dir) if replay_dir else None,
        "counts": {"REAL": sum(r.label == 0 for r in records), "FAKE": sum(r.label == 1 for r in records)},
        "formats": {name: by_class(lambda r, c=c: f"{r.info.format}" if r.label == c else None) for c, name in ((0, "REAL"), (1, "FAKE"))},
        "sources": {name: by_class(lambda r, c=c: r.source if r.label == c else None) for c, name in ((0, "REAL"), (1, "FAKE"))},
        "shorter_side_px": {"min": int(min(sides)), "median": int(np.median(sides)), "max": int(max(sides))},
        "skipped": [list(s) for s in found.skipped] + [list(s) for s in failed],
        "warnings": found.warnings,
        "cross_validated": fitted["cv"],
        "date": datetime.date.today().isoformat(),
        "command": command,
    }


def keeps(base, fitted, base_test_dir: str) -> dict:
    """The base and the adapted head on the test split of `base_test_dir` (the base's own kind of data)."""
    from synthdet_tf.data.discovery import discover

    test = [r for r in discover(base_test_dir).records if r.split == "test"]
    x, z, kept, _ = embed_files(base, [r.path for r in test])
    y = np.array([test[i].label for i in kept])
    t, temperature = base.calibration["threshold"], base.calibration["temperature"]
    base_fake = crossval.sigmoid(z / temperature) >= t
    new_fake = crossval.sigmoid(x.astype(np.float64) @ fitted["kernel"] + fitted["bias"]) >= fitted["threshold"]
    return {"folder": os.path.abspath(base_test_dir), "n": int(len(y)),
            "base": crossval.balanced_accuracy(y, base_fake), "adapted": crossval.balanced_accuracy(y, new_fake)}


def calibration_views(views: np.ndarray) -> np.ndarray:
    from synthdet_tf.export.tflite import MIN_REPRESENTATIVE

    # int8 calibration wants a few hundred activations: flips and quarter turns stretch a small set
    turns = [views, views[:, :, ::-1]] + [np.rot90(views, k, axes=(1, 2)) for k in (1, 2, 3)]
    out = np.concatenate(turns)
    return out if len(out) >= MIN_REPRESENTATIVE else np.concatenate([out] * int(np.ceil(MIN_REPRESENTATIVE / len(out))))


def export_all(output_dir: str, views: np.ndarray) -> dict:
    """SavedModel (TF Serving) and int8 TFLite (phones) of the adapted workdir, with their agreement with Keras
    on `views`, the adaptation set's model views (also the int8 calibration set)."""
    from synthdet_tf.detect.backends import KerasBackend, SavedModelBackend, TFLiteBackend
    from synthdet_tf.export.exporter import export

    written = export(output_dir, output_dir, name=NAME, version=1, formats=("saved_model", "tflite_int8"),
                     overwrite=True, representative=calibration_views(views))
    keras_backend = KerasBackend(output_dir)
    reference = crossval.sigmoid(keras_backend.logits(views))
    cut = keras_backend.calibration["threshold"]
    parity = {}
    for fmt, backend in (("saved_model", SavedModelBackend(written["saved_model"]["path"])),
                         ("tflite_int8", TFLiteBackend(written["tflite_int8"]["path"]))):
        probs = crossval.sigmoid(backend.logits(views))
        parity[fmt] = {"path": written[fmt]["path"], "max_abs_delta_prob": float(np.abs(probs - reference).max()),
                       "same_label": float(np.mean((probs >= cut) == (reference >= cut)))}
    return parity
