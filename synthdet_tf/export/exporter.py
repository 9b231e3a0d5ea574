"""synthdet-export's work: one trained run in, every deployable format out.

    <export_dir>/<name>/<version>/               SavedModel for TF Serving
    <export_dir>/tflite/<name>_v<version>_<variant>.tflite (+ .json sidecar)

All formats come from one float32 rebuild of the run's best model, carry the
run's preprocessing and the threshold stored with it (`calibration.json`,
written by synthdet-evaluate), and are never written over an existing file
unless asked.
"""

import io
import json
import logging
import os

import numpy as np

from synthdet_tf.data.discovery import LABEL_NAMES, data_dirs, discover, subsample
from synthdet_tf.evaluate import calibration as calib
from synthdet_tf.evaluate.predict import data_config
from synthdet_tf.detect import layout
from synthdet_tf.export import saved_model, tflite
from synthdet_tf.export.float_model import float32_model
from synthdet_tf.preprocess import PreprocessSpec

FORMATS = ("saved_model", *tflite.VARIANTS)
N_REPRESENTATIVE = 256


def spec_of(train_config: dict) -> PreprocessSpec:
    return PreprocessSpec.from_train_config(train_config)


def calibration_of(workdir: str) -> dict:
    path = os.path.join(workdir, calib.CALIBRATION_FILE)
    if os.path.exists(path):
        return calib.load(path)
    logging.warning("%s not found (run synthdet-evaluate on the workdir first): exporting with threshold 0.5", path)
    return dict(calib.DEFAULT)


def tflite_path(export_dir: str, name: str, version: int, variant: str) -> str:
    return os.path.join(export_dir, "tflite", f"{name}_v{int(version)}_{variant.replace('tflite_', '')}.tflite")


def representative_images(train_config: dict, spec: PreprocessSpec, data_dir: str | None, n: int = N_REPRESENTATIVE) -> np.ndarray:
    """n training-split images after the input policy (uint8), for int8 calibration."""
    from synthdet_tf.data.pipeline import make_dataset

    d = train_config["data"]
    folder = data_dir or d.get("data_dir")
    if not folder or not all(os.path.isdir(f) for f in data_dirs(folder)):
        raise FileNotFoundError(f"int8 calibration needs the training images: pass --data_dir (config says {folder!r})")
    found = discover(folder, fractions=tuple(d["fractions"]), salt=d["split_salt"], source_from=d["source_from"])
    held = set(d.get("held_out_sources") or ())  # never seen in training, so not in calibration either
    records = subsample([r for r in found.split("train") if r.source not in held], n)
    if len(records) < tflite.MIN_REPRESENTATIVE:
        raise ValueError(f"Only {len(records)} training images in {folder}; int8 needs {tflite.MIN_REPRESENTATIVE}")
    ds = make_dataset(records, data_config(spec), batch_size=64, training=False)
    return np.concatenate([images.numpy() for images, _ in ds])


def warmup_images(size: int) -> list[bytes]:
    """Two small JPEGs of photographs that ship with scikit-learn, for TF Serving's warmup."""
    from PIL import Image

    from synthdet_tf.corpus.sample import bundled_photos

    out = []
    for _, path in list(bundled_photos())[1:3]:
        with Image.open(path) as im:
            buf = io.BytesIO()
            im.convert("RGB").resize((size, size)).save(buf, "JPEG", quality=90)
            out.append(buf.getvalue())
    return out


def sidecar(spec, calibration, variant, input_details=None, train_config=None) -> dict:
    return {
        "train_config": train_config,
        "format": variant,
        "labels": list(LABEL_NAMES),
        "preprocess": spec.to_dict(),
        "calibration": calibration,
        "input": {
            "name": "image",
            "shape": [1, spec.image_size, spec.image_size, 3],
            "dtype": "uint8",
            "meaning": f"RGB pixels 0-255 after the '{spec.policy}' policy to {spec.image_size} px; "
            f"the model normalises them itself ({spec.to_dict()['normalization']})",
            **(input_details or {}),
        },
        "output": {"name": "logit", "dtype": "float32", "meaning": "fake_probability = sigmoid(logit / temperature); FAKE if >= threshold"},
        **({"tiling": tiling(spec)} if spec.crops > 1 else {}),
    }


def tiling(spec) -> dict:
    """How an app cuts one image into the crops this model scores (synthdet_tf/preprocess/tiling.py)."""
    from synthdet_tf.preprocess.tiling import grid_side

    n = grid_side(spec.crops)
    return {
        "crops": spec.crops,
        "grid": [n, n],
        "crop_size": spec.image_size,
        "how": f"no resizing: {n} x {n} crops of {spec.image_size} x {spec.image_size} native pixels, tops at "
               f"round(linspace(0, H - {spec.image_size}, {n})) and lefts at round(linspace(0, W - {spec.image_size}, {n})) "
               f"(round half to even); an image smaller than {spec.image_size} px on a side: one centre crop of it "
               "reflect-padded to the crop size",
        "pool": "logit = mean of the crops' logits, then fake_probability = sigmoid(logit / temperature)",
    }


def export(workdir, export_dir, *, name="synthdet", version=1, formats=FORMATS, overwrite=False, data_dir=None,
           representative=None) -> dict:
    """`representative`: uint8 model views for int8 calibration, when the run's training images are not the right
    ones (an adapted model calibrates on its own adaptation set)."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"Unknown formats {sorted(unknown)}; choose from {FORMATS}")
    # Refuse before any work when a target exists.
    targets = {f: layout.version_dir(export_dir, name, version) if f == "saved_model" else tflite_path(export_dir, name, version, f) for f in formats}
    for path in targets.values():
        layout.check_free(path, overwrite)
    model, train_config = float32_model(workdir)
    spec, calibration = spec_of(train_config), calibration_of(workdir)
    written = {}
    if "saved_model" in formats:
        info = saved_model.save(
            model, spec, calibration, train_config, targets["saved_model"], overwrite=overwrite,
            warmup_images=warmup_images(spec.image_size), model_name=name,
        )
        written["saved_model"] = info
        logging.info("SavedModel: %s (%.1f MB; weights %.1f MB)", info["path"], info["bytes"] / 1e6, info["weights_bytes"] / 1e6)
    # an explicit set (adaptation) or, at the first int8 variant, the run's training images
    for variant in [f for f in formats if f != "saved_model"]:
        if variant == "tflite_int8" and representative is None:
            representative = representative_images(train_config, spec, data_dir)
        data = tflite.convert(model, variant, representative if variant == "tflite_int8" else None)
        path = targets[variant]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        meta = sidecar(
            spec, calibration, variant, {"representative_images": len(representative)} if variant == "tflite_int8" else None, train_config
        )
        layout.atomic_file(path + ".json", json.dumps(meta, indent=2).encode(), overwrite)
        layout.atomic_file(path, data, overwrite)
        written[variant] = {"path": path, "bytes": len(data)}
        logging.info("%s: %s (%.2f MB)", variant, path, len(data) / 1e6)
    return written
