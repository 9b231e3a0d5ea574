"""The local-evidence stream: residual layers, the patch logit map, the crop grid, processing before the crop."""

import io

import numpy as np
import pytest
import tensorflow as tf
from ml_collections import ConfigDict
from PIL import Image

from synthdet_tf.data import augment
from synthdet_tf.detect.views import crop_boxes, image_views, pool_logits
from synthdet_tf.models import build_model
from synthdet_tf.models.local import MedianResidual, patch_model
from synthdet_tf.preprocess import PreprocessSpec
from synthdet_tf.preprocess.tiling import grid_crops, grid_side
from tests.conftest import smooth_rgb


def local_cfg(**kw):
    return ConfigDict({"backbone": "local", "weights": "", "residual": "npr", "width": 4, **kw})


def test_median_residual_is_the_pixel_minus_the_median_of_its_eight_neighbours():
    x = np.random.default_rng(1).integers(0, 256, (1, 7, 9, 3)).astype(np.float32)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    shifts = [padded[:, dy : dy + 7, dx : dx + 9] for dy in range(3) for dx in range(3) if (dy, dx) != (1, 1)]
    expected = x - np.median(np.stack(shifts, -1), axis=-1)
    np.testing.assert_allclose(MedianResidual()(x).numpy(), expected, atol=1e-4)
    flat = np.full((1, 6, 6, 3), 80.0, np.float32)  # nothing differs from its neighbours
    np.testing.assert_allclose(MedianResidual()(flat).numpy(), 0.0)


@pytest.mark.parametrize("residual", ["npr", "median", "none"])
def test_a_crops_logit_is_the_mean_of_its_patch_logits(residual):
    model = build_model(local_cfg(residual=residual), 32)
    x = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3)).astype(np.uint8)
    patches = patch_model(model)(x).numpy()
    assert patches.shape == (3, 8, 8, 1)
    np.testing.assert_allclose(model(x).numpy(), patches.mean(axis=(1, 2, 3)), rtol=1e-5, atol=1e-5)


def test_local_model_refuses_sizes_and_weights_it_cannot_use():
    with pytest.raises(ValueError, match="divisible by 4"):
        build_model(local_cfg(), 30)
    with pytest.raises(ValueError, match="from scratch"):
        build_model(local_cfg(weights="imagenet"), 32)
    with pytest.raises(ValueError, match="Unknown residual"):
        build_model(local_cfg(residual="sobel"), 32)


@pytest.mark.parametrize("h,w,crops", [(100, 140, 4), (64, 64, 9), (97, 211, 16), (50, 80, 1)])
def test_graph_crop_grid_is_the_python_one(h, w, crops):
    image = np.random.default_rng(h).integers(0, 256, (h, w, 3), dtype=np.uint8)
    s = 32
    in_graph = grid_crops(tf.constant(image), s, crops).numpy()
    python = np.stack([image[t : t + s, l : l + s] for t, l in crop_boxes(h, w, s, crops)])
    key = lambda stack: sorted(v.tobytes() for v in stack)  # noqa: E731  same crops; order is not part of the contract
    assert key(in_graph) == key(python)
    spec = PreprocessSpec("random_crop", s, "local", crops)
    assert key(image_views(image, spec, crops)) == key(python)


def test_small_image_gets_the_policys_one_view_repeated():
    image = np.random.default_rng(0).integers(0, 256, (20, 50, 3), dtype=np.uint8)
    grid = grid_crops(tf.constant(image), 32, 4).numpy()
    assert grid.shape == (4, 32, 32, 3) and all((g == grid[0]).all() for g in grid)
    np.testing.assert_array_equal(grid[0], image_views(image, PreprocessSpec("random_crop", 32, "local", 4), 4)[0])
    with pytest.raises(ValueError, match="square number"):
        grid_side(5)
    assert pool_logits(np.array([1.0, 3.0])) == 2.0


