"""Evaluation: metrics against known values, calibration on val only, robustness, audit, LOSO, plots."""

import json

import numpy as np
import pytest
from PIL import Image

from synthdet_tf.data.discovery import discover
from synthdet_tf.evaluate import calibration, metrics, perturbations
from synthdet_tf.lab import loso
from synthdet_tf.evaluate.predict import predict_logits
from synthdet_tf.evaluate.report import evaluate_model
from synthdet_tf.detect.backends import load_backend
from tests.evaluate_fixtures import brightness_folder, brightness_model, write_workdir
from tests.test_scripts import run_script


def test_binary_metrics_known_values():
    labels = [0, 0, 0, 0, 1, 1, 1, 1]
    probs = [0.1, 0.2, 0.3, 0.7, 0.4, 0.6, 0.8, 0.9]
    m = metrics.binary_metrics(labels, probs, threshold=0.5)
    assert m["confusion_matrix"] == [[3, 1], [1, 3]]
    assert m["accuracy"] == 0.75 and m["balanced_accuracy"] == 0.75
    assert m["per_class"]["FAKE"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75, "n": 4}
    # 14 of the 16 (fake, real) pairs are ordered right.
    assert m["roc_auc"] == pytest.approx(14 / 16)
    # Ranked: .9F .8F .7R .6F .4F .3R .2R .1R -> AP = (1 + 1 + 3/4 + 4/5) / 4.
    assert m["average_precision"] == pytest.approx((1 + 1 + 0.75 + 0.8) / 4)
    # At FPR 0 (threshold 0.8) two of four fakes are caught; the next point has FPR 0.25.
    assert m["tpr_at_5pct_fpr"] == 0.5
    # Every probability sits in its own bin of 15: ECE is the mean of |label - prob|.
    assert m["ece"] == pytest.approx(np.mean(np.abs(np.array(labels) - np.array(probs))))


def test_threshold_moves_the_operating_point():
    labels, probs = [0, 0, 0, 0, 1, 1, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.4, 0.6, 0.8, 0.9]
    strict = metrics.binary_metrics(labels, probs, threshold=0.75)
    assert strict["confusion_matrix"] == [[4, 0], [2, 2]]


def test_per_source_flags_small_sources_and_scores_one_class_sources_against_the_rest():
    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(40), np.ones(40), np.ones(10)]
    probs = np.r_[rng.uniform(0, 0.6, 40), rng.uniform(0.4, 1, 40), rng.uniform(0.0, 0.3, 10)]
    sources = ["cam"] * 40 + ["gan"] * 40 + ["new_gen"] * 10
    rows = {r["source"]: r for r in metrics.per_source_metrics(labels, probs, sources)}
    assert rows["new_gen"]["too_small"] and not rows["gan"]["too_small"]
    assert rows["new_gen"]["classes"] == "FAKE" and rows["new_gen"]["n"] == 10
    # new_gen's fakes score below most real images: far worse separated than gan's.
    assert rows["new_gen"]["roc_auc_vs_rest"] < 0.3 < 0.8 < rows["gan"]["roc_auc_vs_rest"]
    assert rows["new_gen"]["per_class"]["FAKE"]["recall"] == 0.0


def test_choose_threshold_balanced_accuracy_and_target_fpr():
    labels = np.r_[np.zeros(100), np.ones(100)]
    probs = np.r_[np.linspace(0.0, 0.6, 100), np.linspace(0.4, 1.0, 100)]
    t = calibration.choose_threshold(labels, probs)
    best = max(metrics.binary_metrics(labels, probs, p)["balanced_accuracy"] for p in np.unique(probs))
    assert metrics.binary_metrics(labels, probs, t)["balanced_accuracy"] == pytest.approx(best)
    t_fpr = calibration.choose_threshold(labels, probs, "fpr", target_fpr=0.01)
    m = metrics.binary_metrics(labels, probs, t_fpr)
    assert m["per_class"]["REAL"]["recall"] >= 0.99 and t_fpr > t
    with pytest.raises(ValueError, match="both REAL and FAKE"):
        calibration.choose_threshold(np.zeros(5), np.linspace(0, 1, 5))


