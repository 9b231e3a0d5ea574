"""The runtime half of calibration: the sigmoid and the threshold file a model carries.

Detection needs one sigmoid and one small JSON document (`calibration.json` in a
workdir, `assets/` of a SavedModel, a TFLite file's sidecar); fitting the
threshold and temperature on validation data is evaluation's job
(`synthdet_tf.evaluate.calibration`, which imports scipy and sklearn), so
`synthdet-detect` loads neither.
"""

import json
import os

import numpy as np

CALIBRATION_FILE = "calibration.json"
DEFAULT = {"threshold": 0.5, "temperature": 1.0, "method": "default", "chosen_on": None}


def sigmoid(logits, temperature: float = 1.0):
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, np.float64) / temperature))


def save(doc: dict, path: str, overwrite: bool = False) -> None:
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
    os.replace(tmp, path)


def load(path: str) -> dict:
    with open(path) as f:
        doc = json.load(f)
    for key in ("threshold", "temperature"):
        if not isinstance(doc.get(key), (int, float)):
            raise ValueError(f"{path}: {key!r} missing or not a number")
    if not 0.0 <= doc["threshold"] <= 1.0 or doc["temperature"] <= 0:
        raise ValueError(f"{path}: threshold must be in [0, 1] and temperature > 0, got {doc}")
    return doc
