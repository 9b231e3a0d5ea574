"""SavedModel for TF Serving: bytes in, fake probability / logit / label out.

Signatures
- `serving_default`: `image_bytes` DT_STRING [batch], encoded files (what TF
  Serving's REST API hands over for `{"b64": ...}` instances). Decoding and
  the input policy run in the graph, with the code training used
  (`preprocess.eval_transform`). A crop model (`crops` > 1 in
  preprocess.json) scores its grid of native crops per file
  (`preprocess.tiling`) and returns the mean of their logits.
- `predict_images`: `images` DT_UINT8 [batch, H, W, 3], decoded RGB of any
  size (one size per batch); the input policy runs in the graph, giving one
  view per image. For a crop model that is one crop: send the grid's crops
  (S x S each) and average their logits, as `synthdet-detect` does, or
  send files to `serving_default`.
- `explain_images`: as `predict_images`, plus `heatmap` float32 [batch, S, S]
  (Grad-CAM, synthdet_tf/explain.py) and `view` uint8 [batch, S, S, 3], the
  model input the heatmap belongs to.
All return `fake_probability` float32 [batch], `logit` float32 [batch] and
`label` string [batch] (REAL / FAKE at the stored threshold).

The module tracks the Keras model's variables once, so the SavedModel is the
size of the weights (a plain Keras 3 `model.export` stored them twice here).
"""

import json
import os

import numpy as np
import tensorflow as tf

from synthdet_tf.data.discovery import LABEL_NAMES
from synthdet_tf.evaluate import calibration as calib
from synthdet_tf.detect import layout
from synthdet_tf.preprocess import PreprocessSpec, apply_policy, decode_image, eval_transform
from synthdet_tf.preprocess.tiling import grid_crops

MAX_PIXELS = 64_000_000  # as training's discovery: larger images are refused before decoding


def _be_u32(data, offset):
    """Big-endian uint32 at `offset` of a scalar string tensor."""
    raw = tf.io.decode_raw(tf.strings.substr(data, offset, 4), tf.uint8)
    raw = tf.cast(raw, tf.int64)
    return raw[0] * 16777216 + raw[1] * 65536 + raw[2] * 256 + raw[3]


def header_pixels(contents):
    """Width x height from the JPEG or PNG header (no decoding); -1 for other formats."""

    def png():
        return _be_u32(contents, 16) * _be_u32(contents, 20)

    def jpeg():
        shape = tf.cast(tf.image.extract_jpeg_shape(contents), tf.int64)
        return shape[0] * shape[1]

    is_png = tf.logical_and(tf.strings.length(contents) >= 24, tf.equal(tf.strings.substr(contents, 0, 8), b"\x89PNG\r\n\x1a\n"))
    return tf.case([(tf.io.is_jpeg(contents), jpeg), (is_png, png)], default=lambda: tf.constant(-1, tf.int64))


def within_pixel_limit(contents, max_pixels: int = MAX_PIXELS):
    """`contents`, made to fail the call when its header says it holds more than `max_pixels`."""
    check = tf.debugging.assert_less_equal(
        header_pixels(contents), tf.constant(max_pixels, tf.int64), message=f"image larger than {max_pixels} pixels"
    )
    with tf.control_dependencies([check]):
        return tf.identity(contents)


def verdict_outputs(logit, threshold: float, temperature: float) -> dict:
    """The outputs every synthdet signature returns, from float32 logits [batch]."""
    prob = tf.sigmoid(logit / temperature)
    label = tf.where(prob >= threshold, LABEL_NAMES[1], LABEL_NAMES[0])
    return {"fake_probability": prob, "logit": logit, "label": label}


def mean_crop_logits(model_fn, grids, size: int, k: int):
    """uint8 [batch, k, size, size, 3] crop grids -> float32 [batch]: the mean of each grid's crop logits."""
    logits = tf.cast(model_fn(tf.reshape(grids, [-1, size, size, 3])), tf.float32)
    return tf.reduce_mean(tf.reshape(logits, [-1, k]), axis=1)


