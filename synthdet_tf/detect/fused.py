"""A fused detector: the whole-image stream and the local stream, one logit per file.

    backend = load_backend("exported/synthdet_fused_v4.json")         # two members (any format) + fusion
    backend = load_backend("exported/synthdet/3")                      # one SavedModel (fused in the graph)
    logits = backend.score_contents([open(p, "rb").read() for p in paths])

Each member model sees its own views of the file (the whole image resized for
the whole-image stream; the grid of native crops for the local one, pooled by
the mean logit), and the file's logit is
`a_whole * z_whole + a_local * z_local + bias` (synthdet_tf/evaluate/fusion.py).
An image too small for one native crop has no local evidence: its z_local is
the neutral value fitted with the rule (the local stream's validation mean).

A fused model scores files, not pre-cut views (`scores_files`). `Detector`
probes a file once and asks the backend for its views of it (`views_of`),
which it scores in batches (`logits_of_views`); `stream_logits` also gives
each stream's per-view logits, which the app draws (the crop map is the
verdict's own crops and logits). `score_contents(bytes)` does all three.
"""

import dataclasses
import json
import os

import numpy as np

from synthdet_tf.data.pillow_io import probe
from synthdet_tf.detect.base import Backend
from synthdet_tf.detect.views import decode_as_trained, decode_views, logits_per_file, model_views, pool_logits, view_boxes

FUSED_FILE = "fusion.json"


@dataclasses.dataclass
class StreamViews:
    """One file's views for each stream, cut from one probe and one decode per scale (`views.decode_views`)."""

    whole: np.ndarray  # uint8 [1, S, S, 3]: the whole-image stream's view
    local: np.ndarray  # uint8 [V, s, s, 3]: the native crops (`views.view_boxes`), or the policy's one view
    has_crop: bool  # False: the image holds no native crop, so the local stream has no evidence


@dataclasses.dataclass
class StreamLogits:
    """What a fused detector found in one file: the fused logit and each stream's per-view logits."""

    logit: float
    whole: np.ndarray  # float32 [1]
    local: np.ndarray | None  # float32 [V], per crop, what z_local pooled; None where a graph keeps them
    has_crop: bool


def stream_pair(params: dict, streams: StreamLogits) -> dict:
    """{"whole_logit", "local_logit"} of one file: each stream's pooled logit (the local one None without a native
    crop); a fused SavedModel keeps its crops in the graph, so there the local one is solved from the fusion."""
    whole = float(pool_logits(streams.whole))
    if not streams.has_crop:
        local = None
    elif streams.local is not None:
        local = float(pool_logits(streams.local))
    else:
        local = (streams.logit - params["a_whole"] * whole - params["bias"]) / params["a_local"]
    return {"whole_logit": whole, "local_logit": local}


def fuse(params: dict, z_whole, z_local, has_crop) -> np.ndarray:
    """The fused logit; where a file held no native crop, the local stream's neutral value stands in."""
    z_local = np.where(np.asarray(has_crop, bool), np.asarray(z_local, float), params["local_neutral"])
    return (params["a_whole"] * np.asarray(z_whole, float) + params["a_local"] * z_local + params["bias"]).astype(np.float32)


def _has_crop(info, spec) -> bool:
    """Whether a member finds native evidence in a file of this `probe`: a crop member needs a native crop
    (`views.view_boxes`, as `preprocess.tiling` in a fused SavedModel); a one-view member always has its view."""
    return spec.crops == 1 or bool(view_boxes(info.height, info.width, spec, spec.crops))


def member_logits(backend, contents_list) -> tuple[np.ndarray, np.ndarray]:
    """(pooled logit per file, whether the file held at least one native crop) for one member model alone."""
    infos = [probe(c, verify=False) for c in contents_list]  # decoding the views checks every byte
    views = [model_views(c, backend.spec, info=i) for c, i in zip(contents_list, infos)]
    pooled = np.array([pool_logits(v) for v in logits_per_file(backend, views)], np.float32)
    return pooled, np.array([_has_crop(i, backend.spec) for i in infos])


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

    def views_of(self, contents: bytes, info=None, keep_image: bool = False) -> tuple[StreamViews, np.ndarray | None]:
        """(both streams' views of one file, its native decode if `keep_image`); `info`: its `probe`, if made.

        Without `info` the probe reads headers only: decoding the views reads every byte and raises
        `BadImageError` on a truncated file, so a verifying probe would decode it once more.
        """
        info = info or probe(contents, verify=False)
        (whole, local), image = decode_views(contents, info, [(self.whole.spec, None), (self.local.spec, None)], keep_image)
        return StreamViews(whole, local, _has_crop(info, self.local.spec)), image

    def stream_logits(self, views_list: list[StreamViews]) -> list[StreamLogits]:
        """Per file, each stream's view logits and the fused logit; each member runs once over the batch."""
        whole = logits_per_file(self.whole, [v.whole for v in views_list])
        local = logits_per_file(self.local, [v.local for v in views_list])
        has_crop = [v.has_crop for v in views_list]
        fused = fuse(self.params, [pool_logits(w) for w in whole], [pool_logits(z) for z in local], has_crop)
        return [StreamLogits(float(f), w, z, h) for f, w, z, h in zip(fused, whole, local, has_crop)]

    def logits_of_views(self, views_list) -> np.ndarray:
        """float32 [files]: the fused logit of each file's `views_of`."""
        return np.array([s.logit for s in self.stream_logits(views_list)], np.float32)

    def score_contents(self, contents_list) -> np.ndarray:
        return self.logits_of_views([self.views_of(c)[0] for c in contents_list])

    def logits(self, images):
        raise TypeError("A fused model scores files (views_of, logits_of_views), not pre-cut views")

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


@dataclasses.dataclass
class GraphFile:
    """What a fused SavedModel scores of one file: its bytes (the graph decodes and cuts them)."""

    contents: bytes
    has_crop: bool


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

    def views_of(self, contents: bytes, info=None, keep_image: bool = False) -> tuple["GraphFile", np.ndarray | None]:
        """The file's bytes: this model cuts both streams' views in its graph (`serving_default`)."""
        info = info or probe(contents, verify=False)  # the graph's decode rejects a truncated file
        image = decode_as_trained(contents, info.needs_pillow) if keep_image else None
        return GraphFile(contents, _has_crop(info, self.local.spec)), image

    def stream_logits(self, views_list: list["GraphFile"]) -> list[StreamLogits]:
        """As FusedBackend's, but the per-crop logits stay in the graph (it returns their mean)."""
        out = self._serve([v.contents for v in views_list])
        return [StreamLogits(float(f), np.array([w], np.float32), None, v.has_crop)
                for f, w, v in zip(out["logit"].numpy(), out["whole_logit"].numpy(), views_list)]

    def score_contents(self, contents_list) -> np.ndarray:
        return self._serve(list(contents_list))["logit"].numpy()

    def _serve(self, contents_list) -> dict:
        import tensorflow as tf

        return self.loaded.signatures["serving_default"](image_bytes=tf.constant(contents_list))

    def train_config(self):
        return self._train_config

    def describe(self) -> dict:
        return {"kind": self.kind, "path": self.path, "preprocess": self.spec.to_dict(), "local_preprocess": self.local.spec.to_dict(),
                "fusion": self.params, "calibration": self.calibration}
