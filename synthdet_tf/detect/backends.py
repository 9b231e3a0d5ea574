"""Load a detector from any format synthdet writes, behind one interface.

    backend = load_backend("runs/lite0")            # training workdir (best.keras)
    backend = load_backend("model.keras")           # a Keras file
    backend = load_backend("exported/synthdet/1")   # SavedModel (TF Serving layout)
    backend = load_backend("model_int8.tflite")     # TFLite, with its .json sidecar
    backend = load_backend("fused.json")            # two streams fused (synthdet_tf/inference/fused.py)
    logits = backend.logits(uint8_images)           # [B, S, S, 3] -> float32 [B]

Each backend knows its `PreprocessSpec` (what the pixels must look like) and
its calibration (threshold, temperature), read from the files stored with
the model, so evaluation and detection never guess them.
"""

import glob
import json
import logging
import os

import numpy as np

from synthdet_tf.detect import calibration
from synthdet_tf.detect import layout
from synthdet_tf.detect.base import Backend
from synthdet_tf.preprocess import PreprocessSpec

WORKDIR_MODEL = "best.keras"


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def _calibration_or_default(path: str | None) -> dict:
    if path and os.path.exists(path):
        return calibration.load(path)
    return dict(calibration.DEFAULT)


class KerasBackend(Backend):
    kind = "keras"

    def __init__(self, path: str):
        import keras

        import synthdet_tf.models  # noqa: F401  registers the custom layers

        self.workdir = path if os.path.isdir(path) else None
        self.path = os.path.join(path, WORKDIR_MODEL) if self.workdir else path
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"No Keras model at {self.path}")
        import tensorflow as tf

        self.model = keras.saving.load_model(self.path, compile=False)
        # Traced once per batch size: eager calls through ~250 layers cost ~8x more per image.
        self._fn = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)
        folder = self.folder = self.workdir or os.path.dirname(os.path.abspath(self.path))
        self.spec = self._spec(folder)
        self.calibration_path = os.path.join(folder, calibration.CALIBRATION_FILE)
        self.calibration = _calibration_or_default(self.calibration_path)

    def train_config(self):
        config_path = os.path.join(self.folder, "config.json")
        return _read_json(config_path) if os.path.exists(config_path) else None

    def _spec(self, folder):
        cfg = self.train_config()
        if cfg:
            return PreprocessSpec.from_train_config(cfg)
        # A lone .keras file: size and backbone are in the model; the policy is not.
        backbone = self.model.get_layer("normalize").backbone
        size = int(self.model.input_shape[1])
        logging.warning("No config.json next to %s: assuming input policy 'resize' at %d px", self.path, size)
        return PreprocessSpec("resize", size, backbone)

    def logits(self, images):
        return np.asarray(self._fn(np.asarray(images)), np.float32).reshape(-1)


class SavedModelBackend(Backend):
    """An exported SavedModel; runs its `predict_images` signature (decoded uint8)."""

    kind = "saved_model"

    def __init__(self, path: str):
        import tensorflow as tf

        self.path = path
        self.loaded = tf.saved_model.load(path)
        self.fn = self.loaded.signatures["predict_images"]
        self.spec = PreprocessSpec.from_dict(_read_json(os.path.join(path, "assets", layout.PREPROCESS_FILE)))
        self.calibration = _calibration_or_default(os.path.join(path, "assets", calibration.CALIBRATION_FILE))

    def train_config(self):
        path = os.path.join(self.path, "assets", layout.TRAIN_CONFIG_FILE)
        return _read_json(path) if os.path.exists(path) else None

    def logits(self, images):
        import tensorflow as tf

        return self.fn(images=tf.constant(images, tf.uint8))["logit"].numpy().reshape(-1)


class TFLiteBackend(Backend):
    """A .tflite file run with ai_edge_litert; spec and calibration from its sidecar JSON."""

    kind = "tflite"

    def __init__(self, path: str, num_threads: int | None = None):
        from synthdet_tf.detect import tflite_runtime

        self.path = path
        self.runner = tflite_runtime.Runner(path, num_threads=num_threads)
        meta = self.meta = tflite_runtime.read_sidecar(path)
        self.spec = PreprocessSpec.from_dict(meta["preprocess"])
        self.calibration = meta.get("calibration") or dict(calibration.DEFAULT)

    def train_config(self):
        return self.meta.get("train_config")

    def logits(self, images):
        return self.runner.logits(images)


def is_saved_model(path: str) -> bool:
    return os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb"))


def load_backend(path: str, **kwargs) -> Backend:
    """The backend for `path`: workdir, .keras, SavedModel directory or .tflite file."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model at {path}")
    if path.endswith(".tflite"):
        return TFLiteBackend(path, **kwargs)
    if path.endswith(".json"):
        from synthdet_tf.detect.fused import FusedBackend

        return FusedBackend(path, load_backend, **kwargs)
    if is_saved_model(path):
        if os.path.exists(os.path.join(path, "assets", "fusion.json")):
            from synthdet_tf.detect.fused import FusedSavedModelBackend

            return FusedSavedModelBackend(path)
        return SavedModelBackend(path)
    if path.endswith(".keras") or os.path.exists(os.path.join(path, WORKDIR_MODEL)):
        return KerasBackend(path)
    if os.path.isdir(path):
        versions = sorted(glob.glob(os.path.join(path, "*", "saved_model.pb")))
        if versions:
            raise ValueError(
                f"{path} is a TF Serving model folder; pass one version, e.g. {os.path.dirname(versions[-1])}"
            )
    raise ValueError(
        f"Cannot tell what model {path} is: expected a training workdir (with {WORKDIR_MODEL}), "
        "a .keras file, a SavedModel directory or a .tflite file"
    )
