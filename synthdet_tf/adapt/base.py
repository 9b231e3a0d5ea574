"""The model an adaptation starts from, as Keras: its pooled features and its own head.

Every shipped whole-image model ends in one Dense logit over pooled backbone
features. An adaptation keeps the backbone frozen and refits that one layer,
so the adapted model has the base's exact architecture and preprocessing:
export, detect, scan, the app, TF Serving and TFLite take it unchanged.

A base may be a training workdir (best.keras) or an exported SavedModel: the
SavedModel keeps its weights in the Keras model's order (export/saved_model.py
tracks `model.weights`), so the architecture rebuilt from its train_config.json
takes them one for one.
"""

import dataclasses
import json
import os

import numpy as np

HEAD_LAYER = "logit"


@dataclasses.dataclass
class Base:
    model: object  # keras.Model, float32, uint8 [N, S, S, 3] -> logit [N]
    features: object  # keras.Model, same input -> pooled features [N, D]
    train_config: dict
    spec: object  # PreprocessSpec
    calibration: dict
    path: str

    def head(self) -> tuple[np.ndarray, float]:
        """(kernel [D], bias) of the base's own logit layer."""
        kernel, bias = self.model.get_layer(HEAD_LAYER).get_weights()
        return kernel[:, 0].astype(np.float64), float(bias[0])


def _rebuild(train_config: dict):
    import keras
    import ml_collections

    import synthdet_tf.models  # noqa: F401  custom layers
    from synthdet_tf.models import build_model

    model_cfg = ml_collections.ConfigDict(train_config["model"])
    if model_cfg.backbone == "local":
        raise ValueError("a local-evidence model scores crops, not one view: adapt a whole-image base (e.g. exported/synthdet/2)")
    model_cfg.weights, model_cfg.dropout = "", 0.0  # the base's weights come next; dropout does nothing here
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        return build_model(model_cfg, int(train_config["data"]["image_size"]))
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _from_saved_model(path: str):
    import tensorflow as tf

    with open(os.path.join(path, "assets", "train_config.json")) as f:
        train_config = json.load(f)
    model = _rebuild(train_config)
    loaded = tf.saved_model.load(path)
    weights = list(getattr(loaded, "weights", []))
    if [tuple(w.shape) for w in weights] != [tuple(w.shape) for w in model.weights]:
        raise ValueError(f"{path}: its weights do not match the architecture its train_config.json describes")
    for w, v in zip(model.weights, weights):
        w.assign(v)
    return model, train_config


def load_base(path: str) -> Base:
    """A workdir or exported SavedModel dir -> Base (float32 Keras model, feature model, spec, calibration)."""
    import keras

    from synthdet_tf.detect.backends import load_backend
    from synthdet_tf.export.float_model import float32_model

    if path.endswith(".keras") and os.path.isfile(path):
        path = os.path.dirname(path) or "."  # a workdir's model file: the workdir holds its config
    if not os.path.isdir(path):
        raise FileNotFoundError(f"--base {path!r}: not a training workdir or SavedModel directory")
    backend = load_backend(path)  # checks the path and reads spec and calibration as detection does
    if backend.kind not in ("keras", "saved_model"):
        raise ValueError(f"--base {path!r} is a {backend.kind} model; adapt a whole-image workdir or SavedModel")
    if os.path.exists(os.path.join(path, "saved_model.pb")):
        model, train_config = _from_saved_model(path)
    else:
        model, train_config = float32_model(path)
    head = model.get_layer(HEAD_LAYER)
    features = keras.Model(model.inputs, head.input, name="features")
    return Base(model, features, train_config, backend.spec, dict(backend.calibration), path)


def embed(base: Base, views: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """uint8 [N, S, S, 3] model views -> float32 pooled features [N, D]."""
    out = [base.features(views[i : i + batch_size], training=False) for i in range(0, len(views), batch_size)]
    return np.concatenate([np.asarray(o, np.float32) for o in out]) if out else np.zeros((0, 0), np.float32)
