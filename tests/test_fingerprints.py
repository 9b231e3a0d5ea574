"""Upsampler fingerprints synthesised on the fly (synthdet_tf/data/fingerprints.py) and their place in the pipeline."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from synthdet_tf.corpus.reconstruct import psnr
from synthdet_tf.data import fingerprints
from synthdet_tf.data.discovery import discover
from synthdet_tf.data.pipeline import class_weights, make_dataset, synth_probability
from tests.conftest import encode, random_rgb, write_folder


def _upsampled(image, kind, jitter, stages=1):
    x = tf.cast(image, tf.float32)[None]
    d = tf.nn.avg_pool2d(x, 2**stages, 2**stages, "VALID")
    up = d
    for _ in range(stages):
        up = fingerprints._upsample_once(up, tf.constant(fingerprints.KINDS.index(kind)), tf.constant([3, 4], tf.int64), jitter)
    return up[0].numpy(), tf.image.resize(d, x.shape[1:3], method="bilinear")[0].numpy()


def test_identity_upsamplers_are_bilinear_and_nearest_leaves_a_period_two_trace():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (32, 48, 3)).astype(np.uint8)
    # The transposed convolution starts from the exact bilinear kernel: no trace without noise.
    for kind in ("bilinear", "transposed"):
        up, bilinear = _upsampled(photo, kind, 0.0)
        np.testing.assert_allclose(up, bilinear, atol=1e-3)
    # On a horizontal ramp, nearest minus bilinear alternates sign from column to column.
    ramp = np.tile(np.arange(0, 192, 4, dtype=np.uint8)[None, :, None], (16, 1, 3))
    up, bilinear = _upsampled(ramp, "nearest", 0.0)
    trace = (up - bilinear)[4:-4, 4:-4, 0]
    assert np.abs(trace).mean() > 1.0
    np.testing.assert_allclose(trace[:, 0::2], -trace[:, 1::2], atol=1e-3)
    assert np.all(np.sign(trace[:, 0::2]) == np.sign(trace[0, 0]))
    # Pixel shuffle with identity weights is nearest.
    np.testing.assert_allclose(_upsampled(photo, "pixel_shuffle", 0.0)[0], _upsampled(photo, "nearest", 0.0)[0], atol=1e-3)


def _laplacian_energy(image):
    x = image.astype(np.float32)
    lap = 4 * x[1:-1, 1:-1] - x[:-2, 1:-1] - x[2:, 1:-1] - x[1:-1, :-2] - x[1:-1, 2:]
    return float(np.mean(lap**2))


def test_synthesized_fake_hits_its_psnr_keeps_the_detail_and_follows_its_seed(shared_dev):
    from PIL import Image

    path = sorted((shared_dev / "real").rglob("*.jpg"))[3]
    real = np.asarray(Image.open(path).convert("RGB"))[:203, :258]  # odd sides: cut to multiples of 4
    psnrs = []
    for s in range(12):
        fake = fingerprints.synthesize(tf.constant(real), tf.constant([s, 1], tf.int64)).numpy()
        assert fake.shape == (200, 256, 3) and fake.dtype == np.uint8
        psnrs.append(psnr(real[:200, :256], fake))
        # Added, not substituted: the fine detail is all still there (a down/up path would lose it).
        assert _laplacian_energy(fake) >= 0.98 * _laplacian_energy(real[:200, :256])
    assert 29.5 <= min(psnrs) and max(psnrs) <= 42.5 and np.std(psnrs) > 1.0
    seed = tf.constant([5, 1], tf.int64)
    a, b = fingerprints.synthesize(tf.constant(real), seed), fingerprints.synthesize(tf.constant(real), seed)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), fingerprints.synthesize(tf.constant(real), tf.constant([6, 1], tf.int64)).numpy())


@pytest.fixture
def red_and_blue(tmp_path):
    """30 red-ish REAL and 10 blue-ish FAKE images: a synthesised fake is red, a stored one blue."""
    def tinted(channel, seed):
        image = random_rgb(40, 40, seed=seed) // 4
        image[..., channel] = 200 + image[..., channel] // 4
        return image

    files = {f"real/r{i}.png": encode(tinted(0, i), "PNG") for i in range(30)}
    files |= {f"fake/f{i}.png": encode(tinted(2, 100 + i), "PNG") for i in range(10)}
    return write_folder(tmp_path / "rb", files)


@pytest.mark.parametrize("balance", ["class_weight", "resample"])
def test_pipeline_mixes_synthesized_fakes_made_from_the_reals(red_and_blue, data_config, balance):
    data_config.balance = balance
    data_config.synth = ml_collections.ConfigDict({"share": 0.5, "psnr": (30.0, 42.0), "jitter": (0.05, 0.5), "factors": (2, 4)})
    records = discover(str(red_and_blue), verify=False).records
    q = synth_probability(records, data_config)
    xs, ys = [], []
    ds = make_dataset(records, data_config, batch_size=8, training=True, seed=0)
    for _ in range(15):  # epochs of 40 images, drawn anew each time
        for x, y in ds:
            xs.append(x.numpy()), ys.append(y.numpy())
    x, y = np.concatenate(xs).astype(np.float32), np.concatenate(ys)
    red = x[..., 0].mean(axis=(1, 2)) > x[..., 2].mean(axis=(1, 2))
    synthesized = (y == 1) & red
    assert not np.any((y == 0) & ~red)  # labels travel with their images
    assert abs(synthesized.mean() - q) < 0.05
    assert abs(synthesized.sum() / (y == 1).sum() - 0.5) < 0.08  # half of the FAKE draws
    if balance == "resample":
        assert abs(y.mean() - 0.5) < 0.06
    else:  # the class weights even out the stream as it is drawn
        weights = class_weights(records, q)
        assert weights[0] * (y == 0).mean() == pytest.approx(weights[1] * (y == 1).mean(), rel=0.15)
    # Evaluation never sees them.
    _, y_eval = zip(*[(a, b.numpy()) for a, b in make_dataset(records, data_config, batch_size=8, training=False)])
    assert np.concatenate(y_eval).sum() == 10


def test_no_synth_config_changes_nothing_and_bad_ones_are_named(red_and_blue, data_config):
    records = discover(str(red_and_blue), verify=False).records
    assert synth_probability(records, data_config) == 0.0
    assert class_weights(records, 0.0) == class_weights(records)
    data_config.synth = ml_collections.ConfigDict({"share": 1.5, "psnr": (30.0, 42.0), "jitter": (0.05, 0.5), "factors": (2, 4)})
    with pytest.raises(ValueError, match="in \\(0, 1\\]"):
        synth_probability(records, data_config)
    data_config.synth.share = 0.5
    with pytest.raises(ValueError, match="training records hold none"):
        synth_probability([r for r in records if r.label == 1], data_config)


def _with_chain(data_config, after_process):
    data_config.policy = "random_crop"
    data_config.image_size = 16
    data_config.process = ml_collections.ConfigDict({
        "downscale": {"p": 0.0, "scale": (1.0, 1.0)},
        "jpeg": {"p": 1.0, "quality": (50, 50)},
        "webp": {"p": 0.0, "quality": (65, 100)},
    })
    data_config.synth = ml_collections.ConfigDict({"share": 0.5, "psnr": (30.0, 42.0), "jitter": (0.05, 0.5),
                                                   "factors": (2, 4), "after_process": after_process})
    return data_config


def test_synthesised_fakes_under_the_chain_keep_the_mix_and_the_labels(red_and_blue, data_config):
    data_config = _with_chain(data_config, False)
    records = discover(str(red_and_blue), verify=False).records
    q = synth_probability(records, data_config)
    ys, reds = [], []
    ds = make_dataset(records, data_config, batch_size=8, training=True, seed=0)
    for _ in range(10):
        for x, y in ds:
            x = x.numpy().astype(np.float32)
            ys.append(y.numpy()), reds.append(x[..., 0].mean(axis=(1, 2)) > x[..., 2].mean(axis=(1, 2)))
    y, red = np.concatenate(ys), np.concatenate(reds)
    assert not np.any((y == 0) & ~red)
    assert abs(((y == 1) & red).mean() - q) < 0.05


def test_the_removed_after_process_experiment_is_refused(red_and_blue, data_config):
    records = discover(str(red_and_blue), verify=False).records
    with pytest.raises(ValueError, match="after_process was a rejected experiment"):
        make_dataset(records, _with_chain(data_config, True), batch_size=8, training=True, seed=0)
