"""The abstention rule: files re-made as training re-makes them, the fit, its reasons, and every place it decides."""

import csv
import gzip
import json
import pathlib

import numpy as np
import pytest

from synthdet_tf.detect import reliability
from synthdet_tf.detect.history import read_history
from synthdet_tf.evaluate import abstention
from synthdet_tf.evaluate.histories import Ranges, remake
from tests.conftest import encode, write_folder
from tests.test_decode_once import tiny_fused  # noqa: F401  a fixture
from tests.evaluate_fixtures import brightness_folder, brightness_model, write_workdir
from tests.test_history import photo_like
from tests.test_scripts import run_script


@pytest.fixture(scope="module")
def photo_png():
    return encode(photo_like(), "PNG")


def test_each_chain_leaves_the_history_it_is_named_for(photo_png):
    kinds = {}
    for chain in ("jpeg", "resized_png", "png_from_jpeg", "webp"):
        made, ext, drawn = remake(photo_png, chain, "real/a.png", Ranges(jpeg_quality=(70, 90)))
        assert made == remake(photo_png, chain, "real/a.png", Ranges(jpeg_quality=(70, 90)))[0]  # a pure function
        kinds[chain] = (ext, read_history(made)["kind"], read_history(made, pixels=False)["kind"], drawn)
    assert kinds["jpeg"][:3] == (".jpg", "software_jpeg", "software_jpeg")
    assert 70 <= kinds["jpeg"][3]["jpeg_quality"] <= 90
    assert kinds["png_from_jpeg"][:3] == (".png", "png_from_jpeg", "lossless")  # the grid needs the pixels read
    assert kinds["resized_png"][0] == ".png" and 0.5 <= kinds["resized_png"][3]["scale"] <= 0.9
    assert kinds["webp"][0] == ".webp"


def test_ranges_come_from_the_training_config():
    cfg = {"data": {"augment": {"rescale": {"scale": [0.6, 0.8]}, "jpeg": {"quality": [50, 95]}},
                    "process": {"webp": {"quality": [40, 60]}}}}
    assert Ranges.from_train_config(cfg) == Ranges(scale=(0.6, 0.8), jpeg_quality=(50, 95), webp_quality=(40, 60))
    assert Ranges.from_train_config(None) == Ranges()


def rows(kind: str, n_real: int, n_fake: int, right: float, seed: int = 0, chain: str = "jpeg") -> list[dict]:
    """Rows of one kind whose first `right` share per class is called right, with confident scores."""
    rng = np.random.default_rng(seed)
    out = []
    for label, n in ((0, n_real), (1, n_fake)):
        for i in range(n):
            ok = i < round(right * n)
            p = float(rng.uniform(0.75, 0.99)) if (label == 1) == ok else float(rng.uniform(0.01, 0.25))
            out.append({"chain": chain, "source": f"s{label}", "label": label, "kind_basic": kind, "kind_full": kind,
                        "probability": p, "settled": "", "caveat": ""})
    return out


def test_fit_trusts_only_kinds_where_both_classes_were_shown_right():
    val = rows("software_jpeg", 60, 60, 0.97) + rows("lossless", 0, 80, 1.0) + rows("resized", 60, 60, 0.7)
    rule = abstention.fit_rule(val, 0.5)
    basic = rule["levels"]["basic"]
    assert basic["software_jpeg"]["trusted"] and not basic["lossless"]["trusted"] and not basic["resized"]["trusted"]
    assert basic["resized"]["real"] == {"n": 60, "right": 42, "low": pytest.approx(abstention.wilson_low(42, 60), abs=1e-4)}
    jpeg = {"kind": "software_jpeg", "pixel_traces": False}
    assert reliability.judge(rule, jpeg, 0.9) is None
    assert "no real ones" in reliability.judge(rule, {"kind": "lossless"}, 0.9)
    assert "42 of 60 real" in reliability.judge(rule, {"kind": "resized"}, 0.9)
    assert "no such files" in reliability.judge(rule, {"kind": "camera_jpeg"}, 0.1)
    assert reliability.judge(None, jpeg, 0.9) is None


def test_declared_or_tiny_files_do_not_enter_the_fit_and_the_fit_reproduces():
    val = rows("software_jpeg", 40, 40, 1.0)
    noise = [{**r, "settled": "declared", "probability": 0.99, "label": 0} for r in rows("software_jpeg", 30, 0, 0.0)]
    assert abstention.fit_rule(val + noise, 0.5) == abstention.fit_rule(val, 0.5)
    assert json.dumps(abstention.fit_rule(val, 0.5)) == json.dumps(abstention.fit_rule(list(val), 0.5))


