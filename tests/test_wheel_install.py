"""`pip install .` (not -e) works away from the checkout (issue 25): the wheel holds every subpackage and the
default model, and synthdet-detect / -app / -scan run from it with no $SYNTHDET_MODEL.

`test_the_wheel_works_outside_the_checkout` is the suite's one slow end-to-end test (a wheel, a venv, five
commands: about 30 s on 2 cores); `-m "not slow"` leaves it out. The others are quick.
"""

import configparser
import importlib.resources
import importlib.util
import json
import os
import pathlib
import re
import shutil
import site
import subprocess
import sys
import sysconfig

import numpy as np
import pytest
from PIL import Image

from synthdet_tf.detect import detector

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD_FILES = ("pyproject.toml", "setup.cfg", "README.md")


def source_copy(dest: pathlib.Path) -> pathlib.Path:
    """What the wheel is built from, copied: an in-tree build writes build/ and *.egg-info into the folder it
    builds, which must not happen in a checkout others work in (nor race another run of this test)."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    folders = {line.split("=")[1].strip() for line in cfg["options"]["package_dir"].strip().splitlines()}
    for name in BUILD_FILES:
        shutil.copy2(ROOT / name, dest / name)
    for folder in folders:
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__", "*.tflite"))
    return dest


def build_wheel(tmp: pathlib.Path) -> pathlib.Path:
    src, out = source_copy(_mkdir(tmp / "src")), tmp / "dist"
    # No build isolation and no index: tests run offline, and the dev extra holds setuptools and wheel.
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", str(src),
          "-w", str(out)], cwd=tmp)
    (wheel,) = out.glob("synthdet_tf-*.whl")
    return wheel


def venv_with(wheel: pathlib.Path, venv: pathlib.Path) -> pathlib.Path:
    """A venv holding only the wheel, which sees this interpreter's installed dependencies; its python."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    # This pip installs into the new venv (--python) while that venv sees nothing else yet, so it neither
    # finds nor touches the editable synthdet-tf of the dev environment.
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    # Plain paths, appended after the venv's own site-packages: the dependencies, not re-downloaded. A path
    # line does not run that folder's .pth files, so the dev install's editable finder (which maps synthdet_tf
    # to the checkout) stays out.
    ours = {*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    pathlib.Path(purelib, "dev_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return python


def _mkdir(path: pathlib.Path) -> pathlib.Path:
    path.mkdir(parents=True)
    return path


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))}\n{result.stdout}\n{result.stderr}"
    return result


def _image(path: pathlib.Path, seed: int) -> str:
    y, x = np.mgrid[0:96, 0:128]
    pixels = 127 + 100 * np.sin(x / (5 + seed) + y / 7 + np.arange(3)[:, None, None])
    Image.fromarray(np.moveaxis(pixels, 0, -1).astype(np.uint8)).save(path, quality=90)
    return path.name


WHAT_IS_IMPORTED = """
import json, synthdet_tf, synthdet_scripts, synthdet_configs.tiny, synthdet_exported, synthdet_tf.app.ui, synthdet_tf.scan.run
from synthdet_tf.detect.detector import default_model_path
modules = [synthdet_tf, synthdet_scripts, synthdet_configs.tiny, synthdet_tf.app.ui, synthdet_tf.scan.run]
print(json.dumps({"files": [m.__file__ for m in modules], "exported": list(synthdet_exported.__path__),
                  "default_model": default_model_path()}))
"""


