"""Export: SavedModel for TF Serving, TFLite variants, the REST body, Detector and synthdet-detect."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from synthdet_tf.detect import serving_client
from synthdet_tf.data.discovery import discover
from synthdet_tf.detect.detector import Detector
from synthdet_tf.detect.views import crop_boxes
from synthdet_tf.evaluate.predict import predict_logits
from synthdet_tf.export import exporter, saved_model, tflite, warmup
from synthdet_tf.detect import layout
from synthdet_tf.detect.backends import KerasBackend, load_backend
from tests.conftest import encode, noisy_real_smooth_fake, smooth_rgb
from tests.test_scripts import run_script

FORMATS = list(exporter.FORMATS)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained for one epoch on 300 generated images (noisy JPEG REAL, smooth PNG FAKE)."""
    from synthdet_configs.tiny import get_config
    from synthdet_tf.training.train import train_and_evaluate

    root = tmp_path_factory.mktemp("export")
    noisy_real_smooth_fake(root / "data", 150, (24, 64), noise=25)
    config = get_config()
    config.data.data_dir = str(root / "data")
    config.train.update(epochs=2, max_train_images=0, max_val_images=0, verbose=0, lr=3e-3)
    train_and_evaluate(config, str(root / "run"))
    (root / "run" / "calibration.json").write_text(json.dumps({"threshold": 0.4, "temperature": 1.5, "method": "test", "chosen_on": "val"}))
    written = exporter.export(str(root / "run"), str(root / "exported"), name="det", version=3, formats=FORMATS)
    return root, written


def test_layout_files_and_assets(trained):
    root, written = trained
    version = root / "exported" / "det" / "3"
    assert written["saved_model"]["path"] == str(version)
    for rel in ("saved_model.pb", "variables", "assets/labels.txt", "assets/preprocess.json", "assets/calibration.json",
                "assets/train_config.json", "assets.extra/tf_serving_warmup_requests"):
        assert (version / rel).exists(), rel
    assert (version / "assets/labels.txt").read_text().split() == ["REAL", "FAKE"]
    assert json.loads((version / "assets/calibration.json").read_text())["threshold"] == 0.4
    assert not [p for p in os.listdir(version.parent) if p.startswith(".")]  # no temporary leftovers
    # Variables stored once: the SavedModel is the weights plus a graph, not twice the weights.
    assert written["saved_model"]["bytes"] < 2 * written["saved_model"]["weights_bytes"] + 2e6
    logs = warmup.read(str(version / "assets.extra/tf_serving_warmup_requests"))
    assert len(logs) == 2 and logs[1].predict_log.request.model_spec.name == "det"


def test_never_overwrites_a_version_and_a_failed_export_leaves_nothing(trained, tmp_path):
    root, _ = trained
    with pytest.raises(FileExistsError):
        exporter.export(str(root / "run"), str(root / "exported"), name="det", version=3, formats=["saved_model"])
    with pytest.raises(FileExistsError):
        exporter.export(str(root / "run"), str(root / "exported"), name="det", version=3, formats=["tflite_float32"])
    target = tmp_path / "m" / "1"
    with pytest.raises(RuntimeError):
        with layout.atomic_dir(str(target)):
            raise RuntimeError("crash halfway")
    assert not target.exists() and os.listdir(tmp_path / "m") == []


