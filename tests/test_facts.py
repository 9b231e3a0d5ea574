"""What a file says about itself reaches every output: detect's results, scan's rows and the serving client."""

import json

import keras
import numpy as np
import pytest
from ml_collections import ConfigDict
from PIL import Image

from synthdet_tf.detect import marks
from synthdet_tf.detect.facts import read_facts, worth_reading_marks
from synthdet_tf.detect.serving_client import with_facts
from tests.conftest import encode, random_rgb, smooth_rgb
from tests.evaluate_fixtures import write_workdir


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    keras.utils.set_random_seed(0)
    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.models import build_model

    model = build_model(ConfigDict({"backbone": "tiny", "weights": "", "dropout": 0.0, "npr": False}), 32)
    return Detector.load(str(write_workdir(tmp_path_factory.mktemp("run"), model, size=32)))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("facts")
    (root / "marked.png").write_bytes(encode(marks.plant(smooth_rgb(512, 512, seed=4), "sdxl"), "PNG"))
    (root / "plain.png").write_bytes(encode(smooth_rgb(512, 512, seed=4), "PNG"))
    (root / "reencoded.jpg").write_bytes(encode(random_rgb(96, 128), "JPEG", quality=85))
    return root


def test_a_deciding_mark_makes_the_verdict_fake_with_what_the_file_carries(detector, files):
    results = {r.path.rsplit("/", 1)[-1]: r for r in detector.detect([str(files)], facts="full")}
    marked = results["marked.png"]
    assert marked.verdict == "FAKE" and marked.verdict_reason.startswith("carries the")
    assert marked.marks and marked.marks[0]["family"] and marked.marks[0]["decides"]
    assert results["plain.png"].marks == [] and not results["plain.png"].verdict_reason.startswith("carries")
    assert results["plain.png"].label == results["plain.png"].verdict or results["plain.png"].verdict == "UNSURE"


def test_basic_facts_read_headers_only_and_no_marks(detector, files):
    results = {r.path.rsplit("/", 1)[-1]: r for r in detector.detect([str(files)])}
    assert results["marked.png"].marks is None and results["marked.png"].verdict_reason.startswith("pixel")
    assert results["reencoded.jpg"].history["pixel_traces"] is False and results["reencoded.jpg"].history["kind"]


def test_history_is_in_every_result_and_never_decides_the_label(detector, files):
    results = {r.path.rsplit("/", 1)[-1]: r for r in detector.detect([str(files)], facts="full")}
    jpeg = results["reencoded.jpg"]
    assert jpeg.history["kind"] == "software_jpeg" and "q85" in jpeg.history["summary"]
    assert jpeg.verdict in (jpeg.label, "UNSURE") and results["plain.png"].history["kind"] in ("lossless", "resized", "other")
    json.dumps([r.__dict__ for r in results.values()])  # the JSON lines detect writes


def test_marks_are_read_only_where_a_generator_could_have_written_them():
    from synthdet_tf.data.pillow_io import probe

    camera = encode(random_rgb(3024, 4032), "JPEG", quality=92)
    assert "not a generator's output size" in worth_reading_marks(probe(camera))
    assert worth_reading_marks(probe(encode(random_rgb(1024, 768), "PNG"))) is None
    assert read_facts(camera, probe(camera)).marks == []
    with pytest.raises(ValueError, match="facts level"):
        read_facts(camera, probe(camera), "everything")


def test_the_serving_client_adds_the_facts_and_the_verdict(files):
    contents = (files / "marked.png").read_bytes()
    out = with_facts(contents, {"fake_probability": 0.2, "logit": -1.4, "label": b"REAL"}, "full")
    assert out["verdict"] == "FAKE" and out["verdict_reason"].startswith("carries the") and out["history"]["kind"]
    tiny = with_facts(encode(random_rgb(8, 8), "PNG"), {"fake_probability": 0.1, "label": "REAL"})
    assert tiny["verdict"] == "UNSURE" and "too small" in tiny["verdict_reason"]


def test_scan_rows_carry_history_and_marks(detector, files, tmp_path):
    from synthdet_tf.scan import run as scan_run

    settings = scan_run.settings_for(detector.backend.path.rsplit("/", 1)[0], num_shards=1, facts="full")
    scan_run.scan([str(files / "*")], str(tmp_path / "out"), settings, [])
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in map(json.loads, open(tmp_path / "out" / "results-00000-of-00001.jsonl"))}
    assert json.loads(rows["marked.png"]["marks"])[0]["decides"] and rows["marked.png"]["verdict"] == "FAKE"
    assert json.loads(rows["reencoded.jpg"]["history"])["kind"] == "software_jpeg"
    assert Image.open(files / "plain.png").size == (512, 512) and np.isfinite(rows["plain.png"]["fake_probability"])


def test_the_apps_card_shows_history_and_marks(detector, files):
    from synthdet_tf.app.analysis import analyze
    from synthdet_tf.app.ui import card

    html = card(analyze(detector, str(files / "marked.png"), "marked.png"), "tiny")
    assert "<h4>History</h4>" in html and "Open watermarks" in html and "decides" in html and ">FAKE<" in html
    plain = card(analyze(detector, str(files / "reencoded.jpg"), "reencoded.jpg"), "tiny")
    assert "re-encoded JPEG q85" in plain and "none found" in plain
