"""The external check: a folder from elsewhere, scored as-is and processing-matched at the model's own threshold."""

import csv
import io

import numpy as np
import pytest
from PIL import Image

from synthdet_tf.evaluate import external
from synthdet_tf.evaluate.calibration import sigmoid
from tests.conftest import encode, random_rgb, smooth_rgb


def _external_folder(root):
    rows = []
    for source, generator, n in (("survey", "FLUX.1-dev", 4), ("survey", "Imagen 3", 3), ("cars", "GPT-4o", 5)):
        for i in range(n):
            rel = f"fake/{source}__{generator[:4]}_{i}.png"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(encode(smooth_rgb(40 + 8 * i, 64, seed=i), "PNG"))
            rows.append({"relpath": rel, "label": "FAKE", "source": source, "generator": generator})
    for source, n in (("survey", 4), ("cars", 3)):
        for i in range(n):
            rel = f"real/{source}__r{i}.jpg"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(encode(random_rgb(48, 40 + 4 * i, seed=i), "JPEG", quality=90))
            rows.append({"relpath": rel, "label": "REAL", "source": source, "generator": ""})
    with open(root / "MANIFEST.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["relpath", "label", "source", "generator"])
        writer.writeheader()
        writer.writerows(rows)
    return root


@pytest.fixture(scope="module")
def tiny_backend(tmp_path_factory):
    from ml_collections import ConfigDict

    from synthdet_tf.detect.backends import KerasBackend
    from synthdet_tf.models import build_model

    path = tmp_path_factory.mktemp("ext_model") / "m.keras"
    build_model(ConfigDict({"backbone": "tiny", "weights": "", "dropout": 0.0, "npr": False}), 32).save(path)
    return KerasBackend(str(path))


def test_matched_reencode_caps_the_long_side_and_writes_jpeg():
    wide = encode(smooth_rgb(100, 2000), "PNG")
    with Image.open(io.BytesIO(external.matched_bytes(wide))) as im:
        assert im.format == "JPEG" and im.size == (1600, 80)
    small = encode(smooth_rgb(60, 50), "PNG")
    with Image.open(io.BytesIO(external.matched_bytes(small))) as im:
        assert im.format == "JPEG" and im.size == (50, 60)  # never enlarged


def test_check_reports_sources_generators_and_both_readings(tmp_path, tiny_backend):
    folder = _external_folder(tmp_path / "ext")
    result = external.check(tiny_backend, str(folder))
    images = external.load_folder(str(folder))
    for reading in external.READINGS:
        summary = result[reading]
        assert summary["n"] == 19 and set(summary["per_source"]) == {"survey", "cars"}
        assert {g: v["n"] for g, v in summary["per_generator"].items()} == {"FLUX.1-dev": 4, "Imagen 3": 3, "GPT-4o": 5}
        # The macro figure is the mean of the per-source ones, recomputed here from the kept logits.
        probs = sigmoid(np.array([np.mean(v) for v in result["view_logits"][reading]]))
        labels = np.array([im.label for im in images])
        baccs = []
        for source in ("cars", "survey"):
            idx = np.array([im.source == source for im in images])
            hits = (probs[idx] >= 0.5) == labels[idx].astype(bool)
            baccs.append(np.mean([hits[labels[idx] == c].mean() for c in (0, 1)]))
        assert summary["macro_balanced_accuracy"] == pytest.approx(np.mean(baccs))
    # PNG fakes become JPEGs when matched: the scores move.
    assert result["view_logits"]["as_is"] != result["view_logits"]["matched"]
    assert "| **macro** | 19 |" in external.format_markdown(result)


def test_missing_manifest_or_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="MANIFEST.csv"):
        external.load_folder(str(tmp_path))
    folder = _external_folder(tmp_path / "ext")
    (folder / "real" / "cars__r0.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="cars__r0.jpg"):
        external.load_folder(str(folder))


def test_evaluate_command_runs_the_external_check(tmp_path, tiny_backend):
    """synthdet-evaluate --external, as a user runs it: both readings on stdout and in external.json."""
    import json

    from tests.test_scripts import run_script

    folder = _external_folder(tmp_path / "ext")
    out = tmp_path / "report"
    result = run_script("synthdet_scripts.evaluate", f"--model={tiny_backend.path}", f"--external={folder}", f"--output_dir={out}")
    assert result.returncode == 0, result.stderr
    assert "| **macro** | 19 |" in result.stdout
    saved = json.loads((out / "external.json").read_text())
    assert all(saved[reading]["n"] == 19 for reading in external.READINGS)
    again = run_script("synthdet_scripts.evaluate", f"--model={tiny_backend.path}", f"--external={folder}", f"--output_dir={out}")
    assert again.returncode != 0 and "--overwrite" in again.stderr