def test_signatures_match_keras_and_carry_no_mixed_precision(trained):
    root, _ = trained
    keras_backend = KerasBackend(str(root / "run"))
    loaded = tf.saved_model.load(str(root / "exported" / "det" / "3"))
    files = sorted((root / "data" / "fake").iterdir())[:3] + sorted((root / "data" / "real").iterdir())[:3]
    out = loaded.signatures["serving_default"](image_bytes=tf.constant([f.read_bytes() for f in files]))
    records = [r for r in discover(str(root / "data")).records if r.path in {str(f) for f in files}]
    records.sort(key=lambda r: [str(f) for f in files].index(r.path))
    expected = predict_logits(keras_backend, records)
    np.testing.assert_allclose(out["logit"].numpy(), expected, atol=1e-4)
    np.testing.assert_allclose(out["fake_probability"].numpy(), 1 / (1 + np.exp(-expected / 1.5)), atol=1e-5)
    assert [x.decode() for x in out["label"].numpy()] == ["FAKE" if p >= 0.4 else "REAL" for p in out["fake_probability"].numpy()]
    # predict_images takes decoded images of any size and applies the policy itself.
    decoded = np.asarray(Image.open(files[0]).convert("RGB"))
    one = loaded.signatures["predict_images"](images=tf.constant(decoded[None]))
    assert one["logit"].shape == (1,) and abs(float(one["logit"][0]) - expected[0]) < 0.05
    # explain_images: the same logit, and Grad-CAM as computed on the Keras model for the same view.
    from synthdet_tf.detect.explain import cam_model, grad_cam, logit_of

    explained = loaded.signatures["explain_images"](images=tf.constant(decoded[None]))
    assert float(explained["logit"][0]) == pytest.approx(float(one["logit"][0]), abs=1e-5)
    cam, _ = grad_cam(cam_model(keras_backend.model), explained["view"], logit_of(0.4, 1.5))
    np.testing.assert_allclose(explained["heatmap"].numpy(), cam.numpy(), atol=1e-4)
    assert explained["heatmap"].shape == explained["view"].shape[:3]
    graph = loaded.signatures["serving_default"].graph.as_graph_def()
    dtypes = {str(a.type) for f in graph.library.function for n in f.node_def for a in n.attr.values()} | {
        str(a.type) for n in graph.node for a in n.attr.values()}
    assert str(tf.bfloat16.as_datatype_enum) not in dtypes and str(tf.float16.as_datatype_enum) not in dtypes


