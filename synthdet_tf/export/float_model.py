"""The model to export: a float32 rebuild of a trained one.

Training may run under mixed_float16 / mixed_bfloat16; a served or mobile
graph must not (TF Serving clients and TFLite kernels expect float32, and a
mixed_bfloat16 graph does not even convert: "'tf.Pad' op is neither a custom
op nor a flex op"). Variables are float32 under every Keras policy, so the
same weights go into the same architecture built under float32.
"""

import json
import os

import keras
import ml_collections
import numpy as np

from synthdet_tf.detect.backends import WORKDIR_MODEL


def load_train_config(workdir: str) -> dict:
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: --workdir must be a synthdet-train run directory")
    with open(path) as f:
        return json.load(f)


def float32_model(workdir: str, model_file: str = WORKDIR_MODEL) -> tuple[keras.Model, dict]:
    """(float32 Keras model with the run's trained weights, the run's config)."""
    import synthdet_tf.models  # noqa: F401  custom layers
    from synthdet_tf.models import build_model

    config = load_train_config(workdir)
    trained = keras.saving.load_model(os.path.join(workdir, model_file), compile=False)
    model_cfg = ml_collections.ConfigDict(config["model"])
    model_cfg.weights = ""  # the trained weights come next; no ImageNet download or file needed
    # Dropout does nothing at inference, but its seed-generator variable would
    # stay a live resource variable in TFLite (READ_VARIABLE, NaN output).
    model_cfg.dropout = 0.0
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        model = build_model(model_cfg, int(config["data"]["image_size"]))
    finally:
        keras.mixed_precision.set_global_policy(previous)
    weights = trained.get_weights()
    if [w.shape for w in weights] != [w.shape for w in model.get_weights()]:
        raise ValueError(f"{workdir}/{model_file} does not match the architecture its config.json describes")
    model.set_weights([np.asarray(w, np.float32) for w in weights])
    return model, config
