"""One SavedModel holding both streams and their fusion, for TF Serving.

Signatures (outputs as every synthdet SavedModel, plus `whole_logit` and
`local_logit`, each stream's own):
- `serving_default`: `image_bytes` DT_STRING [batch]. Each file is decoded
  at native resolution for the local model's crop grid (`preprocess.tiling`),
  whose logits are averaged; a JPEG is decoded a second time for the
  whole-image view, as that model was trained (reduced DCT scale), while any
  other file's native decode serves both (`inference.views.shared_views`).
- `predict_images`: `images` DT_UINT8 [batch, H, W, 3], decoded RGB, one size
  per batch; the same two views are cut in the graph.
- `explain_images`: as `predict_images`, plus the whole-image stream's Grad-CAM
  `heatmap` [batch, S, S] and the `view` it belongs to.
- `local_crops`: `crops` DT_UINT8 [n, s, s, 3], native crops -> the local
  stream's `logit` per crop (the app's per-crop map).
The fused logit is `a_whole * whole_logit + a_local * local_logit + bias`,
with `local_logit` replaced by the fitted neutral value when the image is
smaller than one native crop (assets/fusion.json holds the numbers).
"""

import json
import os

import tensorflow as tf

from synthdet_tf.detect import layout
from synthdet_tf.export.saved_model import mean_crop_logits, verdict_outputs, weights_bytes, within_pixel_limit, write_assets
from synthdet_tf.preprocess import apply_policy, decode_image, eval_transform
from synthdet_tf.preprocess.tiling import grid_crops


class FusedServingModule(tf.Module):
    """`whole`: a loaded synthdet SavedModel (tf.saved_model.load; its `predict_images` and
    `explain_images` run on the whole-image views), tracked so its variables are saved with ours;
    `local_model`: the float32 Keras local model."""

    def __init__(self, whole, whole_spec, local_model, local_spec, params: dict, calibration: dict):
        super().__init__()
        self.whole = whole
        self.local_weights = [getattr(v, "value", v) for v in local_model.weights]
        self.whole_spec, self.local_spec, self.k = whole_spec, local_spec, int(local_spec.crops)
        self.params = {k: float(params[k]) for k in ("a_whole", "a_local", "bias", "local_neutral")}
        self.threshold, self.temperature = float(calibration["threshold"]), float(calibration["temperature"])
        sw, sl = whole_spec.image_size, local_spec.image_size
        self._whole_fn = lambda views: whole.signatures["predict_images"](images=views)["logit"]
        self._cam_fn = lambda views: whole.signatures["explain_images"](images=views)["heatmap"]
        self._local_fn = tf.function(lambda x: local_model(x, training=False),
                                     input_signature=[tf.TensorSpec([None, sl, sl, 3], tf.uint8)]).get_concrete_function()
        self._views_spec = (tf.TensorSpec([sw, sw, 3], tf.uint8), tf.TensorSpec([self.k, sl, sl, 3], tf.uint8), tf.TensorSpec([], tf.bool))

    def signatures(self) -> dict:
        serve = tf.function(self._serve_bytes, input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        images = tf.function(self._predict_images, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
        explain = tf.function(self._explain_images, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
        sl = self.local_spec.image_size
        crops = tf.function(lambda crops: {"logit": tf.reshape(tf.cast(self._local_fn(crops), tf.float32), [-1])},
                            input_signature=[tf.TensorSpec([None, sl, sl, 3], tf.uint8, name="crops")])
        return {"serving_default": serve.get_concrete_function(), "predict_images": images.get_concrete_function(),
                "explain_images": explain.get_concrete_function(), "local_crops": crops.get_concrete_function()}

    def _local_views(self, image):
        has_crop = tf.reduce_min(tf.shape(image)[:2]) >= self.local_spec.image_size
        return grid_crops(image, self.local_spec.image_size, self.k, self.local_spec.policy), has_crop

    def _file_views(self, contents):
        contents = within_pixel_limit(contents)
        native = decode_image(contents)
        # Only a JPEG decodes differently for the whole-image view (at a reduced
        # DCT scale); any other file is decoded once for both streams.
        whole = tf.cond(tf.io.is_jpeg(contents), lambda: eval_transform(contents, self.whole_spec),
                        lambda: apply_policy(native, self.whole_spec.policy, self.whole_spec.image_size, training=False))
        return (whole, *self._local_views(native))

    def _image_views(self, image):
        whole = apply_policy(image, self.whole_spec.policy, self.whole_spec.image_size, training=False)
        return (whole, *self._local_views(image))

    def _outputs(self, whole_views, local_grids, has_crop):
        z_whole = tf.reshape(tf.cast(self._whole_fn(whole_views), tf.float32), [-1])
        z_local = mean_crop_logits(self._local_fn, local_grids, self.local_spec.image_size, self.k)
        p = self.params
        used = tf.where(has_crop, z_local, p["local_neutral"])
        logit = p["a_whole"] * z_whole + p["a_local"] * used + p["bias"]
        return {**verdict_outputs(logit, self.threshold, self.temperature), "whole_logit": z_whole, "local_logit": z_local}

    def _serve_bytes(self, image_bytes):
        return self._outputs(*tf.map_fn(self._file_views, image_bytes, fn_output_signature=self._views_spec))

    def _predict_images(self, images):
        return self._outputs(*tf.map_fn(self._image_views, images, fn_output_signature=self._views_spec))

    def _explain_images(self, images):
        views = tf.map_fn(self._image_views, images, fn_output_signature=self._views_spec)
        heatmap = self._cam_fn(views[0])
        return {**self._outputs(*views), "heatmap": heatmap, "view": views[0]}


def save(whole_path, local_model, local_spec, local_config, params, calibration, version_path, *, overwrite=False) -> dict:
    """Writes one TF Serving version fusing the SavedModel at `whole_path` with the local Keras model."""
    from synthdet_tf.preprocess import PreprocessSpec

    assets = os.path.join(whole_path, "assets")
    with open(os.path.join(assets, layout.PREPROCESS_FILE)) as f:
        whole_spec = PreprocessSpec.from_dict(json.load(f))
    with open(os.path.join(assets, layout.TRAIN_CONFIG_FILE)) as f:
        whole_config = json.load(f)
    module = FusedServingModule(tf.saved_model.load(whole_path), whole_spec, local_model, local_spec, params, calibration)
    fusion_doc = {"fusion": params, "whole": {"preprocess": whole_spec.to_dict(), "from": os.path.abspath(whole_path)},
                  "local": {"preprocess": local_spec.to_dict()}}
    with layout.atomic_dir(version_path, overwrite) as tmp:
        tf.saved_model.save(module, tmp, signatures=module.signatures())
        write_assets(tmp, whole_spec, calibration, {"whole": whole_config, "local": local_config}, extra={"fusion.json": fusion_doc})
    return {"path": version_path, "bytes": layout.dir_bytes(version_path), "local_weights_bytes": weights_bytes(local_model)}
