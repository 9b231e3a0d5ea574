"""Where exported files go, and how a version is written without ever half-existing.

    <export_dir>/<name>/<version>/saved_model.pb, variables/, assets/, assets.extra/
    <export_dir>/<name>_<variant>.tflite (+ .tflite.json sidecar)

A version is written to a temporary sibling directory and renamed into place
when complete, so a crash leaves no half-written version for TF Serving to
pick up; an existing version is never replaced unless asked.
"""

import contextlib
import os
import shutil
import tempfile

PREPROCESS_FILE = "preprocess.json"
LABELS_FILE = "labels.txt"
TRAIN_CONFIG_FILE = "train_config.json"
WARMUP_FILE = "tf_serving_warmup_requests"


def version_dir(export_dir: str, name: str, version: int) -> str:
    if int(version) < 1:
        raise ValueError(f"TF Serving versions are positive integers, got {version}")
    return os.path.join(export_dir, name, str(int(version)))


def check_free(path: str, overwrite: bool) -> None:
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; choose another --version or pass --overwrite")


@contextlib.contextmanager
def atomic_dir(final: str, overwrite: bool = False):
    """Yields a temporary directory that becomes `final` only if the block succeeds."""
    check_free(final, overwrite)
    parent = os.path.dirname(os.path.abspath(final))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(final)}.partial-", dir=parent)
    try:
        yield tmp
        if os.path.exists(final):
            old = final + ".old"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_file(final: str, data: bytes, overwrite: bool = False) -> None:
    check_free(final, overwrite)
    tmp = final + ".partial"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, final)


def dir_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