def test_unsure_band_holds_the_errors_near_the_threshold():
    rng = np.random.default_rng(0)
    probs = rng.uniform(0, 1, 1000)
    labels = (probs >= 0.5).astype(int)
    near = np.abs(probs - 0.5) < 0.1
    labels[near] = rng.integers(0, 2, near.sum())  # coin flips within 0.1 of the threshold, right elsewhere
    low, high = calibration.unsure_band(labels, probs, 0.5)
    assert 0.42 < low < 0.47 and 0.53 < high < 0.58  # wide enough that 95 % outside it are right
    outside = (probs <= low) | (probs >= high)
    assert np.mean((probs[outside] >= 0.5) == labels[outside]) >= 0.95
    assert calibration.unsure_band((probs >= 0.5).astype(int), probs, 0.5) == [0.5, 0.5]  # never wrong: no band
    capped = calibration.unsure_band(rng.integers(0, 2, 1000), probs, 0.5)  # coin flips everywhere
    assert np.mean((probs > capped[0]) & (probs < capped[1])) <= 0.3


def test_temperature_scaling_recovers_a_known_temperature():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 4, 20000)
    labels = rng.uniform(size=logits.size) < calibration.sigmoid(logits, 2.0)  # true temperature 2
    t = calibration.fit_temperature(labels, logits)
    assert t == pytest.approx(2.0, rel=0.05)
    before = metrics.expected_calibration_error(labels, calibration.sigmoid(logits))
    after = metrics.expected_calibration_error(labels, calibration.sigmoid(logits, t))
    assert after < before / 3


@pytest.fixture
def brightness(tmp_path):
    folder = brightness_folder(tmp_path / "data")
    workdir = write_workdir(tmp_path / "run", brightness_model())
    return folder, workdir


def test_threshold_is_chosen_on_val_not_test_and_stored_with_the_model(brightness, tmp_path):
    folder, workdir = brightness
    report = evaluate_model(str(workdir), str(folder), str(tmp_path / "report"))
    backend = load_backend(str(workdir))
    found = discover(str(folder))
    val, test = found.split("val"), found.split("test")
    expected = calibration.choose_threshold([r.label for r in val], calibration.sigmoid(predict_logits(backend, val)))
    assert report["calibration"]["chosen_on"] == "val"
    assert report["at_threshold"]["threshold"] == pytest.approx(expected)
    # Test images are brighter: the val threshold calls every real one fake; only the oracle fits test.
    assert report["at_threshold"]["per_class"]["REAL"]["recall"] < 0.2
    assert report["oracle"]["threshold"] > expected and report["oracle"]["balanced_accuracy"] > 0.9
    assert report["n"] == len(test)
    stored = json.loads((workdir / "calibration.json").read_text())
    assert stored["threshold"] == pytest.approx(expected)
    # A second evaluation uses the stored threshold and says so.
    again = evaluate_model(str(workdir), str(folder), str(tmp_path / "report2"))
    assert again["calibration"]["origin"] == "stored with the model"
    with pytest.raises(FileExistsError):
        evaluate_model(str(workdir), str(folder), str(tmp_path / "report2"))


def test_threshold_never_looks_at_the_sources_the_model_held_out(brightness, tmp_path):
    folder, workdir = brightness
    config = json.loads((workdir / "config.json").read_text())
    config["data"]["held_out_sources"] = ["src1"]
    (workdir / "config.json").write_text(json.dumps(config))
    report = evaluate_model(str(workdir), str(folder), str(tmp_path / "report"))
    backend = load_backend(str(workdir))
    val = [r for r in discover(str(folder)).split("val") if r.source == "src0"]
    expected = calibration.choose_threshold([r.label for r in val], calibration.sigmoid(predict_logits(backend, val)))
    assert report["calibration"]["n"] == len(val) and report["at_threshold"]["threshold"] == pytest.approx(expected)


def test_report_has_every_part_and_its_pictures(brightness, tmp_path):
    folder, workdir = brightness
    out = tmp_path / "report"
    report = evaluate_model(str(workdir), str(folder), str(out), robustness=True, audit_format=True)
    assert [r["label"] for r in report["robustness"]] == [p.label for p in perturbations.SWEEP]
    # Blur and downscaling keep mean brightness, so this model is robust to them;
    # the metrics must say so rather than merely exist.
    for row in report["robustness"]:
        assert abs(row["roc_auc"] - report["at_threshold"]["roc_auc"]) < 0.05, row
    assert {s["source"] for s in report["per_source"]} == {"src0", "src1"}
    for name in report["plots"].values():
        with Image.open(out / name) as im:
            assert im.size[0] > 300 and im.size[1] > 200
    text = (out / "report.md").read_text()
    for heading in ("## Per source", "## Robustness", "## Shortcut audit", "oracle"):
        assert heading in text
    scores = (out / "scores.csv").read_text().splitlines()
    assert len(scores) == report["n"] + 1


