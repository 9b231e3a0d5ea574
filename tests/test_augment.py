import numpy as np
import pytest
import tensorflow as tf
from ml_collections import ConfigDict

from synthdet_tf.data import augment as aug
from tests.conftest import random_rgb, smooth_rgb


def config(hflip=0.0, rescale=0.0, blur=0.0, jpeg=0.0, webp=0.0):
    return ConfigDict(
        {
            "hflip": hflip,
            "rescale": {"p": rescale, "scale": (0.5, 0.5)},
            "blur": {"p": blur, "sigma": (2.0, 2.0)},
            "jpeg": {"p": jpeg, "quality": (30, 30)},
            "webp": {"p": webp, "quality": (30, 30)},
        }
    )


def high_freq_energy(image):
    x = image.astype(np.float32)
    return float(np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())


IMAGE = random_rgb(64, 64)
SEED = tf.constant([7, 8], tf.int64)


def test_nothing_enabled_is_identity():
    np.testing.assert_array_equal(aug.augment(tf.constant(IMAGE), SEED, config()).numpy(), IMAGE)


def test_flip_mirrors():
    np.testing.assert_array_equal(aug.augment(tf.constant(IMAGE), SEED, config(hflip=1.0)).numpy(), IMAGE[:, ::-1])


@pytest.mark.parametrize("which", ["rescale", "blur", "jpeg", "webp"])
def test_degradations_remove_high_frequencies_and_keep_shape(which):
    out = aug.augment(tf.constant(IMAGE), SEED, config(**{which: 1.0})).numpy()
    assert out.shape == IMAGE.shape and out.dtype == np.uint8
    assert high_freq_energy(out) < 0.8 * high_freq_energy(IMAGE)


def test_blur_preserves_mean_and_handles_tiny_images():
    smooth = smooth_rgb(64, 64)
    out = aug.gaussian_blur(tf.constant(smooth), 2.0, 3.0).numpy()
    assert abs(out.mean() - smooth.mean()) < 1.5
    tiny = aug.gaussian_blur(tf.constant(random_rgb(4, 4)), 2.0, 3.0)
    assert tiny.shape == (4, 4, 3)


def test_probability_is_respected():
    flipped = [
        bool(np.array_equal(aug.augment(tf.constant(IMAGE), tf.constant([i, 0], tf.int64), config(hflip=0.3)).numpy(), IMAGE[:, ::-1]))
        for i in range(200)
    ]
    assert 0.2 < np.mean(flipped) < 0.4


def test_same_seed_same_result():
    cfg = config(hflip=0.5, rescale=0.5, blur=0.5, jpeg=0.5, webp=0.5)
    a = aug.augment(tf.constant(IMAGE), SEED, cfg).numpy()
    b = aug.augment(tf.constant(IMAGE), SEED, cfg).numpy()
    np.testing.assert_array_equal(a, b)


def test_webp_matches_a_pillow_round_trip_inside_a_dataset():
    from PIL import Image
    import io

    buffer = io.BytesIO()
    Image.fromarray(IMAGE).save(buffer, format="WEBP", quality=30, method=0)
    expected = np.asarray(Image.open(buffer).convert("RGB"))
    ds = tf.data.Dataset.from_tensors(tf.constant(IMAGE)).map(lambda im: aug.augment(im, SEED, config(webp=1.0)))
    out = next(iter(ds)).numpy()
    np.testing.assert_array_equal(out, expected)
    assert not np.array_equal(out, IMAGE)


def test_configs_without_webp_still_augment():
    cfg = config(jpeg=1.0)
    del cfg["webp"]
    out = aug.augment(tf.constant(IMAGE), SEED, cfg).numpy()
    assert out.shape == IMAGE.shape
