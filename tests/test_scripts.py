"""The console scripts, run as a user runs them."""

import json
import os
import subprocess
import sys


ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_script(module, *args):
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=ENV, timeout=300)


def test_inspect_prints_tables_and_writes_json(tiny_folder, tmp_path):
    out = tmp_path / "inspect.json"
    result = run_script("synthdet_scripts.data", "inspect", f"--data_dir={tiny_folder}", f"--output={out}")
    assert result.returncode == 0, result.stderr
    assert "Counts per class and split" in result.stdout and "PNG means FAKE" in result.stdout
    summary = json.loads(out.read_text())
    assert summary["per_class"] == {"REAL": 12, "FAKE": 12}
    again = run_script("synthdet_scripts.data", "inspect", f"--data_dir={tiny_folder}", f"--output={out}")
    assert again.returncode != 0 and "--overwrite" in again.stderr


def test_inspect_config_override_changes_sources(tiny_folder):
    result = run_script(
        "synthdet_scripts.data", "inspect", f"--data_dir={tiny_folder}", "--config.data.source_from=folder"
    )
    assert result.returncode == 0, result.stderr
    assert "cam0" not in result.stdout and "unknown" in result.stdout


def test_sample_folder_then_inspect_reports_its_bad_files(tmp_path):
    folder = tmp_path / "sample"
    made = run_script("synthdet_scripts.data", "sample", f"--out_dir={folder}")
    assert made.returncode == 0, made.stderr
    result = run_script("synthdet_scripts.data", "inspect", f"--data_dir={folder}")
    assert result.returncode == 0, result.stderr
    assert "skipped: 3" in result.stdout and "truncated or corrupt" in result.stdout
    assert run_script("synthdet_scripts.data", "sample", f"--out_dir={folder}").returncode != 0  # never overwrites


def test_unknown_verb_is_a_usage_error():
    result = run_script("synthdet_scripts.data", "train")
    assert result.returncode != 0 and "usage" in result.stderr.lower()


def test_pipeline_benchmark_measures_both_sides(tiny_folder, data_config):
    from synthdet_tf.lab.benchmarks.pipeline import format_rows, run
    from synthdet_tf.data.discovery import discover

    rows = run(discover(str(tiny_folder)).records, data_config, pillow_subset=8)
    assert [r["images"] for r in rows] == [24, 24, 24, 8, 8]
    assert all(r["images_per_s"] > 0 for r in rows)
    assert "vs baseline" in format_rows(rows)
