"""Models and folders with known answers, for the evaluation and export tests."""

import json
import pathlib

import keras
import numpy as np
from PIL import Image

from synthdet_tf.data.discovery import split_of
from synthdet_tf.preprocess import Normalize

SIZE = 16
# Mean brightness by split and class: the best threshold on val differs from the one on test.
BRIGHTNESS = {"train": (70, 130), "val": (70, 130), "test": (140, 200)}


def brightness_model(size=SIZE, backbone="tiny"):
    """A 'detector' whose logit is the mean brightness of the image: FAKE = bright."""
    inputs = keras.Input((size, size, 3), dtype="uint8", name="image")
    x = Normalize(backbone, name="normalize")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    dense = keras.layers.Dense(1, dtype="float32", name="logit")
    out = keras.layers.Reshape((), name="logit_flat")(dense(x))
    model = keras.Model(inputs, out)
    # Normalised channel means average out to (v/255 - 0.45)/0.226 for grey level v;
    # scale so 100 grey levels span ~10 logits, centred at grey 100.
    k = 10.0 * 0.226 * 255 / 100 / 3
    centre = (100 / 255 - 0.449) / 0.226
    dense.set_weights([np.full((3, 1), k, np.float32), np.array([-3 * k * centre], np.float32)])
    return model


def write_workdir(workdir: pathlib.Path, model, size=SIZE, backbone="tiny", policy="resize") -> pathlib.Path:
    workdir.mkdir(parents=True, exist_ok=True)
    model.save(workdir / "best.keras")
    config = {
        "data": {"policy": policy, "image_size": size, "fractions": [0.8, 0.1, 0.1], "split_salt": "", "source_from": "auto"},
        "model": {"backbone": backbone},
    }
    (workdir / "config.json").write_text(json.dumps(config))
    return workdir


def brightness_folder(root: pathlib.Path, n=160, size=24) -> pathlib.Path:
    """PNG folder whose class brightness depends on each file's split (see BRIGHTNESS)."""
    rng = np.random.default_rng(0)
    for label, cls in enumerate(("real", "fake")):
        for i in range(n):
            rel = f"{cls}/src{i % 2}__{cls}{i:03d}.png"
            lo = BRIGHTNESS[split_of(rel)][label]
            level = rng.uniform(lo - 25, lo + 35)
            pixels = np.clip(level + rng.normal(0, 8, (size, size, 3)), 0, 255).astype(np.uint8)
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(path)
    return root