def test_serving_refuses_an_image_over_the_pixel_limit(trained):
    root, written = trained
    big = encode(smooth_rgb(300, 300), "PNG")
    from synthdet_tf.export.float_model import float32_model

    model, config = float32_model(str(root / "run"))
    module = saved_model.ServingModule(model, exporter.spec_of(config), {"threshold": 0.5, "temperature": 1.0}, max_pixels=200 * 200)
    fn = module.signatures()["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="larger than 40000 pixels"):
        fn(image_bytes=tf.constant([big]))
    assert fn(image_bytes=tf.constant([encode(smooth_rgb(100, 100), "JPEG")]))["logit"].shape == (1,)
    assert int(saved_model.header_pixels(tf.constant(big))) == 90000


def test_rest_body_decoded_as_tf_serving_does_gives_the_keras_scores(trained):
    """The exact JSON a REST :predict carries -> TF Serving's decoding -> serving_default == Keras."""
    root, _ = trained
    files = sorted((root / "data" / "real").iterdir())[:4] + sorted((root / "data" / "fake").iterdir())[:4]
    body = serving_client.rest_body([f.read_bytes() for f in files])
    assert json.loads(body)["instances"][0]["image_bytes"]["b64"]
    signature, inputs = serving_client.decode_rest_body(body)
    assert signature == "serving_default" and list(inputs) == ["image_bytes"]
    assert inputs["image_bytes"][0] == files[0].read_bytes()
    loaded = tf.saved_model.load(str(root / "exported" / "det" / "3"))
    served = loaded.signatures[signature](image_bytes=tf.constant(list(inputs["image_bytes"])))
    detector = Detector.load(str(root / "run"))
    keras_probs = [r.fake_probability for r in detector.detect([str(f) for f in files])]
    np.testing.assert_allclose(served["fake_probability"].numpy(), keras_probs, atol=1e-5)
    # The gRPC request carries the same bytes as a DT_STRING tensor.
    request = serving_client.grpc_request([f.read_bytes() for f in files], "det", 3)
    assert list(tf.make_ndarray(request.inputs["image_bytes"])) == list(inputs["image_bytes"])
    assert request.model_spec.version.value == 3


def test_tflite_variants_agree_with_keras(trained):
    root, written = trained
    keras_backend = KerasBackend(str(root / "run"))
    records = discover(str(root / "data")).split("test")
    reference = predict_logits(keras_backend, records)
    sizes = {}
    for variant, tol in (("tflite_float32", 1e-4), ("tflite_float16", 0.05), ("tflite_dynamic", 0.3), ("tflite_int8", 0.5)):
        backend = load_backend(written[variant]["path"])
        assert backend.spec == keras_backend.spec and backend.calibration["threshold"] == 0.4
        logits = predict_logits(backend, records)
        assert np.max(np.abs(logits - reference)) < tol * max(1.0, np.abs(reference).max()), variant
        sizes[variant] = written[variant]["bytes"]
    meta = json.loads(open(written["tflite_int8"]["path"] + ".json").read())
    assert meta["input"]["dtype"] == "uint8" and meta["output"]["name"] == "logit" and meta["input"]["representative_images"] >= 200
    assert sizes["tflite_int8"] < 0.5 * sizes["tflite_float32"]


def test_int8_needs_enough_representative_images(trained):
    root, _ = trained
    from synthdet_tf.export.float_model import float32_model

    model, _ = float32_model(str(root / "run"))
    with pytest.raises(ValueError, match="at least 200"):
        tflite.convert(model, "tflite_int8", np.zeros((10, 32, 32, 3), np.uint8))


def test_detector_reads_every_format_alike_and_reports_bad_files(trained, tmp_path):
    root, written = trained
    good = sorted((root / "data" / "fake").iterdir())[:2] + sorted((root / "data" / "real").iterdir())[:2]
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    paths = [str(p) for p in good] + [str(tmp_path / "broken.jpg"), str(tmp_path / "empty.png"), str(tmp_path / "missing.jpg")]
    by_format = {}
    for name, path in (("keras", root / "run"), ("saved_model", written["saved_model"]["path"]), ("int8", written["tflite_int8"]["path"])):
        results = list(Detector.load(str(path)).detect(paths, batch_size=3))
        assert len(results) == 7
        errors = {os.path.basename(r.path): r.error for r in results if r.error}
        assert set(errors) == {"broken.jpg", "empty.png", "missing.jpg"}
        by_format[name] = np.array([r.fake_probability for r in results if not r.error])
        assert all(r.threshold == 0.4 for r in results)
    np.testing.assert_allclose(by_format["saved_model"], by_format["keras"], atol=1e-5)
    np.testing.assert_allclose(by_format["int8"], by_format["keras"], atol=0.1)


def test_multi_crop_averages_native_resolution_crops(trained, tmp_path):
    root, _ = trained
    assert crop_boxes(100, 100, 32, 1) == [(34, 34)]
    boxes = crop_boxes(100, 200, 32, 4)
    assert len(boxes) == 4 and all(0 <= t <= 68 and 0 <= l <= 168 for t, l in boxes)
    big = tmp_path / "big.png"
    Image.fromarray(smooth_rgb(96, 128, seed=3)).save(big)
    detector = Detector.load(str(root / "run"))
    one, five = next(detector.detect([str(big)])), next(detector.detect([str(big)], crops=5))
    assert one.crops == 1 and five.crops == 5 and 0 <= five.fake_probability <= 1
    views = detector._views(str(big), 5)
    expected = 1 / (1 + np.exp(-np.mean(detector.backend.logits(views)) / 1.5))  # the crops' mean logit
    assert five.fake_probability == pytest.approx(expected, abs=1e-6)


def test_detect_script_walks_folders_and_writes_jsonl(trained, tmp_path):
    root, written = trained
    folder = tmp_path / "in" / "nested"
    folder.mkdir(parents=True)
    for f in sorted((root / "data" / "real").iterdir())[:3]:
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "bad.jpg").write_bytes(b"\xff\xd8 truncated")
    (folder / "notes.txt").write_text("not an image: tried by content, named and counted")
    out = tmp_path / "scores.jsonl"
    args = ("synthdet_scripts.detect", f"--model={written['tflite_int8']['path']}", f"--output={out}", str(tmp_path / "in"))
    result = run_script(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5 and sum(1 for r in rows if r["error"]) == 2
    assert "could not score" in result.stderr and "bad.jpg" in result.stderr and "notes.txt" in result.stderr
    again = run_script(*args)
    assert again.returncode != 0 and "exists" in again.stderr
    table = run_script("synthdet_scripts.detect", f"--model={root / 'run'}", str(folder))
    assert table.returncode == 0 and "p(fake)" in table.stdout and "ERROR" in table.stdout


def test_export_script_refuses_to_overwrite(trained):
    root, _ = trained
    result = run_script("synthdet_scripts.export", f"--workdir={root / 'run'}", f"--export_dir={root / 'exported'}", "--name=det", "--version=3", "--formats=saved_model")
    assert result.returncode != 0 and "exists" in result.stderr


def test_detect_sample_and_evaluate_all_on_an_unseen_folder(trained, tmp_path):
    root, written = trained
    result = run_script("synthdet_scripts.detect", f"--model={written['saved_model']['path']}", "--sample=5", str(root / "data"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "scoring 5 of 300 files" in result.stderr and len(result.stdout.strip().splitlines()) == 6
    from synthdet_tf.evaluate.report import evaluate_model

    report = evaluate_model(written["saved_model"]["path"], str(root / "data"), str(tmp_path / "all"), split="all")
    assert report["n"] == 300 and report["calibration"]["origin"] == "stored with the model"
    assert report["calibration"]["threshold"] == 0.4


SHIPPED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "exported")


def test_shipped_model_is_the_default_and_its_formats_agree(tmp_path):
    """The model in exported/ loads with no path, carries its card's threshold, and its int8 file agrees."""
    assert Detector.load().backend.path == os.path.join(SHIPPED, "synthdet", "2")
    detector = Detector.load()
    assert detector.threshold == pytest.approx(0.484, abs=5e-4) and detector.spec.image_size == 224
    assert detector.unsure_band == pytest.approx((0.323, 0.644), abs=5e-4)
    assert "explain_images" in detector.backend.loaded.signatures
    assert len(detector.backend.train_config()["data"]["held_out_sources"]) == 6  # never trained, selected or calibrated on
    total = layout.dir_bytes(os.path.join(SHIPPED, "synthdet")) + layout.dir_bytes(os.path.join(SHIPPED, "tflite"))
    assert total < 40e6
    from synthdet_tf.corpus.sample import write_sample_folder

    folder = write_sample_folder(str(tmp_path / "sample"), with_bad_files=True)
    results = list(detector.detect([folder]))
    int8 = list(Detector.load(os.path.join(SHIPPED, "tflite", "synthdet_v2_int8.tflite")).detect([folder]))
    good = [(a, b) for a, b in zip(results, int8) if not a.error]
    assert len(good) >= 20 and sum(1 for r in results if r.error) == 3
    assert np.mean([abs(a.fake_probability - b.fake_probability) for a, b in good]) < 0.1


def test_shipped_model_on_real_dev_images(shared_dev):
    """The shipped SavedModel on 120 dev test images: the card's numbers, not a lucky sample."""
    from synthdet_tf.data.discovery import subsample

    detector = Detector.load()
    records = subsample(discover(str(shared_dev)).split("test"), 120)
    results = list(detector.detect([r.path for r in records]))
    assert not any(r.error for r in results)
    accuracy = np.mean([(r.label == "FAKE") == (rec.label == 1) for r, rec in zip(results, records)])
    assert accuracy > 0.85


def test_parity_report_compares_every_written_format(trained):
    from synthdet_tf.export import parity

    root, written = trained
    rows = parity.run(str(root / "run"), written, data_dir=str(root / "data"))
    assert [r["format"] for r in rows] == ["keras_float32", *written]
    by = {r["format"]: r for r in rows}
    assert by["saved_model"]["max_abs_delta_prob"] < 1e-4 and by["tflite_float32"]["same_label"] == 1.0
    assert by["tflite_int8"]["latency_ms_1_threads"] > 0 and by["tflite_int8"]["bytes"] == written["tflite_int8"]["bytes"]
    assert "| tflite_int8 |" in parity.format_rows(rows)


def test_infer_benchmark_times_every_format_against_keras(trained):
    from synthdet_tf.lab.benchmarks import infer

    root, _ = trained
    rows = infer.run(str(root / "run"), str(root / "exported"), size=32, name="det", version=3, batch=4)
    formats = [r["format"] for r in rows]
    assert formats[:3] == ["keras_float32", "keras_bf16", "saved_model"] and "tflite_int8" in formats
    assert rows[0]["latency_vs_keras_float32"] == 1.0 and all(r["batch32_img_per_s"] > 0 for r in rows)
