"""Decode once (issue 26): a file is read and probed once per detection, decoded once per scale its views
need, and the app explains a verdict with the very crops and logits the verdict pooled."""

import csv
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from ml_collections import ConfigDict

from synthdet_tf.app.analysis import analyze
from synthdet_tf.detect import fused, views
from synthdet_tf.detect.detector import Detector
from synthdet_tf.models import build_model
from synthdet_tf.preprocess import PreprocessSpec, decode_image, eval_transform
from synthdet_tf.preprocess.tiling import grid_crops
from tests.conftest import SHARED_DEV, encode, random_rgb, smooth_rgb

S = 32
FILES = {  # name -> (bytes, decodes expected: a JPEG big enough for a reduced DCT scale needs a native one too)
    "big.png": (encode(random_rgb(100, 120, seed=1), "PNG"), 1),
    "small.jpg": (encode(random_rgb(60, 80, seed=2), "JPEG", quality=90), 1),
    "big.jpg": (encode(random_rgb(150, 200, seed=3), "JPEG", quality=90), 2),
    "tiny.png": (encode(smooth_rgb(20, 50, seed=4), "PNG"), 1),  # below one crop: no local evidence
}


def _workdir(path, model, policy, backbone, crops):
    path.mkdir(parents=True)
    model.save(path / "best.keras")
    data = {"policy": policy, "image_size": S, "crops": crops, "fractions": [0.8, 0.1, 0.1], "split_salt": "", "source_from": "auto"}
    (path / "config.json").write_text(json.dumps({"data": data, "model": {"backbone": backbone}}))
    return path


@pytest.fixture(scope="module")
def tiny_fused(tmp_path_factory):
    """A fused detector of two untrained tiny Keras members: resize 32 px whole image, 2 x 2 grid of 32 px native crops."""
    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("fused")
    whole = build_model(ConfigDict({"backbone": "tiny", "weights": "", "dropout": 0.0, "npr": False}), S)
    local = build_model(ConfigDict({"backbone": "local", "weights": "", "residual": "npr", "width": 4}), S)
    params = {"a_whole": 0.6, "a_local": 0.9, "bias": -0.2, "local_neutral": 0.25}
    fused.write(str(root / "fused.json"), str(_workdir(root / "whole", whole, "resize", "tiny", 1)),
                str(_workdir(root / "local", local, "random_crop", "local", 4)), params, {"threshold": 0.5, "temperature": 1.0})
    for name, (data, _) in FILES.items():
        (root / name).write_bytes(data)
    return root


@pytest.mark.parametrize("name", sorted(FILES))
def test_one_decode_per_scale_gives_each_stream_its_own_definition(name):
    """decode_views == the in-graph definitions: eval_transform for a resizing view, preprocess.tiling for crops."""
    contents = FILES[name][0]
    info = views.probe(contents)
    whole, local = PreprocessSpec("resize", S, "tiny"), PreprocessSpec("random_crop", S, "local", crops=4)
    (got_whole, got_local), image = views.decode_views(contents, info, [(whole, None), (local, None)], keep_image=True)
    np.testing.assert_array_equal(got_whole[0], eval_transform(tf.constant(contents), whole).numpy())
    native = decode_image(tf.constant(contents)).numpy()
    np.testing.assert_array_equal(image, native)
    in_graph = grid_crops(tf.constant(native), S, 4, local.policy).numpy()
    key = lambda stack: sorted(v.tobytes() for v in stack)  # noqa: E731  the graph repeats a small image's one view
    assert key(got_local) == key(in_graph) if min(native.shape[:2]) >= S else key(np.repeat(got_local, 4, 0)) == key(in_graph)


