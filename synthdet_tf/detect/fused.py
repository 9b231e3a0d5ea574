"""A fused detector: the whole-image stream and the local stream, one logit per file.

    backend = load_backend("exported/tflite/synthdet_v3_fused.json")   # two TFLite files + fusion
    backend = load_backend("exported/synthdet/3")                      # one SavedModel (fused in the graph)
    logits = backend.score_contents([open(p, "rb").read() for p in paths])

Each member model sees its own views of the file (the whole image resized for
the whole-image stream; the grid of native crops for the local one, pooled by
the mean logit), and the file's logit is
`a_whole * z_whole + a_local * z_local + bias` (synthdet_tf/evaluate/fusion.py).
An image too small for one native crop has no local evidence: its z_local is
the neutral value fitted with the rule (the local stream's validation mean).

A fused model scores files, not pre-cut views (`scores_files`): `Detector`
and the app hand it the file's bytes.
"""

import json
import os

import numpy as np

from synthdet_tf.detect.base import Backend
from synthdet_tf.detect.views import logits_per_file, model_views, pool_logits, shared_views

FUSED_FILE = "fusion.json"


def fuse(params: dict, z_whole, z_local, has_crop) -> np.ndarray:
    """The fused logit; where a file held no native crop, the local stream's neutral value stands in."""
    z_local = np.where(np.asarray(has_crop, bool), np.asarray(z_local, float), params["local_neutral"])
    return (params["a_whole"] * np.asarray(z_whole, float) + params["a_local"] * z_local + params["bias"]).astype(np.float32)


def member_logits(backend, contents_list, views=None) -> tuple[np.ndarray, np.ndarray]:
    """(pooled logit per file, whether the file held at least one native crop) for one member model.

    `views`: the member's views of each file when the caller already made them.
    """
    views = [model_views(c, backend.spec) for c in contents_list] if views is None else views
    pooled = np.array([pool_logits(v) for v in logits_per_file(backend, views)], np.float32)
    return pooled, np.array([len(v) > 1 or backend.spec.crops == 1 for v in views])


class FusedBackend(Backend):
    """Two member backends (any format) and the fusion read from a fusion.json."""

    kind = "fused"
    scores_files = True

    def __init__(self, path: str, load, **member_kwargs):
        """`load`: path -> member backend (`backends.load_backend`, passed in to keep imports one-way)."""
        self.path = path
        with open(path) as f:
            doc = json.load(f)
        folder = os.path.dirname(os.path.abspath(path))
        self.whole = load(os.path.join(folder, doc["whole"]), **member_kwargs)
        self.local = load(os.path.join(folder, doc["local"]), **member_kwargs)
        self.params, self.calibration = doc["fusion"], doc["calibration"]
        self.spec = self.whole.spec  # what the heatmap and the page show

    def score_contents(self, contents_list) -> np.ndarray:
        views = [shared_views(c, (self.whole.spec, self.local.spec)) for c in contents_list]
        z_whole, _ = member_logits(self.whole, contents_list, [v[0] for v in views])
        z_local, has_crop = member_logits(self.local, contents_list, [v[1] for v in views])
        return fuse(self.params, z_whole, z_local, has_crop)

    def logits(self, images):
        raise TypeError("A fused model scores files (score_contents), not pre-cut views")

    def train_config(self):
        return self.whole.train_config()

    def describe(self) -> dict:
        return {"kind": self.kind, "path": self.path, "whole": self.whole.describe(), "local": self.local.describe(),
                "fusion": self.params, "calibration": self.calibration}


def write(path: str, whole: str, local: str, params: dict, calibration: dict) -> None:
    """A fusion.json naming its two members by paths relative to it."""
    folder = os.path.dirname(os.path.abspath(path))
    doc = {"format": "synthdet fused detector", "whole": os.path.relpath(whole, folder), "local": os.path.relpath(local, folder),
           "fusion": params, "calibration": calibration,
           "how": "logit = a_whole * z_whole + a_local * z_local + bias, z_local = local_neutral when the image holds no "
                  "native crop; fake_probability = sigmoid(logit / temperature); FAKE if >= threshold"}
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)


class _SignatureMember:
    """The local stream inside a fused SavedModel, behind the backend interface (`local_crops`)."""

    kind = "saved_model"

    def __init__(self, fn, spec):
        self.fn, self.spec = fn, spec

    def logits(self, images):
        import tensorflow as tf

        return self.fn(crops=tf.constant(images, tf.uint8))["logit"].numpy().reshape(-1)


class FusedSavedModelBackend(FusedBackend):
    """A fused SavedModel (synthdet_tf/export/fused_saved_model.py): files go through `serving_default`."""

    kind = "fused_saved_model"

    def __init__(self, path: str):
        import tensorflow as tf

        from synthdet_tf.detect import calibration
        from synthdet_tf.preprocess import PreprocessSpec

        self.path = path
        self.loaded = tf.saved_model.load(path)
        assets = os.path.join(path, "assets")
        with open(os.path.join(assets, FUSED_FILE)) as f:
            doc = json.load(f)
        self.params = doc["fusion"]
        self.spec = PreprocessSpec.from_dict(doc["whole"]["preprocess"])
        self.calibration = calibration.load(os.path.join(assets, calibration.CALIBRATION_FILE))
        self.whole = None
        self.local = _SignatureMember(self.loaded.signatures["local_crops"], PreprocessSpec.from_dict(doc["local"]["preprocess"]))
        with open(os.path.join(assets, "train_config.json")) as f:
            self._train_config = json.load(f).get("whole")

    def score_contents(self, contents_list) -> np.ndarray:
        import tensorflow as tf

        return self.loaded.signatures["serving_default"](image_bytes=tf.constant(list(contents_list)))["logit"].numpy()

    def train_config(self):
        return self._train_config

    def describe(self) -> dict:
        return {"kind": self.kind, "path": self.path, "preprocess": self.spec.to_dict(), "local_preprocess": self.local.spec.to_dict(),
                "fusion": self.params, "calibration": self.calibration}
