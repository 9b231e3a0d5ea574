"""The first minutes with the commands: `--help` of every console script, and a quiet start-up."""

import ast
import configparser
import os
import pathlib
import re
import subprocess
import sys

import pytest

from synthdet_scripts import _cli

ROOT = pathlib.Path(__file__).resolve().parents[1]


def console_scripts() -> dict:
    """name -> (module, function) from setup.cfg's console_scripts."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    entries = [line.split("=") for line in cfg["options.entry_points"]["console_scripts"].strip().splitlines()]
    return {name.strip(): tuple(target.strip().split(":")) for name, target in entries}


def own_flags(module: str) -> list[str]:
    """The flags a script module defines itself (flags.DEFINE_* calls in its source)."""
    path = ROOT / "scripts" / pathlib.Path(*module.split(".")[1:]).with_suffix(".py")
    calls = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)]
    return [c.args[0].value for c in calls if isinstance(c.func, ast.Attribute) and c.func.attr.startswith("DEFINE_")
            and c.args and isinstance(c.args[0], ast.Constant)]


def run_command(name, *args, env=None):
    """`name *args` as a user runs it: the installed console script, else the same wrapper pip writes."""
    module, function = console_scripts()[name]
    installed = pathlib.Path(sys.executable).parent / name
    if installed.exists():
        cmd = [str(installed), *args]
    else:  # the wrapper's __main__ has no docstring and defines no flags, like pip's
        cmd = [sys.executable, "-c", f"import sys; sys.argv[0] = {name!r}; from {module} import {function}; sys.exit({function}())", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("name", sorted(console_scripts()))
def test_help_shows_the_command_and_its_flags(name):
    module, _ = console_scripts()[name]
    result = run_command(name, "--help")
    assert result.returncode == 0, result.stderr
    assert re.search(rf"^\s+{re.escape(name)}( |$)", result.stdout, re.M), f"no usage line:\n{result.stdout}"
    flags = own_flags(module)
    assert flags and all(f"--{f}:" in result.stdout for f in flags), result.stdout
    assert "--helpfull" in result.stdout and "Try --helpfull" not in result.stdout


def test_data_help_lists_the_flags_each_verb_reads():
    source = (ROOT / "scripts" / "data.py").read_text()
    verb_flags = next(ast.literal_eval(n.value) for n in ast.walk(ast.parse(source))
                      if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "VERB_FLAGS")
    read_by_some_verb = {f for names in verb_flags.values() for f in names}
    assert set(own_flags("synthdet_scripts.data")) <= read_by_some_verb  # a new flag is given to its verbs
    everything = run_command("synthdet-data", "--help").stdout
    assert all(f"{verb} reads:" in everything for verb in verb_flags)
    assemble = run_command("synthdet-data", "assemble", "--help")
    assert assemble.returncode == 0
    assert "assemble reads:" in assemble.stdout and "--repos_dir:" in assemble.stdout
    assert "inspect reads:" not in assemble.stdout and "--num_shards:" not in assemble.stdout


def test_a_usage_error_is_one_line_that_points_at_help():
    result = run_command("synthdet-detect")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "usage error: usage: synthdet-detect" in result.stderr and "synthdet-detect --help" in result.stderr
    assert "USAGE:" not in result.stderr and "Traceback" not in result.stderr


def test_helpfull_stays_absl_s():
    result = run_command("synthdet-detect", "--helpfull")
    assert "--batch_size" in result.stdout and "--verbosity" in result.stdout


STARTUP = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796031859.041849    8365 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
W0000 00:00:1796031859.041849    8365 some_file.cc:12] a warning
E0000 00:00:1796031866.858354    8365 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
E0000 00:00:1796031866.858354    8365 other.cc:52] a real error
our own line
"""


def test_startup_noise_goes_and_errors_stay():
    assert _cli.drop_startup_noise(STARTUP) == (
        "E0000 00:00:1796031866.858354    8365 other.cc:52] a real error\nour own line\n")
    with_driver = STARTUP.replace("Could not find cuda drivers", "Something else")
    assert "failed call to cuInit" in _cli.drop_startup_noise(with_driver)  # a GPU machine's cuInit error shows


def test_quiet_unless_asked():
    assert _cli.wants_quiet(["synthdet-detect", "x.jpg"], {})
    for argv in (["synthdet-detect", "-v", "0"], ["synthdet-train", "--verbosity=1"], ["synthdet-detect", "-v=1"]):
        assert not _cli.wants_quiet(argv, {})
    assert not _cli.wants_quiet(["synthdet-detect"], {"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert not _cli.is_command(["/usr/bin/pytest"]) and _cli.is_command(["/venv/bin/synthdet-data"])


def test_a_command_imports_tensorflow_quietly():
    code = ("import sys; sys.argv[0] = 'synthdet-detect'; import synthdet_scripts; import tensorflow as tf; "
            "print(float(tf.constant(2.0) + 1), tf.__spec__.loader is tf.__loader__, file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert "3.0 True" in result.stderr
    noise = re.compile(r"^[IW]\d{4} |InitializeLog|cudart_stub|cpu_feature_guard|failed call to cuInit", re.M)
    assert not noise.search(result.stderr), result.stderr