def test_operating_point_counts_confidently_wrong_among_all_images():
    group = rows("software_jpeg", 10, 10, 0.8) + rows("lossless", 10, 10, 0.3, seed=1)
    rule = abstention.fit_rule(rows("software_jpeg", 60, 60, 0.97) + rows("lossless", 60, 60, 0.3, seed=2), 0.5)
    before = abstention.operating_point(group, abstention.verdicts(group, 0.5, band=None))
    after = abstention.operating_point(group, abstention.verdicts(group, 0.5, rule=rule))
    assert before == {"n": 40, "answered": 1.0, "accuracy": pytest.approx(22 / 40), "wrong": pytest.approx(18 / 40)}
    assert after["answered"] <= 0.5 and after["wrong"] <= 4 / 40
    cov, acc = abstention.risk_coverage(group, 0.5, rule=rule)
    assert cov.max() == pytest.approx(after["answered"]) and acc[-1] == pytest.approx(after["accuracy"])


def test_damaged_rule_is_refused_not_trusted():
    with pytest.raises(ValueError, match="damaged"):
        reliability.check({"levels": {"basic": {"lossless": {"trusted": True}}}})


def rule_doc(trusted_jpeg=True) -> dict:
    entry = lambda ok: {"trusted": ok, "band": [0.4, 0.6] if ok else [0.5, 0.5],  # noqa: E731
                        "real": {"n": 50, "right": 49 if ok else 20, "low": 0.9}, "fake": {"n": 50, "right": 48, "low": 0.9}}
    table = {"software_jpeg": entry(trusted_jpeg), "lossless": entry(False)}
    return {"threshold": 0.5, "levels": {"basic": table, "full": table}}


def ruled(tmp_path, model, size=16):
    workdir = write_workdir(tmp_path / "model", model, size=size)
    (workdir / "calibration.json").write_text(json.dumps({"threshold": 0.5, "temperature": 1.0, "method": "default",
                                                          "chosen_on": None, "abstention": rule_doc()}))
    bright = np.full((64, 64, 3), 230, np.uint8)
    files = write_folder(tmp_path / "in", {"bright.jpg": encode(bright, "JPEG", quality=90), "bright.png": encode(bright, "PNG")})
    return workdir, files


@pytest.fixture
def ruled_workdir(tmp_path):
    return ruled(tmp_path, brightness_model())


def test_detector_scan_and_serving_client_abstain_alike(ruled_workdir):
    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.detect.serving_client import with_facts
    from synthdet_tf.scan.pipeline import _decided

    workdir, files = ruled_workdir
    detector = Detector.load(str(workdir))
    results = {r.path.rsplit("/", 1)[1]: r for r in detector.detect([str(files)])}
    assert results["bright.jpg"].verdict == "FAKE" and results["bright.jpg"].label == "FAKE"
    assert results["bright.png"].verdict == "UNSURE" and results["bright.png"].label == "FAKE"
    assert "lossless files" in results["bright.png"].verdict_reason
    doc = json.loads((workdir / "calibration.json").read_text())
    for name, r in results.items():
        contents = (files / name).read_bytes()
        served = with_facts(contents, {"fake_probability": r.fake_probability, "logit": r.logit, "label": r.label},
                            calibration=doc)
        facts = json.dumps({"history": r.history, "provenance": r.provenance, "marks": r.marks})
        assert (served["verdict"], served["verdict_reason"]) == (r.verdict, r.verdict_reason)
        assert _decided(r.label, facts, r.fake_probability, None, doc["abstention"])[:2] == (r.verdict, r.verdict_reason)
    plain = with_facts((files / "bright.png").read_bytes(), {"fake_probability": 0.99, "logit": 5.0, "label": "FAKE"})
    assert plain["verdict"] == "FAKE"  # without the model's document the client has no rule: as before