class ServingModule(tf.Module):
    def __init__(self, model, spec: PreprocessSpec, calibration: dict, max_pixels: int = MAX_PIXELS):
        super().__init__()
        # Track the weights, not the Keras model: tracked as an object, a Keras
        # model adds a traced graph of its own beside ours (saved_model.pb 1.46 -> 0.93 MB here).
        self.weights = [getattr(v, "value", v) for v in model.weights]
        self._call = lambda images: model(images, training=False)  # not trackable, so not saved
        self.spec = spec
        self.threshold = float(calibration["threshold"])
        self.temperature = float(calibration["temperature"])
        self.max_pixels = int(max_pixels)
        self._image_spec = tf.TensorSpec([spec.image_size, spec.image_size, 3], tf.uint8)
        # One traced model graph that both signatures call: traced into each
        # signature instead, it would be stored once per signature.
        self._model_fn = tf.function(
            self._call, input_signature=[tf.TensorSpec([None, spec.image_size, spec.image_size, 3], tf.uint8)]
        ).get_concrete_function()
        from synthdet_tf.detect.explain import cam_model, grad_cam, logit_of

        two = cam_model(model)
        cut = logit_of(self.threshold, self.temperature)
        self._cam_fn = tf.function(
            lambda images: grad_cam(two, images, cut),
            input_signature=[tf.TensorSpec([None, spec.image_size, spec.image_size, 3], tf.uint8)],
        ).get_concrete_function()

    def signatures(self) -> dict:
        """Concrete functions for the two signatures.

        Made here rather than as tf.function attributes of the module: saved
        as attributes too, every graph would be stored twice.
        """
        serve = tf.function(self._serve_bytes, input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        images = tf.function(self._predict_images, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
        explain = tf.function(self._explain_images, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
        return {"serving_default": serve.get_concrete_function(), "predict_images": images.get_concrete_function(),
                "explain_images": explain.get_concrete_function()}

    def _prepare(self, contents, decoded=False):
        """The model's view of one file (or, `decoded`, the whole decoded image for a crop grid)."""
        contents = within_pixel_limit(contents, self.max_pixels)
        return decode_image(contents) if decoded else eval_transform(contents, self.spec)

    def _outputs(self, images):
        return verdict_outputs(tf.reshape(tf.cast(self._model_fn(images), tf.float32), [-1]), self.threshold, self.temperature)

    def _serve_bytes(self, image_bytes):
        if self.spec.crops > 1:  # a crop model: its grid of native crops per file, logits pooled by the mean
            k = self.spec.crops
            grids = tf.map_fn(lambda c: grid_crops(self._prepare(c, decoded=True), self.spec.image_size, k, self.spec.policy),
                              image_bytes, fn_output_signature=tf.TensorSpec([k, self.spec.image_size, self.spec.image_size, 3], tf.uint8))
            logit = mean_crop_logits(self._model_fn, grids, self.spec.image_size, k)
            return verdict_outputs(logit, self.threshold, self.temperature)
        images = tf.map_fn(self._prepare, image_bytes, fn_output_signature=self._image_spec)
        return self._outputs(images)

    def _views(self, images):
        policy = lambda im: apply_policy(im, self.spec.policy, self.spec.image_size, training=False)  # noqa: E731
        return tf.map_fn(policy, images, fn_output_signature=self._image_spec)

    def _predict_images(self, images):
        return self._outputs(self._views(images))

    def _explain_images(self, images):
        views = self._views(images)
        heatmap, _ = self._cam_fn(views)
        return {**self._outputs(views), "heatmap": heatmap, "view": views}


def weights_bytes(model) -> int:
    return int(sum(np.prod(v.shape) * np.dtype(v.dtype).itemsize for v in model.weights))


def write_assets(version_path, spec, calibration, train_config, extra=None):
    assets = os.path.join(version_path, "assets")
    os.makedirs(assets, exist_ok=True)
    with open(os.path.join(assets, layout.LABELS_FILE), "w") as f:
        f.write("\n".join(LABEL_NAMES) + "\n")
    files = {
        layout.PREPROCESS_FILE: {
            **spec.to_dict(),
            "input": "encoded image bytes (serving_default) or uint8 RGB [batch, H, W, 3] (predict_images)",
            "output": "fake_probability = sigmoid(logit / temperature); label = FAKE if fake_probability >= threshold",
        },
        calib.CALIBRATION_FILE: calibration,
        layout.TRAIN_CONFIG_FILE: train_config,
        **(extra or {}),
    }
    for name, obj in files.items():
        with open(os.path.join(assets, name), "w") as f:
            json.dump(obj, f, indent=2)


def save(model, spec, calibration, train_config, version_path, *, overwrite=False, warmup_images=(), model_name="synthdet"):
    """Writes one TF Serving version atomically; returns {"path", "bytes", "weights_bytes"}."""
    from synthdet_tf.export import warmup

    module = ServingModule(model, spec, calibration)
    with layout.atomic_dir(version_path, overwrite) as tmp:
        tf.saved_model.save(module, tmp, signatures=module.signatures())
        write_assets(tmp, spec, calibration, train_config)
        if warmup_images:
            warmup.write(os.path.join(tmp, "assets.extra", layout.WARMUP_FILE), warmup_images, model_name)
    return {"path": version_path, "bytes": layout.dir_bytes(version_path), "weights_bytes": weights_bytes(model)}