def test_a_file_is_read_and_probed_once_and_decoded_once_per_scale(tiny_fused, monkeypatch):
    calls = {"read": 0, "probe": 0, "decode": 0}

    def counted(what, fn):
        def wrapper(*a, **k):
            calls[what] += 1
            return fn(*a, **k)
        return wrapper

    from synthdet_tf.detect import detector as detector_module

    monkeypatch.setattr(detector_module, "read_bytes", counted("read", views.read_bytes))
    monkeypatch.setattr(detector_module, "probe", counted("probe", detector_module.probe))
    monkeypatch.setattr(fused, "probe", counted("probe", fused.probe))
    monkeypatch.setattr(views, "decode_as_trained", counted("decode", views.decode_as_trained))
    detector = Detector.load(str(tiny_fused / "fused.json"))
    for name, (_, decodes) in FILES.items():
        for run in (lambda p: list(detector.detect([p])), lambda p: analyze(detector, p)):
            calls.update(read=0, probe=0, decode=0)
            run(str(tiny_fused / name))
            assert calls == {"read": 1, "probe": 1, "decode": decodes}, name


def check_crop_map(detector, path):
    """The map's crops are the tiling's crops of the training decoder's pixels, at the logits the verdict pooled."""
    backend = detector.backend
    a = analyze(detector, path)
    contents = open(path, "rb").read()
    native = decode_image(tf.constant(contents)).numpy()
    s, k = backend.local.spec.image_size, backend.local.spec.crops
    boxes = [score["box"] for score in a.crop_scores]
    assert len(boxes) == k and all(size == s for _, _, size in boxes)
    crops = np.stack([native[t : t + s, l : l + s] for t, l, _ in boxes])
    key = lambda stack: sorted(v.tobytes() for v in stack)  # noqa: E731
    assert key(crops) == key(grid_crops(tf.constant(native), s, k, backend.local.spec.policy).numpy())
    map_logits = np.array([score["logit"] for score in a.crop_scores])
    np.testing.assert_allclose(map_logits, backend.local.logits(crops), atol=1e-5)
    z_whole = backend.whole.logits(eval_transform(tf.constant(contents), backend.whole.spec).numpy()[None])
    pooled = fused.fuse(backend.params, z_whole, [views.pool_logits(map_logits)], [True])[0]
    assert a.result["logit"] == pytest.approx(float(pooled), abs=1e-5)
    assert a.result["logit"] == next(iter(detector.detect([path]))).logit  # the app's verdict is synthdet-detect's
    return a


def test_a_tiny_fused_models_crop_map_is_what_its_verdict_pooled(tiny_fused):
    detector = Detector.load(str(tiny_fused / "fused.json"))
    for name in ("big.png", "small.jpg", "big.jpg"):
        a = check_crop_map(detector, str(tiny_fused / name))
        assert a.heatmap is not None and "verdict pooled" in a.crops_title
    tiny = analyze(detector, str(tiny_fused / "tiny.png"))
    assert tiny.crops is None and tiny.crop_scores == [] and tiny.result["fake_probability"] is not None


def _dev_images() -> list[str]:
    """One JPEG, PNG and WebP of the dev set holding a full crop grid (deterministic: the first in the stats)."""
    stats = SHARED_DEV / "IMAGE_STATS.csv"
    if not stats.exists():
        pytest.skip(f"shared dev data not found at {SHARED_DEV}")
    picked = {}
    with open(stats) as f:
        for row in csv.DictReader(f):
            w, h = int(row["width"]), int(row["height"])
            if 256 <= min(w, h) and w * h <= 1_500_000 and row["format"] not in picked:
                picked[row["format"]] = str(SHARED_DEV / row["relpath"])
    return [picked[fmt] for fmt in ("JPEG", "PNG", "WEBP") if fmt in picked]


def test_the_shipped_fusions_crop_map_is_what_its_verdict_pooled():
    paths = _dev_images()
    shipped = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "exported", "synthdet_fused_v4.json")
    detector = Detector.load(shipped)
    for path in paths:
        a = check_crop_map(detector, path)
        assert len(a.crop_scores) == 16 and a.heatmap is not None


def test_a_truncated_file_is_refused_by_its_decode_with_the_reason():
    """Detection probes headers only: the decode, which reads every byte, is the check and gives the probe's reason."""
    for name in ("big.png", "big.jpg"):
        half = FILES[name][0][: len(FILES[name][0]) // 2]
        with pytest.raises(views.BadImageError, match="truncated or corrupt"):
            views.model_views(half, PreprocessSpec("resize", S, "tiny"), info=views.probe(half, verify=False))