def test_perturbations_change_what_they_should():
    image = np.asarray(Image.effect_noise((64, 48), 40).convert("RGB"))
    assert perturbations.downscale(0.5)(image).shape == (24, 32, 3)
    assert perturbations.longer_side(40)(image).shape == (30, 40, 3)
    assert perturbations.longer_side(400)(image).shape == image.shape  # never enlarged
    blurred = perturbations.blur(2.0)(image).numpy().astype(float)
    assert blurred.std() < image.std() / 2
    for q, tol in ((95, 6), (50, 20)):
        err = np.abs(perturbations.jpeg(q)(image).numpy().astype(float) - image).mean()
        assert 0 < err < tol
    assert perturbations.uniform_format(32)(image).shape == (32, 32, 3)


def test_audit_detects_a_planted_format_shortcut(tmp_path):
    """Fakes saved as PNG, reals as JPEG, same content: a model that learns the codec fails the audit."""
    from synthdet_configs.tiny import get_config
    from synthdet_tf.training.train import train_and_evaluate

    rng = np.random.default_rng(0)
    for i in range(240):
        for cls, fmt in (("real", "JPEG"), ("fake", "PNG")):
            y, x = np.mgrid[0:32, 0:32]
            chans = [127 + 90 * np.sin(x / rng.uniform(2, 8) + y / rng.uniform(2, 8) + rng.uniform(0, 6)) for _ in range(3)]
            pixels = np.clip(np.stack(chans, -1) + rng.normal(0, 6, (32, 32, 3)), 0, 255).astype(np.uint8)
            path = tmp_path / "data" / cls / f"{cls}{i:03d}.{fmt.lower()}"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    config = get_config()
    config.data.data_dir = str(tmp_path / "data")
    config.train.update(epochs=6, lr=3e-3, max_train_images=0, max_val_images=0, verbose=0, per_source_val=False)
    for aug in ("rescale", "blur", "jpeg"):
        config.data.augment[aug].p = 0.0
    train_and_evaluate(config, str(tmp_path / "run"))
    report = evaluate_model(str(tmp_path / "run"), str(tmp_path / "data"), str(tmp_path / "report"), audit_format=True)
    audit = report["audit"]
    assert report["at_threshold"]["balanced_accuracy"] > 0.75  # it did learn the codec...
    assert audit["drop_balanced_accuracy"] > 0.15 and audit["leans_on_format"]  # ...and the audit sees it
    assert "leans on file format" in audit["verdict"]


def test_loso_folds_keep_the_left_out_source_out_of_training(tiny_folder):
    found = discover(str(tiny_folder), source_from="prefix")
    assert loso.fake_sources(found.records, min_images=6) == ["gen0", "gen1"]
    assert loso.fake_sources(found.records, min_images=7) == []
    f = loso.fold(found.records, "gen0")
    assert all(not (r.source == "gen0" and r.label == 1) for r in f["train"] + f["val"] + f["seen"])
    assert {r.source for r in f["held_out"]} == {"gen0"} and len(f["held_out"]) == 6
    assert all(r.label == 0 and r.split == "test" for r in f["real_test"])


def test_loso_script_trains_one_model_per_source(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(60):
        for rel in (f"real/cam__r{i}.jpg", f"fake/gen{i % 3}__f{i}.png"):
            path = tmp_path / "data" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(path)
    out = tmp_path / "loso"
    result = run_script(
        "synthdet_scripts.lab.loso", "--config=configs/tiny.py", f"--data_dir={tmp_path / 'data'}", f"--workdir={out}",
        "--min_images=20", "--sources=gen0,gen2", "--config.data.source_from=prefix", "--config.train.verbose=0",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((out / "loso.json").read_text())
    assert [r["held_out"] for r in rows] == ["gen0", "gen2"]
    assert all(r["held_out_n_fake"] == 20 and 0.0 <= r["held_out_auc"] <= 1.0 for r in rows)
    assert (out / "gen0" / "DONE").exists() and "gen2" in (out / "loso.md").read_text()
    assert not (out / "gen1").exists()


def test_evaluate_script_reports_and_refuses_to_overwrite(brightness, tmp_path):
    folder, workdir = brightness
    out = tmp_path / "cli"
    args = ("synthdet_scripts.evaluate", f"--model={workdir}", f"--data_dir={folder}", f"--output_dir={out}")
    result = run_script(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "balanced accuracy" in result.stdout and (out / "report.md").exists()
    again = run_script(*args)
    assert again.returncode != 0 and "already holds a report" in again.stderr
