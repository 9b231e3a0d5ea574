"""synthdet-scan on the DirectRunner: every file accounted for, the same scores as synthdet-detect."""

import json
import shutil

import pyarrow.parquet as pq
import pytest

from synthdet_tf.detect.detector import Detector, model_identity
from synthdet_tf.scan import run as scan_run
from tests.conftest import SHARED_DEV, bad_cases, write_folder
from tests.test_scripts import run_script

SHIPPED_V1 = "exported/synthdet/1"


def jsonl_rows(folder, prefix="results"):
    return [json.loads(line) for path in sorted(folder.glob(f"{prefix}-*.jsonl")) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """16 dev images (both classes) plus the planted bad files, scanned with the shipped v1 SavedModel."""
    if not (SHARED_DEV / "MANIFEST.csv").exists():
        pytest.skip(f"shared dev data not found at {SHARED_DEV}")
    shared_dev = SHARED_DEV.resolve()
    root = tmp_path_factory.mktemp("scan")
    inputs = root / "in"
    for cls in ("real", "fake"):
        for path in sorted((shared_dev / cls).iterdir())[:8]:
            (inputs / cls).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, inputs / cls / path.name)
    write_folder(inputs / "bad", {name: data for name, (data, _) in bad_cases().items()})
    settings = scan_run.settings_for(SHIPPED_V1, num_shards=2)
    summary = scan_run.scan([str(inputs / "real" / "*"), str(inputs / "fake" / "*"), str(inputs / "bad" / "*")],
                            str(root / "out"), settings, [])
    return inputs, root / "out", summary, settings


def test_every_file_is_accounted_for_and_bad_files_carry_their_reason(scanned):
    inputs, out, summary, _ = scanned
    files = sorted(str(p) for p in inputs.rglob("*") if p.is_file())
    rows = jsonl_rows(out)
    assert sorted(r["path"] for r in rows) == files and summary["matched"] == len(files) == 21
    assert summary["scored"] == 16 and summary["failed"] == 5 and summary["reconciled"]
    dead = {r["path"].rsplit("/", 1)[-1]: r["error"] for r in jsonl_rows(out, "failed")}
    for name, (_, reason) in bad_cases().items():
        assert reason in dead[name]
    assert sum(summary["histogram"]) == 16 and sum(summary["labels"].values()) == 16
    assert summary["model"]["version"] == "1" and summary["runner"] == "FnApiRunner"  # local, no Prism download
    assert sum(summary["verdicts"].values()) == 21 and summary["declared_ai"] == sum(
        r["verdict_reason"].startswith("declared") for r in jsonl_rows(out))


def test_scores_equal_synthdet_detect_and_parquet_equals_jsonl(scanned):
    inputs, out, _, settings = scanned
    rows = {r["path"]: r for r in jsonl_rows(out) if not r["error"]}
    detected = {r.path: r for r in Detector.load(SHIPPED_V1).detect(sorted(rows))}
    for path, row in rows.items():
        assert row["fake_probability"] == pytest.approx(detected[path].fake_probability, abs=1e-5)
        assert row["label"] == detected[path].label and row["threshold"] == settings.threshold
        assert row["verdict"] == detected[path].verdict and json.loads(row["provenance"]) == detected[path].provenance
    from synthdet_tf.scan.pipeline import COLUMNS, parquet_schema

    assert parquet_schema().names == list(COLUMNS) and all(tuple(r) == COLUMNS for r in jsonl_rows(out))
    table = [row for p in sorted(out.glob("results-*.parquet")) for row in pq.read_table(p).to_pylist()]
    by_path = lambda rows: sorted(rows, key=lambda r: r["path"])  # noqa: E731
    assert by_path(table) == by_path(jsonl_rows(out))


def test_a_rerun_refuses_then_replaces_with_the_same_output(scanned, tmp_path):
    inputs, out, summary, settings = scanned
    patterns = [str(inputs / "real" / "*"), str(inputs / "fake" / "*"), str(inputs / "bad" / "*")]
    with pytest.raises(FileExistsError, match="--overwrite"):
        scan_run.scan(patterns, str(out), settings, [])
    before = {r["path"]: r for r in jsonl_rows(out)}
    again = scan_run.scan(patterns, str(out), settings, [], overwrite=True)
    after = {r["path"]: r for r in jsonl_rows(out)}
    assert after.keys() == before.keys() and len(jsonl_rows(out)) == len(before)
    for path, row in after.items():
        # Beam may batch files differently on a re-run; oneDNN's sums then differ in the last bits.
        assert {k: v for k, v in row.items() if k not in ("fake_probability", "logit")} == \
            {k: v for k, v in before[path].items() if k not in ("fake_probability", "logit")}
        assert row["fake_probability"] == pytest.approx(before[path]["fake_probability"], abs=1e-5, nan_ok=True) \
            if row["fake_probability"] is not None else before[path]["fake_probability"] is None
    assert again["matched"] == summary["matched"] and len(list(out.glob("results-*.jsonl"))) == 2


def test_cli_errors_before_any_work(tmp_path):
    nothing = run_script("synthdet_scripts.scan", f"--output={tmp_path / 'o'}", f"--model={SHIPPED_V1}", str(tmp_path / "none*.jpg"))
    assert nothing.returncode != 0 and "No file matches" in nothing.stderr
    broken = run_script("synthdet_scripts.scan", f"--output={tmp_path / 'o'}", f"--model={tmp_path / 'missing'}", str(tmp_path))
    assert broken.returncode != 0 and "No model at" in broken.stderr
    assert not (tmp_path / "o").exists()


def test_model_identity_from_the_export_layouts():
    assert model_identity("exported/synthdet/2/") == ("synthdet", "2")
    assert model_identity("gs://b/exported/tflite/synthdet_v2_int8.tflite") == ("synthdet", "2-int8")
    assert model_identity("runs/x/best.keras") == ("best", "")