def test_app_why_panel_names_the_pixels_history_and_marks(tmp_path):
    import keras
    from ml_collections import ConfigDict

    from synthdet_tf.app.analysis import analyze
    from synthdet_tf.app.ui import card, why_panel
    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model(ConfigDict({"backbone": "tiny", "weights": "", "dropout": 0.0, "npr": False}), 32)
    workdir, files = ruled(tmp_path, model, size=32)
    a = analyze(Detector.load(str(workdir)), str(files / "bright.png"))
    panel = why_panel(a)
    assert a.result["verdict"] == "UNSURE" and "not trusted" in a.trust
    assert "lossless" in panel and "pixel label" in panel and "no deciding mark" in panel
    assert panel in card(a, "tiny")


def test_abstain_command_fits_reads_stores_and_refits_the_same_rule(tmp_path):
    workdir = write_workdir(tmp_path / "model", brightness_model())
    (workdir / "calibration.json").write_text(json.dumps({"threshold": 0.5, "temperature": 1.0, "method": "default",
                                                          "chosen_on": None}))
    data = brightness_folder(tmp_path / "data", n=40, size=40)
    rules = []
    for name in ("a", "b"):
        done = run_script("synthdet_scripts.abstain", f"--model={workdir}", f"--data_dir={data}", f"--workdir={tmp_path / name}",
                          f"--external={data}")  # any labelled folder, read only
        assert done.returncode == 0, done.stderr
        rules.append(json.loads((tmp_path / name / "abstention.json").read_text()))
        assert (tmp_path / name / "risk_coverage.png").stat().st_size > 1000
        report = (tmp_path / name / "report.md").read_text()
        assert "| test_remade | all |" in report and "| external_matched | all |" in report
    assert rules[0] == rules[1]
    assert set(rules[0]["chains"]) == {"as_is", "jpeg", "webp", "resized_png", "resized_jpeg", "png_from_jpeg"}
    stored = run_script("synthdet_scripts.abstain", f"--model={workdir}", f"--workdir={tmp_path / 'a'}", "--store")
    assert stored.returncode == 0, stored.stderr
    assert json.loads((workdir / "calibration.json").read_text())["abstention"] == rules[0]
    refused = run_script("synthdet_scripts.abstain", f"--model={workdir}", f"--workdir={tmp_path / 'a'}", "--store")
    assert refused.returncode != 0 and "--overwrite" in refused.stderr


SHIPPED_ROWS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "evaluation" / "abstention_{}_val_rows.csv.gz"
SHIPPED_MODEL = pathlib.Path(__file__).resolve().parents[1] / "exported" / "synthdet" / "2"


def shipped_rows(name: str = "v2") -> list[dict]:
    from synthdet_tf.evaluate.abstention_rows import _typed

    with gzip.open(str(SHIPPED_ROWS).format(name), "rt", newline="") as f:
        return [_typed({**r, "logit": ""}) for r in csv.DictReader(f)]


@pytest.mark.parametrize("name", ["v2", "v4"])
def test_the_shipped_rules_are_the_fit_of_their_validation_rows(name):
    """The rule v2 (and v4, with its streams) carries is refitted, key for key, from the validation rows
    synthdet-abstain scored."""
    exported = SHIPPED_MODEL.parents[1]
    if name == "v2":
        stored = json.loads((SHIPPED_MODEL / "assets" / "calibration.json").read_text())["abstention"]
        sidecar = json.loads((exported / "tflite" / "synthdet_v2_int8.tflite.json").read_text())
        assert sidecar["calibration"]["abstention"] == stored
    else:
        stored = json.loads((exported / "synthdet_fused_v4.json").read_text())["calibration"]["abstention"]
        assert stored["streams"]["disagree"]["trusted"] is False
    rows = shipped_rows(name)
    assert {r["split"] for r in rows} == {"val"}  # fitted on validation only
    refit = abstention.fit_rule(rows, stored["threshold"], fitted_on=stored["fitted_on"])
    assert {**refit, "ranges": stored["ranges"]} == stored


def test_the_validation_rows_are_what_the_chain_and_the_model_give(shared_dev, tmp_path):
    """A sample of the committed rows, re-made and re-scored here: same history kinds, same probabilities."""
    from synthdet_tf.detect.detector import Detector

    detector = Detector.load(str(SHIPPED_MODEL))
    ranges = Ranges.from_train_config(detector.backend.train_config())
    rows = [r for r in shipped_rows() if r["probability"] is not None and not r["settled"]]
    sample = [r for chain in ("as_is", "jpeg", "resized_png", "png_from_jpeg") for r in [x for x in rows if x["chain"] == chain][:3]]
    paths = []
    for i, r in enumerate(sample):
        made, ext, _ = remake((shared_dev / r["relpath"]).read_bytes(), r["chain"], r["relpath"], ranges)
        assert read_history(made, pixels=False)["kind"] == r["kind_basic"] and read_history(made)["kind"] == r["kind_full"]
        paths.append(tmp_path / f"{i:02d}{ext or pathlib.Path(r['relpath']).suffix}")
        paths[-1].write_bytes(made)
    for r, result in zip(sample, detector.detect([str(p) for p in paths])):
        assert result.fake_probability == pytest.approx(r["probability"], abs=1e-4), r


