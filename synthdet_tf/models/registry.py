"""Model names (as configs write them) -> builders with one signature."""

from synthdet_tf.models import applications, efficientnet_lite, local, resnet

MODELS = {
    "tiny": resnet.build,
    "resnet18": resnet.build,
    "resnet34": resnet.build,
    "resnet50": applications.build,
    "efficientnet_lite0": efficientnet_lite.build,
    "efficientnet_lite2": efficientnet_lite.build,
    "local": local.build,
}


def build_model(model_cfg, image_size: int):
    """`model_cfg.backbone` names the model; it also picks the normalisation."""
    if model_cfg.backbone not in MODELS:
        raise ValueError(f"Unknown model {model_cfg.backbone!r}; choose one of {sorted(MODELS)}")
    return MODELS[model_cfg.backbone](model_cfg, image_size)
