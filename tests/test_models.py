import socket

import keras
import numpy as np
import pytest
from ml_collections import ConfigDict

from synthdet_tf.models import MODELS, build_model
from synthdet_tf.models.heads import NPRResidual


def model_cfg(backbone, **kw):
    return ConfigDict({"backbone": backbone, "weights": "", "dropout": 0.0, "npr": False, **kw})


@pytest.mark.parametrize("backbone,size", [("tiny", 32), ("resnet18", 64), ("resnet34", 64), ("resnet50", 64), ("efficientnet_lite0", 64)])
def test_every_model_maps_uint8_images_to_one_float32_logit(backbone, size):
    model = build_model(model_cfg(backbone), size)
    x = np.random.default_rng(0).integers(0, 256, (2, size, size, 3)).astype(np.uint8)
    y = model(x, training=False)
    assert tuple(y.shape) == (2,) and y.dtype == "float32" and np.all(np.isfinite(y))


def test_resnet_depths_match_the_paper():
    def convs(name):
        return sum(isinstance(l, keras.layers.Conv2D) and "proj" not in l.name for l in build_model(model_cfg(name), 64).layers)

    assert convs("resnet18") == 17 and convs("resnet34") == 33  # + the dense layer = 18 / 34


def test_logit_stays_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model(model_cfg("tiny"), 32)
        assert model.get_layer("stem_conv").compute_dtype == "bfloat16"
        assert model(np.zeros((1, 32, 32, 3), np.uint8)).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_lite0_keeps_depthwise_convolutions_float32_under_bf16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model(model_cfg("efficientnet_lite0"), 64)
        dw = [l for l in model.layers if isinstance(l, keras.layers.DepthwiseConv2D)]
        assert len(dw) == 16 and all(l.compute_dtype == "float32" for l in dw)
        assert model.get_layer("conv_head").compute_dtype == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_npr_residual_removes_what_neighbours_share():
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 3)).astype(np.float32)
    blocky = np.repeat(np.repeat(x[:, ::2, ::2], 2, 1), 2, 2)  # an upsampled image: no new detail
    np.testing.assert_allclose(NPRResidual()(blocky).numpy(), 0.0)
    assert np.abs(NPRResidual()(x).numpy()).mean() > 0.1
    model = build_model(model_cfg("tiny", npr=True), 32)
    assert "npr_residual" in [l.name for l in model.layers]


def test_models_save_and_load_with_custom_layers(tmp_path):
    model = build_model(model_cfg("tiny", npr=True), 32)
    x = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3)).astype(np.uint8)
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "m.keras")(x), model(x), atol=1e-6)


def test_unknown_model_and_missing_imagenet_weights_fail_clearly():
    with pytest.raises(ValueError, match="vgg16"):
        build_model(model_cfg("vgg16"), 32)
    with pytest.raises(ValueError, match="weights file"):
        build_model(model_cfg("resnet18", weights="imagenet"), 64)
    assert set(MODELS) == {"tiny", "resnet18", "resnet34", "resnet50", "efficientnet_lite0", "efficientnet_lite2", "local"}


def test_resnet50_imagenet_offline_says_how_to_pass_a_file(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached download
    with pytest.raises(RuntimeError, match="--config.model.weights"):
        build_model(model_cfg("resnet50", weights="imagenet"), 64)


def test_resnet50_loads_a_local_weights_file(tmp_path):
    backbone = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3), pooling="avg")
    path = tmp_path / "resnet50_notop.weights.h5"
    backbone.save_weights(path)
    model = build_model(model_cfg("resnet50", weights=str(path)), 64)
    np.testing.assert_array_equal(model.get_layer("resnet50").get_weights()[0], backbone.get_weights()[0])


def test_tiny_trains_at_several_sizes_without_crashing_the_process():
    """Regression: 8-channel convs made oneDNN corrupt the heap at 48 and 64 px (an abort, so a subprocess)."""
    import subprocess
    import sys

    code = """
import numpy as np
from ml_collections import ConfigDict
from synthdet_tf.models import build_model
from synthdet_tf.training.train import compile_model
for size in (48, 64, 96):
    m = build_model(ConfigDict({"backbone": "tiny", "weights": "", "dropout": 0.0, "npr": False}), size)
    compile_model(m, ConfigDict({"lr": 1e-4, "warmup_steps": 0, "min_lr_ratio": 0.0, "weight_decay": 0.0,
                                 "clipnorm": 0.0, "label_smoothing": 0.0, "jit_compile": False}), 10)
    x = np.random.default_rng(0).integers(0, 256, (32, size, size, 3)).astype(np.uint8)
    for _ in range(3):
        m.train_on_batch(x, np.zeros(32, np.float32))
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


def test_npr_sees_native_pixels_under_a_crop_policy_and_not_after_a_resize():
    """A 2x nearest-upsampled 'generator output' has zero NPR residual at native resolution.

    Under center_crop the model's NPR layer gets native pixels (residual 0, as hand-computed);
    resizing first to the same size erases that trace (large residual).
    """
    import tensorflow as tf

    from synthdet_tf import preprocess

    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    upsampled = np.repeat(np.repeat(small, 2, 0), 2, 1)  # 64 x 64, what a 2x upsampling layer leaves
    model = build_model(model_cfg("tiny", npr=True), 32)
    npr = keras.Model(model.input, model.get_layer("npr_residual").output)
    crop = preprocess.apply_policy(tf.constant(upsampled), "center_crop", 32, training=False).numpy()
    np.testing.assert_array_equal(crop, upsampled[16:48, 16:48])
    np.testing.assert_allclose(npr(crop[None]).numpy(), 0.0, atol=1e-6)
    resized = preprocess.apply_policy(tf.constant(upsampled), "resize", 32, training=False).numpy()
    assert np.abs(npr(resized[None]).numpy()).mean() > 0.1