@pytest.mark.slow
def test_the_wheel_works_outside_the_checkout(tmp_path):
    python = venv_with(build_wheel(_mkdir(tmp_path / "build")), tmp_path / "venv")
    venv, bin_dir, work = tmp_path / "venv", python.parent, _mkdir(tmp_path / "work")
    env = {k: v for k, v in os.environ.items() if k not in (detector.MODEL_ENV, "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    found = json.loads(_run([python, "-c", WHAT_IS_IMPORTED], cwd=work, env=env).stdout)
    (exported,) = found["exported"]
    inside = [*found["files"], exported, found["default_model"]]
    assert all(pathlib.Path(f).resolve().is_relative_to(venv.resolve()) for f in inside), found
    assert pathlib.Path(found["default_model"]).parts[-2:] == ("synthdet", "2")

    one, a, b = _image(work / "one.jpg", 0), _image(work / "a.jpg", 1), _image(work / "b.jpg", 2)
    detected = _run([bin_dir / "synthdet-detect", one], cwd=work, env=env)
    assert re.search(r"^one\.jpg +[01]\.\d{4}  (REAL|FAKE)", detected.stdout, re.M), detected.stdout
    assert found["default_model"] in detected.stderr  # "model: <kind> <path>": the wheel's copy

    fused = pathlib.Path(exported, "synthdet_fused_v4.json")  # names its members relative to itself
    detected = _run([bin_dir / "synthdet-detect", f"--model={fused}", one], cwd=work, env=env)
    assert re.search(r"^one\.jpg +[01]\.\d{4}  (REAL|FAKE)", detected.stdout, re.M), detected.stdout

    assert "synthdet-app" in _run([bin_dir / "synthdet-app", "--help"], cwd=work, env=env).stdout

    _run([bin_dir / "synthdet-scan", "--output=scan", a, b], cwd=work, env=env)
    summary = json.loads((work / "scan" / "summary.json").read_text())
    assert summary["reconciled"] and summary["scored"] == 2, summary


def test_default_model_order(tmp_path, monkeypatch):
    """$SYNTHDET_MODEL, else the checkout's newest version, else the installed package data."""
    checkout, installed = tmp_path / "checkout", tmp_path / "site" / "synthdet_exported"
    for version in (checkout / "synthdet" / "2", checkout / "synthdet" / "10", installed / "synthdet" / "2"):
        version.mkdir(parents=True)
    monkeypatch.setattr(detector, "_REPO_EXPORTED", str(checkout))
    monkeypatch.setattr(importlib.resources, "files", lambda name: installed)
    monkeypatch.delenv(detector.MODEL_ENV, raising=False)
    assert detector.default_model_path() == str(checkout / "synthdet" / "10")
    shutil.rmtree(checkout / "synthdet")
    assert detector.default_model_path() == str(installed / "synthdet" / "2")
    monkeypatch.setenv(detector.MODEL_ENV, "mine.tflite")
    assert detector.default_model_path() == "mine.tflite"


def test_no_default_model_is_one_clear_line(tmp_path, monkeypatch):
    def not_installed(name):
        raise ModuleNotFoundError(f"No module named {name!r}")

    monkeypatch.setattr(detector, "_REPO_EXPORTED", str(tmp_path))
    monkeypatch.setattr(importlib.resources, "files", not_installed)
    monkeypatch.delenv(detector.MODEL_ENV, raising=False)
    with pytest.raises(FileNotFoundError) as e:
        detector.default_model_path()
    assert "\n" not in str(e.value) and "--model" in str(e.value) and detector.MODEL_ENV in str(e.value)


FAIL_AN_IMPORT = """
import importlib.util, sys
sys.modules[{submodule!r}] = None  # its import now fails, as in a wheel without it
if {extra_missing}:
    real_find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda name: None if name == {extra!r} else real_find_spec(name)
from synthdet_scripts.{script} import {load}
try:
    {load}()
except BaseException as e:
    print(type(e).__name__, str(getattr(e, "code", e)), sep="|")
"""


# In a subprocess: each script defines absl flags, which one process can hold only once.
@pytest.mark.parametrize("script, load, submodule, extra", [
    ("app", "import_page", "synthdet_tf.app.ui", "gradio"),
    ("scan", "import_scan", "synthdet_tf.scan.run", "apache_beam"),
])
def test_needs_the_extra_only_when_it_is_missing(script, load, submodule, extra):
    if importlib.util.find_spec(extra) is None:
        pytest.skip(f"{extra} is not installed (the dev extra has it)")
    said = {}
    for extra_missing in (False, True):
        code = FAIL_AN_IMPORT.format(submodule=submodule, extra=extra, extra_missing=extra_missing, script=script, load=load)
        said[extra_missing] = _run([sys.executable, "-c", code], cwd=ROOT).stdout.strip().split("|", 1)
    assert said[False][0] == "SystemExit" and submodule in said[False][1] and "needs" not in said[False][1], said
    assert said[True][0] == "UsageError" and f"synthdet-{script} needs" in said[True][1], said
