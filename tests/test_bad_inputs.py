"""Bad inputs, every one made here: detect, scan and the app's analysis each name, count and survive them.

Each case says what a user must see: a scored row, an UNSURE verdict with its
reason, or an error row with its reason; never a hang, a traceback or a silent
skip. Output paths are checked before a model loads, and nothing is replaced
without --overwrite, not even by a second run finishing on the same path.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from ml_collections import ConfigDict
from PIL import Image

from synthdet_tf.detect.results_file import OutputError, ResultsFile
from tests.conftest import encode, random_rgb
from tests.evaluate_fixtures import write_workdir
from tests.test_scripts import ENV, run_script

JPEG = encode(random_rgb(64, 64), "JPEG")
PNG = encode(random_rgb(64, 64), "PNG")


def _gif() -> bytes:
    import io

    frames = [Image.fromarray(random_rgb(48, 48, seed=s)) for s in (1, 2)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


# name -> (bytes, what the row must show: ("error", reason) | ("scored", verdict or None for any) | ("unsure", reason))
CASES = {
    "empty.jpg": (b"", ("error", "empty file")),
    "truncated.jpg": (JPEG[: len(JPEG) // 2], ("error", "truncated or corrupt")),
    "truncated.png": (PNG[: len(PNG) // 2], ("error", "truncated or corrupt")),
    "text.jpg": (b"this is not an image\n", ("error", "not an image")),
    "bomb.png": (encode(Image.new("1", (8100, 8100)), "PNG"), ("error", "too many pixels")),
    "one_pixel.png": (encode(random_rgb(1, 1), "PNG"), ("unsure", "image too small (1x1 px")),
    "gray16.png": (encode(Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)), "PNG"), ("scored", None)),
    "cmyk.jpg": (encode(Image.fromarray(random_rgb(64, 64)).convert("CMYK"), "JPEG"), ("scored", None)),
    "animated.gif": (_gif(), ("scored", None)),
    "with space.jpg": (JPEG, ("scored", None)),
    "ünïcødé.jpg": (JPEG, ("scored", None)),
    "new\nline.jpg": (JPEG, ("scored", None)),
    "photo.jfif": (JPEG, ("scored", None)),
    "no_extension": (PNG, ("scored", None)),
}
SPECIAL = {"loop_a.jpg": ("error", "symbolic link loop"), "loop_b.jpg": ("error", "symbolic link loop"),
           "fifo.jpg": ("error", "not a regular file (a FIFO)")}


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad") / "in"
    root.mkdir()
    for name, (data, _) in CASES.items():
        (root / name).write_bytes(data)
    os.symlink("loop_b.jpg", root / "loop_a.jpg")
    os.symlink("loop_a.jpg", root / "loop_b.jpg")
    os.mkfifo(root / "fifo.jpg")
    return root


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    keras.utils.set_random_seed(0)
    from synthdet_tf.models import build_model

    model = build_model(ConfigDict({"backbone": "tiny", "weights": "", "dropout": 0.0, "npr": False}), 32)
    return str(write_workdir(tmp_path_factory.mktemp("run"), model, size=32))


def expected() -> dict:
    return {**{name: want for name, (_, want) in CASES.items()}, **SPECIAL}


def check_rows(rows: dict) -> None:
    """rows: file name -> row dict (path, error, verdict, verdict_reason)."""
    assert sorted(rows) == sorted(expected())
    for name, (kind, what) in expected().items():
        row = rows[name]
        if kind == "error":
            assert row["error"] and what in row["error"], (name, row)
        elif kind == "unsure":
            assert not row["error"] and row["verdict"] == "UNSURE" and row["verdict_reason"].startswith(what), (name, row)
        else:
            assert not row["error"] and row["verdict"] in ("REAL", "FAKE", "UNSURE"), (name, row)


def test_detect_names_and_counts_every_bad_file_and_strict_exits_3(bad_folder, tiny_model, tmp_path):
    out = tmp_path / "scores.jsonl"
    result = run_script("synthdet_scripts.detect", f"--model={tiny_model}", f"--output={out}", "--strict", str(bad_folder))
    assert result.returncode == 3, result.stderr[-3000:]
    rows = {os.path.basename(r["path"]): r for r in map(json.loads, out.read_text().splitlines())}
    check_rows(rows)
    n_errors = sum(kind == "error" for kind, _ in expected().values())
    assert f"{len(rows) - n_errors} scored" in result.stderr and f"{n_errors} could not be scored" in result.stderr
    assert not list(tmp_path.glob("*.partial-*"))


def test_a_name_with_a_newline_keeps_the_table_one_line_a_file():
    from synthdet_scripts.detect import _shown

    assert _shown("in/new\nline.jpg") == "in/new\\nline.jpg" and _shown("ünïcødé one.jpg") == "ünïcødé one.jpg"


def test_nothing_scored_exits_2_for_an_empty_folder_and_a_mistyped_path(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_script("synthdet_scripts.detect", str(tmp_path / "empty"), str(tmp_path / "no_such_folder"))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "folder holds no files" in result.stdout and "no such file or folder" in result.stdout
    assert "nothing was scored" in result.stderr


@pytest.mark.parametrize("output, message", [
    ("/proc/scores.jsonl", "is not writable"),
    ("{tmp}/missing/scores.jsonl", "does not exist"),
    ("{tmp}/scores.txt", "must end in .jsonl, .json or .csv"),
    ("{tmp}/existing.jsonl", "exists; choose another path or pass --overwrite"),
])
def test_a_bad_output_fails_in_one_line_before_the_model_loads(output, message, tmp_path):
    (tmp_path / "existing.jsonl").write_text("someone's results\n")
    (tmp_path / "a.jpg").write_bytes(JPEG)
    result = run_script("synthdet_scripts.detect", "--model=/no/such/model", f"--output={output.format(tmp=tmp_path)}",
                        str(tmp_path / "a.jpg"))
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert "No model" not in result.stderr  # refused before the model was looked for
    assert (tmp_path / "existing.jsonl").read_text() == "someone's results\n"


def test_a_missing_model_is_one_line_and_the_traceback_comes_with_v(tmp_path):
    (tmp_path / "a.jpg").write_bytes(JPEG)
    result = run_script("synthdet_scripts.detect", "--model=/no/such/model", str(tmp_path / "a.jpg"))
    assert result.returncode == 1 and "error: No model at /no/such/model" in result.stderr
    assert "Traceback" not in result.stderr
    verbose = run_script("synthdet_scripts.detect", "-v", "0", "--model=/no/such/model", str(tmp_path / "a.jpg"))
    assert verbose.returncode != 0 and "Traceback" in verbose.stderr


def test_two_runs_on_one_output_never_both_succeed(tiny_model, tmp_path):
    """Whichever way two runs overlap, one writes the file and the other says so: at start-up ("exists") when
    the first finished before it began, at the end ("created by someone else") when both were scoring."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        (folder / f"{i}.png").write_bytes(encode(random_rgb(40, 40, seed=i), "PNG"))
    out = tmp_path / "scores.jsonl"
    args = [sys.executable, "-m", "synthdet_scripts.detect", f"--model={tiny_model}", f"--output={out}", str(folder)]
    runs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    results = [(r.wait(timeout=300), r.stderr.read()) for r in runs]
    assert sorted(code for code, _ in results) == [0, 1], results
    loser = next(err for code, err in results if code == 1)
    assert "was created by someone else during this run" in loser or "exists; choose another path" in loser
    assert len(out.read_text().splitlines()) == 6


