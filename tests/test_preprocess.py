import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from synthdet_tf import preprocess
from synthdet_tf.preprocess.policy import reflect_pad_to
from tests.conftest import encode, good_cases, random_rgb

TF_DECODES = [k for k in good_cases() if not k.endswith(("palette.bmp", "bilevel.bmp"))]


def pillow_rgb(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    if image.mode.startswith("I"):
        return np.repeat((np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)[..., None], 3, -1)
    return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("name", TF_DECODES)
def test_decode_matches_pillow(name):
    data = good_cases()[name]
    got = preprocess.decode_image(tf.constant(data)).numpy()
    want = pillow_rgb(data)
    assert got.dtype == np.uint8 and got.shape == want.shape
    # Bit-exact, JPEG included (accurate IDCT, as libjpeg's reference).
    np.testing.assert_array_equal(got, want)


def test_decode_16bit_png_keeps_high_byte():
    gray16 = (np.arange(40 * 50).reshape(40, 50) * 30).astype(np.uint16)
    got = preprocess.decode_image(tf.constant(encode(Image.fromarray(gray16), "PNG"))).numpy()
    np.testing.assert_array_equal(got[..., 0], gray16 >> 8)
    assert got.max() > 200  # not clipped to 255 everywhere, not zero


def test_decode_animated_gif_is_first_frame():
    data = good_cases()["animated.gif"]
    np.testing.assert_array_equal(
        preprocess.decode_image(tf.constant(data)).numpy(), pillow_rgb(encode(Image.open(io.BytesIO(data)).convert("RGB"), "PNG"))
    )


def test_reflect_pad_is_a_mirror_and_grows_small_images():
    image = tf.constant(random_rgb(5, 7))
    padded = reflect_pad_to(image, 224).numpy()
    assert padded.shape == (224, 224, 3)
    # Every padded row/column is a copy of an original one: values come only from the image.
    assert set(map(bytes, padded.reshape(-1, 3))) <= set(map(bytes, image.numpy().reshape(-1, 3)))
    # Centred: the original sits in the middle, untouched, with its mirror beside it.
    top, left = (224 - 5) // 2, (224 - 7) // 2
    np.testing.assert_array_equal(padded[top : top + 5, left : left + 7], image.numpy())
    np.testing.assert_array_equal(padded[top - 1, left : left + 7], image.numpy()[1])


@pytest.mark.parametrize("policy", preprocess.POLICIES)
@pytest.mark.parametrize("shape", [(20, 30), (300, 250), (64, 64)])
def test_policies_give_size_by_size_uint8(policy, shape):
    image = tf.constant(random_rgb(*shape))
    out = preprocess.apply_policy(image, policy, 64, training=True, seed=tf.constant([1, 2]))
    assert out.shape == (64, 64, 3) and out.dtype == tf.uint8


def test_center_crop_keeps_native_pixels():
    image = random_rgb(100, 120)
    out = preprocess.apply_policy(tf.constant(image), "center_crop", 64, training=False).numpy()
    np.testing.assert_array_equal(out, image[18:82, 28:92])


def test_random_crop_follows_seed_and_is_centre_outside_training():
    image = tf.constant(random_rgb(100, 120))
    a = preprocess.apply_policy(image, "random_crop", 32, training=True, seed=tf.constant([3, 4]))
    b = preprocess.apply_policy(image, "random_crop", 32, training=True, seed=tf.constant([3, 4]))
    c = preprocess.apply_policy(image, "random_crop", 32, training=True, seed=tf.constant([5, 6]))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    evaluated = preprocess.apply_policy(image, "random_crop", 32, training=False)
    np.testing.assert_array_equal(evaluated, preprocess.apply_policy(image, "center_crop", 32, training=False))


def test_resize_shorter_keeps_aspect():
    # A horizontal gradient 100 x 200: after shorter side -> 50 and a centre crop,
    # the crop spans the middle half of the gradient (aspect kept, not squashed).
    row = np.linspace(0, 255, 200).astype(np.uint8)
    image = np.repeat(np.repeat(row[None, :, None], 100, 0), 3, 2)
    out = preprocess.apply_policy(tf.constant(image), "resize_shorter_then_crop", 50, training=False).numpy()
    assert abs(int(out[25, 0, 0]) - 64) <= 3 and abs(int(out[25, -1, 0]) - 191) <= 3


def test_unknown_policy_and_backbone_fail_loudly():
    with pytest.raises(ValueError, match="squash"):
        preprocess.apply_policy(tf.zeros([4, 4, 3], tf.uint8), "squash", 4, training=False)
    with pytest.raises(ValueError, match="vgg"):
        preprocess.normalize(tf.zeros([1, 4, 4, 3]), "vgg")


def test_caffe_normalisation_equals_keras_applications():
    import keras

    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype(np.float32)
    want = keras.applications.resnet50.preprocess_input(x.copy())
    np.testing.assert_allclose(preprocess.normalize(x, "resnet50").numpy(), want, atol=1e-4)


def test_spec_round_trips_and_eval_transform_matches_steps():
    spec = preprocess.PreprocessSpec(policy="center_crop", image_size=32, backbone="efficientnet_lite0")
    assert preprocess.PreprocessSpec.from_dict(spec.to_dict()) == spec
    data = encode(random_rgb(40, 50), "PNG")
    got = preprocess.eval_transform(tf.constant(data), spec).numpy()
    np.testing.assert_array_equal(got, random_rgb(40, 50)[4:36, 9:41])


def test_normalize_layer_matches_function_and_saves(tmp_path):
    import keras

    x = np.random.default_rng(1).integers(0, 256, (2, 8, 8, 3)).astype(np.uint8)
    inputs = keras.Input((8, 8, 3), dtype="uint8")
    model = keras.Model(inputs, preprocess.Normalize("efficientnet_lite0")(inputs))
    np.testing.assert_allclose(model(x).numpy(), (x.astype(np.float32) - 127.0) / 128.0, atol=1e-6)
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(reloaded(x).numpy(), model(x).numpy())
    with pytest.raises(ValueError, match="vgg"):
        preprocess.Normalize("vgg")


def test_jpeg_dct_scaling_never_goes_below_min_side():
    from tests.conftest import smooth_rgb

    data = encode(smooth_rgb(400, 512), "JPEG", quality=95)
    # shorter side 400: 1/4 keeps 100 >= 100, 1/8 would give 50.
    reduced = preprocess.decode_image(tf.constant(data), min_side=100).numpy()
    assert reduced.shape == (100, 128, 3)
    draft = Image.open(io.BytesIO(data))
    draft.draft("RGB", (128, 100))  # libjpeg's scaled IDCT, as TF's ratio=4
    assert draft.size == (128, 100)
    assert np.abs(reduced.astype(int) - np.asarray(draft.convert("RGB")).astype(int)).max() <= 1
    assert preprocess.decode_image(tf.constant(data), min_side=300).shape == (400, 512, 3)
    png = encode(smooth_rgb(400, 512), "PNG")  # only JPEG has a DCT to scale in
    assert preprocess.decode_image(tf.constant(png), min_side=100).shape == (400, 512, 3)