def test_a_fused_models_streams_that_disagree_make_it_unsure_in_detect_and_scan(tiny_fused, tmp_path):
    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.scan.handler import SynthdetModelHandler
    from synthdet_tf.scan.pipeline import _decided

    doc = json.loads((tiny_fused / "fused.json").read_text())
    trusted = {"trusted": True, "band": [0.5, 0.5], "real": {"n": 50, "right": 50, "low": 0.93},
               "fake": {"n": 50, "right": 50, "low": 0.93}}
    table = {kind: trusted for kind in ("lossless", "software_jpeg", "other")}
    apart = {"trusted": False, "real": {"n": 40, "right": 22, "low": 0.4}, "fake": {"n": 40, "right": 21, "low": 0.4}}
    doc["calibration"]["abstention"] = {"threshold": 0.5, "levels": {"basic": table, "full": table},
                                        "streams": {"cuts": {"whole": -100.0, "local": 100.0}, "disagree": apart}}
    (tiny_fused / "ruled.json").write_text(json.dumps(doc))
    detector = Detector.load(str(tiny_fused / "ruled.json"))
    names = ("big.png", "tiny.png")
    results = dict(zip(names, detector.detect([str(tiny_fused / n) for n in names])))
    assert results["big.png"].verdict == "UNSURE" and "whole image FAKE, local crops REAL" in results["big.png"].verdict_reason
    assert "22 of 40 real" in results["big.png"].verdict_reason
    assert results["tiny.png"].streams["local_logit"] is None and "streams" not in results["tiny.png"].verdict_reason
    handler = SynthdetModelHandler(str(tiny_fused / "ruled.json"))
    model = handler.load_model()
    for name, scanned in zip(names, handler.run_inference([[(tiny_fused / n).read_bytes()] for n in names], model)):
        r, p = results[name], scanned.inference
        assert p["streams"] == pytest.approx(r.streams) if r.streams["local_logit"] is not None else p["streams"]["local_logit"] is None
        caveat = r.verdict_reason if "too small" in r.verdict_reason else None  # scan's facts carry it as read
        facts = json.dumps({"history": r.history, "provenance": r.provenance, "marks": r.marks, "caveat": caveat})
        assert _decided(r.label, facts, p["fake_probability"], None, model.abstention, p["streams"])[:2] == (r.verdict, r.verdict_reason)


def test_stream_cuts_and_disagreement_are_fitted_on_the_rows():
    """Two streams: the whole-image one tells the classes apart at +1, the local one at -1 on half the files and
    is noise on the rest; the fused label follows the local one, so where they disagree it is a coin and
    disagreement is not trusted. A one-stream model gets no stream entry."""
    rng = np.random.default_rng(0)
    val = []
    for i in range(800):
        label = i % 2
        whole = (2.0 if label else 0.0) + rng.normal(0, 0.5)
        local = ((0.0 if label else -2.0) + rng.normal(0, 0.5)) if i % 4 < 2 else rng.normal(-1.0, 0.6)
        fused = 0.2 * (whole - 1.0) + (local + 1.0)
        val.append({"chain": "as_is", "source": "s", "label": label, "kind_basic": "lossless", "kind_full": "lossless",
                    "probability": float(1 / (1 + np.exp(-fused))), "settled": "", "caveat": "",
                    "whole_logit": whole, "local_logit": local})
    rule = abstention.fit_rule(val, 0.5)
    assert rule["streams"]["cuts"]["whole"] == pytest.approx(1.0, abs=0.35)
    assert rule["streams"]["cuts"]["local"] == pytest.approx(-1.0, abs=0.35)
    assert not rule["streams"]["disagree"]["trusted"] and rule["streams"]["disagree"]["real"]["n"] > 50
    one_stream = [{k: v for k, v in r.items() if not k.endswith("_logit")} for r in val]
    assert "streams" not in abstention.fit_rule(one_stream, 0.5)