def test_the_run_that_finishes_second_keeps_its_rows_beside_the_file(tmp_path):
    out = str(tmp_path / "scores.jsonl")
    first, second = ResultsFile(out, ("path",)), ResultsFile(out, ("path",))  # both pass the start-up check
    second.partial = out + ".partial-second"  # one process here: two runs would differ by pid
    with first, second:
        for i in range(3):
            first.write({"path": f"a{i}.jpg"}), second.write({"path": f"b{i}.jpg"})
        first.commit()
        with pytest.raises(OutputError, match="created by someone else during this run; your 3 rows are in"):
            second.commit()
    assert [json.loads(line)["path"] for line in open(out)] == ["a0.jpg", "a1.jpg", "a2.jpg"]
    assert [json.loads(line)["path"] for line in open(second.partial)] == ["b0.jpg", "b1.jpg", "b2.jpg"]


def test_an_interrupted_run_leaves_its_rows_readable(tmp_path):
    out = tmp_path / "scores.jsonl"
    with pytest.raises(KeyboardInterrupt):
        with ResultsFile(str(out), ("path", "label")) as f:
            f.write({"path": "a.jpg", "label": "REAL"})
            raise KeyboardInterrupt
    assert not out.exists() and json.loads(open(f.partial).read()) == {"path": "a.jpg", "label": "REAL"}
    (tmp_path / "mine.csv").write_text("kept\n")
    with pytest.raises(OutputError, match="exists"):
        ResultsFile(str(tmp_path / "mine.csv"), ("path",))
    assert (tmp_path / "mine.csv").read_text() == "kept\n"


def test_the_apps_analysis_survives_every_bad_file(bad_folder, tiny_model):
    from synthdet_tf.app.analysis import analyze
    from synthdet_tf.detect.detector import Detector

    detector = Detector.load(tiny_model)
    rows = {name: analyze(detector, str(bad_folder / name), name).result for name in expected()}
    check_rows(rows)


def test_scan_names_and_counts_every_bad_file(bad_folder, tiny_model, tmp_path):
    from synthdet_tf.scan import run as scan_run

    settings = scan_run.settings_for(tiny_model, num_shards=1)
    summary = scan_run.scan([str(bad_folder / "*")], str(tmp_path / "out"), settings, [])
    rows = {os.path.basename(r["path"]): r for line in (tmp_path / "out" / "results-00000-of-00001.jsonl").read_text().splitlines()
            for r in [json.loads(line)]}
    check_rows(rows)
    n_errors = sum(kind == "error" for kind, _ in expected().values())
    assert summary["matched"] == len(expected()) and summary["failed"] == n_errors and summary["reconciled"]


def test_scan_cli_errors_are_one_line(tmp_path):
    result = run_script("synthdet_scripts.scan", f"--output={tmp_path / 'out'}", str(tmp_path / "nothing_here_*.jpg"))
    assert result.returncode == 1 and "error: No file matches" in result.stderr and "Traceback" not in result.stderr