def _jpeg(image, quality=80):
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def test_grid_aligned_window_reencodes_like_the_whole_image():
    """Why process_whole may work on a window: JPEG blocks start on the grid, so a window cut at a
    multiple of 16 and re-encoded equals the same window of the re-encoded whole image, away from
    the window's border (the decoder's chroma upsampling reads across it)."""
    image = smooth_rgb(96, 128, seed=4)
    image = np.clip(image.astype(int) + np.random.default_rng(0).normal(0, 12, image.shape), 0, 255).astype(np.uint8)
    whole = _jpeg(image)[32:96, 16:80]
    window = _jpeg(image[32:96, 16:80])
    assert np.abs(whole.astype(int) - window.astype(int))[4:-4, 4:-4].max() <= 1
    shifted = _jpeg(image[35:99 - 3, 21:85 - 3])  # off the grid: different blocks
    assert np.abs(whole[:58, :58].astype(int) - shifted[:58, :58].astype(int)).mean() > 1


def test_process_whole_is_seeded_and_keeps_enough_for_a_crop():
    cfg = ConfigDict({"downscale": {"p": 1.0, "scale": (0.5, 0.5)}, "jpeg": {"p": 1.0, "quality": (70, 70)},
                      "webp": {"p": 0.0, "quality": (70, 100)}})
    image = tf.constant(np.random.default_rng(0).integers(0, 256, (400, 600, 3), dtype=np.uint8))
    a = augment.process_whole(image, tf.constant([1, 2]), cfg, 64).numpy()
    b = augment.process_whole(image, tf.constant([1, 2]), cfg, 64).numpy()
    np.testing.assert_array_equal(a, b)
    assert min(a.shape[:2]) >= 64  # a 64 px crop still fits after the x0.5 downscale
    window = augment.center_window(image, 256).numpy()
    assert window.shape == (256, 256, 3)
    top, left = 16 * ((400 - 256) // 32), 16 * ((600 - 256) // 32)
    np.testing.assert_array_equal(window, image.numpy()[top : top + 256, left : left + 256])


@pytest.fixture(scope="module")
def crop_run(tmp_path_factory):
    """A tiny local model trained briefly on native 32 px crops of 48-96 px images (noisy JPEG REAL, smooth PNG FAKE)."""
    from synthdet_configs.synthdet_v3_local import get_config
    from synthdet_tf.training.train import train_and_evaluate
    from tests.conftest import noisy_real_smooth_fake

    root = tmp_path_factory.mktemp("local")
    noisy_real_smooth_fake(root / "data", 130, (48, 97), noise=20)
    config = get_config()
    config.data.update(data_dir=str(root / "data"), image_size=32, min_side=32, window=64, crops=4, batch_size=16,
                       held_out_sources=(), face_sources=())
    config.model.width = 4
    config.train.update(epochs=1, verbose=0, jit_compile=False, warmup_steps=2, per_source_val=False)
    train_and_evaluate(config, str(root / "run"))
    return root


def test_crop_model_exports_with_its_grid_and_every_format_agrees(crop_run):
    import json

    from synthdet_tf.data.discovery import discover
    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.evaluate.predict import predict_logits
    from synthdet_tf.export import exporter
    from synthdet_tf.detect.backends import KerasBackend, load_backend

    root = crop_run
    written = exporter.export(str(root / "run"), str(root / "exported"), name="loc", version=1,
                              formats=["saved_model", "tflite_float32", "tflite_int8"])
    keras_backend = KerasBackend(str(root / "run"))
    assert keras_backend.spec.crops == 4
    files = sorted((root / "data" / "fake").iterdir())[:3] + sorted((root / "data" / "real").iterdir())[:3]
    by_detector = np.array([r.logit for r in Detector(keras_backend).detect([str(f) for f in files])])
    assert all(r.crops == 4 for r in Detector(keras_backend).detect([str(files[0])]))
    # serving_default tiles in the graph: same crops, same pooled logit as synthdet-detect.
    loaded = tf.saved_model.load(written["saved_model"]["path"])
    served = loaded.signatures["serving_default"](image_bytes=tf.constant([f.read_bytes() for f in files]))
    np.testing.assert_allclose(served["logit"].numpy(), by_detector, atol=1e-4)
    # evaluation scores the grid too (the threshold is chosen on what detect reports).
    records = {r.path: r for r in discover(str(root / "data")).records}
    np.testing.assert_allclose(predict_logits(keras_backend, [records[str(f)] for f in files]), by_detector, atol=1e-4)
    for variant, tol in (("tflite_float32", 1e-4), ("tflite_int8", 0.5)):
        logits = np.array([r.logit for r in Detector(load_backend(written[variant]["path"])).detect([str(f) for f in files])])
        assert np.max(np.abs(logits - by_detector)) < tol * max(1.0, np.abs(by_detector).max()), variant
    meta = json.loads(open(written["tflite_int8"]["path"] + ".json").read())
    assert meta["tiling"]["grid"] == [2, 2] and meta["tiling"]["crop_size"] == 32 and meta["preprocess"]["crops"] == 4


def test_crop_training_leaves_out_images_smaller_than_the_crop(crop_run, tmp_path):
    from synthdet_configs.synthdet_v3_local import get_config
    from synthdet_tf.data.discovery import discover_from_config

    cfg = get_config().data
    cfg.update(data_dir=str(crop_run / "data"), min_side=80)
    found = discover_from_config(cfg)
    assert found.records and all(min(r.info.width, r.info.height) >= 80 for r in found.records)
    assert found.skip_reasons()["smaller than min_side"] == 260 - len(found.records)


def test_fused_detector_is_the_same_in_every_format(crop_run, tmp_path):
    """Keras members fused in Python == the fused SavedModel (one graph) == the TFLite pair + fusion JSON."""
    import json

    from synthdet_configs.tiny import get_config
    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.export import exporter
    from synthdet_tf.export.fused import export_fused
    from synthdet_tf.detect import fused
    from synthdet_tf.detect.backends import KerasBackend
    from synthdet_tf.training.train import train_and_evaluate
    from tests.conftest import encode

    config = get_config()
    config.data.data_dir = str(crop_run / "data")
    config.train.update(verbose=0, max_train_images=64, max_val_images=32, per_source_val=False)
    train_and_evaluate(config, str(tmp_path / "whole"))
    whole = exporter.export(str(tmp_path / "whole"), str(tmp_path / "exp"), name="w", version=1, formats=["saved_model", "tflite_float32"])
    params = {"a_whole": 0.7, "a_local": 0.4, "bias": -0.1, "local_neutral": 0.3}
    cal = {"threshold": 0.45, "temperature": 1.0, "method": "test", "chosen_on": "val"}
    (tmp_path / "fusion.json").write_text(json.dumps({"rows": {"fused_test": {"params": params, "calibration": cal}}}))
    written = export_fused(str(crop_run / "run"), whole["saved_model"]["path"], str(tmp_path / "fusion.json"), "test",
                           str(tmp_path / "exp"), name="f", version=3, formats=["saved_model", "saved_model_pair", "tflite_float32"],
                           whole_tflite=whole["tflite_float32"]["path"])
    small = tmp_path / "small.png"  # below the 32 px crop: no local evidence, the neutral value stands in
    small.write_bytes(encode(smooth_rgb(20, 60, seed=9), "PNG"))
    files = [str(p) for p in sorted((crop_run / "data" / "fake").iterdir())[:3] + sorted((crop_run / "data" / "real").iterdir())[:3]]
    files.append(str(small))
    contents = [open(f, "rb").read() for f in files]
    z_whole, _ = fused.member_logits(KerasBackend(str(tmp_path / "whole")), contents)
    z_local, has_crop = fused.member_logits(KerasBackend(str(crop_run / "run")), contents)
    assert has_crop.tolist() == [True] * 6 + [False]
    expected = fused.fuse(params, z_whole, z_local, has_crop)
    for path, tol in ((written["saved_model"]["path"], 1e-4), (written["saved_model_pair"]["path"], 1e-4),
                      (written["tflite_float32"]["path"], 1e-3)):
        detector = Detector.load(path)
        results = list(detector.detect(files))
        np.testing.assert_allclose([r.logit for r in results], expected, atol=tol)
        assert detector.threshold == 0.45 and all(r.label == ("FAKE" if r.fake_probability >= 0.45 else "REAL") for r in results)
    loaded = tf.saved_model.load(written["saved_model"]["path"])
    crops = np.random.default_rng(0).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(loaded.signatures["local_crops"](crops=tf.constant(crops))["logit"].numpy(),
                               KerasBackend(str(crop_run / "run")).logits(crops), atol=1e-4)


@pytest.mark.parametrize("version, threshold", [(3, 0.442), (4, 0.444)])
def test_shipped_fusion_on_real_dev_images(shared_dev, version, threshold):
    """exported/synthdet_fused_v<N>.json: v2 and the local stream, the card's threshold; the int8 pair agrees."""
    import os

    from synthdet_tf.data.discovery import discover, subsample
    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.detect import fused

    shipped = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "exported")
    detector = Detector.load(os.path.join(shipped, f"synthdet_fused_v{version}.json"))
    backend = detector.backend
    assert detector.threshold == pytest.approx(threshold, abs=5e-4) and backend.params["rule"] == "standardized_mean"
    assert backend.whole.path == os.path.join(shipped, "synthdet", "2")
    assert backend.local.path == os.path.join(shipped, "synthdet_fused_local", str(version))
    assert (backend.local.spec.policy, backend.local.spec.image_size, backend.local.spec.crops) == ("random_crop", 128, 16)
    records = subsample([r for r in discover(str(shared_dev)).split("test") if min(r.info.width, r.info.height) >= 128], 24)
    paths = [r.path for r in records]
    results = list(detector.detect(paths))
    assert not any(r.error for r in results)
    contents = [open(p, "rb").read() for p in paths]
    z_whole, _ = fused.member_logits(backend.whole, contents)
    z_local, has_crop = fused.member_logits(backend.local, contents)
    assert has_crop.all()
    np.testing.assert_allclose([r.logit for r in results], fused.fuse(backend.params, z_whole, z_local, has_crop), atol=1e-4)
    int8 = list(Detector.load(os.path.join(shipped, "tflite", f"synthdet_fused_v{version}_int8.json")).detect(paths))
    assert np.mean([abs(a.fake_probability - b.fake_probability) for a, b in zip(results, int8)]) < 0.1


def test_synth_check_scores_every_real_twice_and_repeats_itself(crop_run, tmp_path):
    import json

    from synthdet_tf.data.discovery import discover
    from tests.test_scripts import run_script

    n_real = sum(r.label == 0 and r.split == "test" for r in discover(str(crop_run / "data")).records)
    result = run_script("synthdet_scripts.evaluate", f"--model={crop_run / 'run'}", f"--data_dir={crop_run / 'data'}",
                        "--synth_check", f"--output_dir={tmp_path / 'a'}")
    assert result.returncode == 0, result.stderr[-3000:]
    first = json.loads((tmp_path / "a" / "synth_check.json").read_text())
    assert first["n_real"] == n_real > 0 and 0.0 <= first["auc"] <= 1.0 and f"AUC {first['auc']:.4f}" in result.stdout
    from synthdet_tf.evaluate import synth_check

    again = synth_check.check(str(crop_run / "run"), str(crop_run / "data"), str(tmp_path / "b"))
    assert again["auc"] == pytest.approx(first["auc"], abs=1e-6)  # each image's trace is seeded by its pixels
    assert again["mean_logit_shift"] != 0.0  # the trace reached the model
