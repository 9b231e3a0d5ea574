"""ResNet18 / ResNet34 with basic blocks (He et al., 2016), and a tiny one for tests.

keras.applications has no ResNet18/34, so they are written here, in the
torchvision layout the study used: 7x7/2 stem, 3x3/2 max-pool, four stages of
basic blocks (64, 128, 256, 512 filters), 1x1 projection shortcuts where the
shape changes, global average pooling.
"""

import keras

from synthdet_tf.models.heads import logit_head, model_input

# tiny's widths are multiples of 16 on purpose: with 8-channel convolutions,
# TF 2.21's oneDNN kernels corrupted the heap on the reference CPU when
# training at 48 and 64 px (the process aborts; TF_ENABLE_ONEDNN_OPTS=0 avoids
# it). tests/test_models.py trains it at those sizes in a subprocess.
_STAGES = {
    "resnet18": ((2, 2, 2, 2), (64, 128, 256, 512)),
    "resnet34": ((3, 4, 6, 3), (64, 128, 256, 512)),
    "tiny": ((1, 1), (16, 32)),
}
_BN = {"epsilon": 1e-5, "momentum": 0.9}


def _conv_bn(x, filters, kernel, stride, name, relu=True):
    x = keras.layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(**_BN, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _basic_block(x, filters, stride, name):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, stride, f"{name}_proj", relu=False)
    y = _conv_bn(x, filters, 3, stride, f"{name}_a")
    y = _conv_bn(y, filters, 3, 1, f"{name}_b", relu=False)
    return keras.layers.ReLU(name=f"{name}_out")(keras.layers.Add(name=f"{name}_add")([shortcut, y]))


def features(x, name: str):
    """Pooled ResNet features of a normalised image batch."""
    blocks, widths = _STAGES[name]
    if name == "tiny":
        x = _conv_bn(x, widths[0], 3, 1, "stem")
    else:
        x = _conv_bn(x, 64, 7, 2, "stem")
        x = keras.layers.MaxPooling2D(3, 2, padding="same", name="stem_pool")(x)
    for stage, (n, filters) in enumerate(zip(blocks, widths)):
        for i in range(n):
            stride = 2 if i == 0 and stage > 0 else 1
            x = _basic_block(x, filters, stride, f"stage{stage + 1}_block{i + 1}")
    return keras.layers.GlobalAveragePooling2D(name="pool")(x)


def build(model_cfg, image_size: int) -> keras.Model:
    weights = model_cfg.get("weights")
    if weights == "imagenet":
        raise ValueError(
            f"No ImageNet weights ship for {model_cfg.backbone} in Keras. Pass a local weights file "
            "(--config.model.weights=/path/to/file.weights.h5), or use resnet50 / efficientnet_lite0."
        )
    inputs, x = model_input(model_cfg, image_size)
    model = keras.Model(inputs, logit_head(features(x, model_cfg.backbone), model_cfg), name=model_cfg.backbone)
    if weights:
        model.load_weights(weights, skip_mismatch=False)
    return model
