"""The local-evidence stream: a fixed residual, a few small convolutions, one score per patch.

Generators leave their traces in how neighbouring pixels depend on each other
(upsampling layers, decoders); resizing the whole image erases them (NPR, Tan
et al. CVPR 2024; Tiny-LaDeDa, Cavia et al. 2024). This model therefore sees
native-resolution crops (config `data.policy = "random_crop"`), never a
resized image, and looks at a few pixels at a time:

    uint8 crop -> Normalize -> residual (fixed) -> 3x3 / 1x1 convolutions, two stride-2
              -> per-patch logit map -> mean over the map -> one float32 logit

- `model.residual`: `npr` (x - up(down(x)), nearest, factor 2), `median`
  (x - the median of its 8 neighbours, FerretNet's local pixel dependency),
  or `none` (the first convolution learns its own filter).
- The receptive field is `RECEPTIVE_FIELD` px, so each cell of the logit map
  scores one small patch (`patch_model` returns that map; the app draws one
  score per 128 px crop, the mean of its patches). The mean over the map is a
  linear pooling, so a crop's logit is the mean of its patches' logits.
- `model.width` scales the channels (default 16: 16, 32, 64).

Inference pools crops (`data.crops`, see `synthdet_tf.detect.views`).
"""

import keras

from synthdet_tf.models.heads import NPRResidual
from synthdet_tf.preprocess import Normalize

RESIDUALS = ("npr", "median", "none")
PATCH_MAP = "patch_logits"
# 3x3 (s1) -> 3x3 (s2) -> 1x1 -> 3x3 (s2) -> 1x1 -> 1x1, plus NPR's 2x2 cell.
RECEPTIVE_FIELD = 10


@keras.saving.register_keras_serializable(package="synthdet")
class MedianResidual(keras.layers.Layer):
    """x - median of the 8 neighbours of each pixel (3x3, centre masked), edges replicated.

    The median of 8 values is the mean of the 4th and 5th smallest; `top_k`
    finds them and runs in TFLite.
    """

    def call(self, x):
        h, w = keras.ops.shape(x)[1], keras.ops.shape(x)[2]
        padded = keras.ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="symmetric")
        shifts = [padded[:, dy : dy + h, dx : dx + w, :] for dy in range(3) for dx in range(3) if (dy, dx) != (1, 1)]
        stack = keras.ops.stack(shifts, axis=-1)
        top5 = keras.ops.top_k(stack, 5)[0]
        return x - 0.5 * (top5[..., 3] + top5[..., 4])

    def compute_output_shape(self, input_shape):
        return input_shape


def _residual(x, kind: str):
    if kind == "npr":
        return NPRResidual(name="npr_residual")(x)
    if kind == "median":
        return MedianResidual(name="median_residual")(x)
    if kind == "none":
        return x
    raise ValueError(f"Unknown residual {kind!r}; choose one of {RESIDUALS}")


def _conv(x, filters, kernel, stride, name):
    x = keras.layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def patch_logits(x, width: int):
    """Residual features -> float32 logit map [B, S/4, S/4, 1], one logit per small patch.

    Only the first convolution runs at full resolution, with few channels:
    per pixel, that is where the cost is on 2 CPU cores.
    """
    x = _conv(x, width, 3, 1, "local1")
    x = _conv(x, 2 * width, 3, 2, "local2")
    x = _conv(x, 2 * width, 1, 1, "local3")
    x = _conv(x, 4 * width, 3, 2, "local4")
    x = _conv(x, 4 * width, 1, 1, "local5")
    return keras.layers.Conv2D(1, 1, dtype="float32", name=PATCH_MAP)(x)


def build(model_cfg, image_size: int) -> keras.Model:
    """Same signature as every builder; `image_size` is the crop side (a multiple of 4)."""
    if image_size % 4:
        raise ValueError(f"The local model needs a crop side divisible by 4, got {image_size}")
    if model_cfg.get("weights"):
        raise ValueError("The local model trains from scratch: no pretrained weights exist for it (model.weights must be empty)")
    inputs = keras.Input((image_size, image_size, 3), dtype="uint8", name="image")
    x = Normalize(model_cfg.backbone, name="normalize")(inputs)
    x = _residual(x, model_cfg.get("residual", "npr"))
    logit_map = patch_logits(x, int(model_cfg.get("width", 16)))
    pooled = keras.layers.GlobalAveragePooling2D(dtype="float32", name="pool")(logit_map)
    logit = keras.layers.Reshape((), dtype="float32", name="logit_flat")(pooled)
    return keras.Model(inputs, logit, name="local")


def patch_model(model: keras.Model) -> keras.Model:
    """The same network returning its patch logit map [B, S/4, S/4, 1] (the evidence per patch)."""
    return keras.Model(model.inputs, model.get_layer(PATCH_MAP).output, name="local_patches")
