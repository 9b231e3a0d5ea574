"""synthdet-adapt and Detector.adapt: a tiny base taught a planted signal it could not know, and every refusal."""

import json

import keras
import numpy as np
import pytest
from ml_collections import ConfigDict

from synthdet_tf.adapt import checks, crossval, head
from synthdet_tf.adapt.run import adapt
from tests.conftest import encode, random_rgb, write_folder
from tests.evaluate_fixtures import write_workdir
from tests.test_scripts import run_script


def planted(seed: int, fake: bool, size: int = 48) -> np.ndarray:
    """Noise photos; a fake carries a red cast in its top half, a sign the untrained base never saw."""
    image = random_rgb(size, size, seed=seed).astype(np.int16)
    if fake:
        image[: size // 2, :, 0] += 90
    return np.clip(image, 0, 255).astype(np.uint8)


def planted_folder(root, n: int, start: int = 0, fmt=("PNG", "PNG")):
    files = {}
    for i in range(start, start + n):
        files[f"real/r{i}.{fmt[0].lower()}"] = encode(planted(i, False), fmt[0])
        files[f"fake/f{i}.{fmt[1].lower()}"] = encode(planted(1000 + i, True), fmt[1])
    return write_folder(root, files)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    keras.utils.set_random_seed(0)
    from synthdet_tf.models import build_model

    model = build_model(ConfigDict({"backbone": "tiny", "weights": "", "dropout": 0.0, "npr": False}), 32)
    return str(write_workdir(tmp_path_factory.mktemp("base"), model, size=32))


def test_adapt_end_to_end_learns_a_planted_signal_and_exports_with_parity(tiny_base, tmp_path):
    from synthdet_tf.detect.detector import Detector

    train = planted_folder(tmp_path / "train", 12)
    held_out = planted_folder(tmp_path / "held_out", 10, start=500)
    out = tmp_path / "adapted"
    summary = adapt(str(train), str(out), base=tiny_base, command="test")
    paths = sorted(str(p) for p in held_out.rglob("*.png"))
    labels = np.array([int("/fake/" in p) for p in paths])
    base, adapted = Detector.load(tiny_base), Detector.load(str(out))
    base_p = np.array([r.fake_probability for r in base.detect(paths)])
    new_p = np.array([r.fake_probability for r in adapted.detect(paths)])
    assert crossval.balanced_accuracy(labels, new_p >= adapted.threshold) >= 0.9
    assert crossval.balanced_accuracy(labels, base_p >= base.threshold) < 0.75
    assert summary["cross_validated"]["per_class"]["FAKE"]["n"] == 12
    for fmt in ("saved_model", "tflite_int8"):
        assert summary["exports"][fmt]["same_label"] >= 0.95, summary["exports"]
    assert summary["exports"]["saved_model"]["max_abs_delta_prob"] < 1e-4
    card = (out / "README.md").read_text()
    assert "12 REAL and 12 FAKE" in card and "Cross-validated" in card and "Made with: `test`" in card
    assert json.loads((out / "config.json").read_text())["adapt"]["method"] == "shrink"
    with pytest.raises(FileExistsError, match="--overwrite"):
        adapt(str(train), str(out), base=tiny_base)


def test_detector_adapt_takes_labelled_paths_and_returns_a_detector(tiny_base, tmp_path):
    from synthdet_tf.detect.detector import Detector

    folder = planted_folder(tmp_path / "f", 8)
    pairs = [(str(p), "FAKE" if p.parent.name == "fake" else "REAL") for p in sorted(folder.rglob("*.png"))]
    adapted = Detector.load(tiny_base).adapt(pairs, str(tmp_path / "out"), export=False)
    assert adapted.backend.path == str(tmp_path / "out" / "best.keras") and 0.0 < adapted.threshold < 1.0


def test_thin_or_contradictory_input_is_refused_with_the_reason(tiny_base, tmp_path):
    few = planted_folder(tmp_path / "few", 3)
    with pytest.raises(checks.AdaptInputError, match="at least 4 usable images"):
        adapt(str(few), str(tmp_path / "o1"), base=tiny_base, export=False)
    twins = planted_folder(tmp_path / "twins", 6)
    (twins / "fake" / "twin.png").write_bytes((twins / "real" / "r0.png").read_bytes())
    with pytest.raises(checks.AdaptInputError, match="in both real/ and fake/"):
        adapt(str(twins), str(tmp_path / "o2"), base=tiny_base, export=False)
    small = planted_folder(tmp_path / "small", 6)
    (small / "real" / "thumb.png").write_bytes(encode(random_rgb(20, 20), "PNG"))
    (small / "fake" / "broken.png").write_bytes(b"not an image")
    summary = adapt(str(small), str(tmp_path / "o3"), base=tiny_base, export=False)
    skipped = dict((p.split("/")[-1], why) for p, why in summary["skipped"])
    assert "too small (20x20 px" in skipped["thumb.png"] and "broken.png" in skipped and summary["counts"]["REAL"] == 6


def test_a_total_shortcut_is_refused_and_allowed_only_when_asked(tiny_base, tmp_path):
    folder = planted_folder(tmp_path / "split", 6, fmt=("JPEG", "PNG"))  # every real a JPEG, every fake a PNG
    with pytest.raises(checks.AdaptInputError, match="every REAL is format JPEG and every FAKE is format PNG"):
        adapt(str(folder), str(tmp_path / "o"), base=tiny_base, export=False)
    summary = adapt(str(folder), str(tmp_path / "o"), base=tiny_base, export=False, allow_shortcut=True)
    assert any("every REAL is format JPEG" in w for w in summary["warnings"])


def test_the_command_refuses_thin_input_in_one_line(tiny_base, tmp_path):
    few = planted_folder(tmp_path / "few", 2)
    result = run_script("synthdet_scripts.adapt", f"--data_dir={few}", f"--output_dir={tmp_path / 'o'}", f"--base={tiny_base}")
    assert result.returncode == 1 and "usage error: each class needs at least 4 usable images" in result.stderr
    assert "Traceback" not in result.stderr


def test_cross_validated_threshold_balances_the_classes():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    probs = np.array([0.1, 0.2, 0.3, 0.62, 0.6, 0.7, 0.8, 0.9])  # best cut between 0.3 and 0.6, or at 0.62
    t = crossval.choose_threshold(y, probs)
    assert crossval.balanced_accuracy(y, probs >= t) == 0.875 and 0.3 < t <= 0.62
    report = crossval.report(y, probs, t)
    lo, hi = report["per_class"]["REAL"]["interval"]
    assert report["per_class"]["REAL"]["accuracy"] == 0.75 and lo < 0.75 < hi
    assert report["interval"][0] <= report["balanced_accuracy"] <= report["interval"][1]


def test_shrink_with_a_strong_penalty_keeps_the_base_head():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 6)), np.array([0, 1] * 10)
    base = (rng.normal(size=6), 0.3)
    kernel, bias = head.fit("shrink", x, y, base, strength=1e6)
    assert np.allclose(kernel, base[0], atol=1e-3)  # the bias stays free: it re-centres the threshold
    free, _ = head.fit("shrink", x, y, base, strength=1e-3)
    assert np.abs(free - base[0]).max() > 0.1
