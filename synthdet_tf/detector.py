"""The Python API: open any exported or trained model, score image files.

    from synthdet_tf import Detector
    detector = Detector.load()                      # the shipped model in exported/
    detector = Detector.load("model_int8.tflite")   # or a workdir, .keras, SavedModel
    for result in detector.detect(["photo.jpg", "folder/"]):
        print(result.path, result.fake_probability, result.label)

Each file is checked and decoded the way training read it (`pillow_io.probe`,
`preprocess`); a file that cannot be read yields a result with `error` set
instead of stopping the run.
"""

import concurrent.futures
import dataclasses
import glob
import os
from typing import Iterable, Iterator

import numpy as np

from synthdet_tf.inference.views import model_views, read_bytes

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")
MODEL_ENV = "SYNTHDET_MODEL"
_REPO_EXPORTED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "exported")


@dataclasses.dataclass
class Result:
    path: str
    fake_probability: float | None
    label: str | None
    threshold: float
    logit: float | None = None
    crops: int = 0
    error: str | None = None


def default_model_path() -> str:
    """$SYNTHDET_MODEL, else the newest version of exported/synthdet/ in this checkout."""
    if os.environ.get(MODEL_ENV):
        return os.environ[MODEL_ENV]
    versions = [d for d in glob.glob(os.path.join(_REPO_EXPORTED, "synthdet", "*")) if os.path.basename(d).isdigit()]
    if not versions:
        raise FileNotFoundError(
            f"No default model: {_REPO_EXPORTED}/synthdet/<version> not found. Pass --model (a workdir, .keras, "
            f"SavedModel or .tflite) or set ${MODEL_ENV}."
        )
    return max(versions, key=lambda d: int(os.path.basename(d)))


def expand_paths(inputs: Iterable[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Files as given, folders walked recursively for image extensions; (files, [(path, problem)])."""
    files, problems = [], []
    for p in inputs:
        if os.path.isdir(p):
            found = sorted(
                os.path.join(d, f) for d, _, names in os.walk(p) for f in names if f.lower().endswith(IMAGE_EXTENSIONS)
            )
            if not found:
                problems.append((p, "folder holds no image files"))
            files += found
        elif os.path.isfile(p):
            files.append(p)
        else:
            problems.append((p, "no such file or folder"))
    return files, problems


class Detector:
    def __init__(self, backend):
        self.backend = backend
        self.spec = backend.spec
        self.threshold = float(backend.calibration["threshold"])
        self.temperature = float(backend.calibration["temperature"])

    @classmethod
    def load(cls, path: str | None = None, **kwargs) -> "Detector":
        from synthdet_tf.inference.backends import load_backend

        return cls(load_backend(path or default_model_path(), **kwargs))

    def _views(self, path: str, crops: int) -> np.ndarray:
        """uint8 [V, S, S, 3]: the policy's one view, or up to `crops` native-resolution crops."""
        return model_views(read_bytes(path), self.spec, crops)

    def _prepare(self, path, crops):
        try:
            return path, self._views(path, crops), None
        except Exception as e:  # one bad file must not stop the others
            return path, None, f"{type(e).__name__}: {e}".splitlines()[0][:300]

    def detect(self, paths: Iterable[str], *, batch_size: int = 32, crops: int = 1, progress: bool = False) -> Iterator[Result]:
        """Results for paths that do not exist first, then every file in order (folders expanded);
        a file that cannot be read comes back with `error` set."""
        from tqdm import tqdm

        from synthdet_tf.evaluate.calibration import sigmoid

        files, problems = expand_paths([paths] if isinstance(paths, str) else paths)
        for p, why in problems:
            yield Result(p, None, None, self.threshold, error=why)
        bar = tqdm(total=len(files), disable=not progress, unit="img", desc="detect")
        with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
            for start in range(0, len(files), batch_size):
                prepared = list(pool.map(lambda p: self._prepare(p, crops), files[start : start + batch_size]))
                good = [(p, v) for p, v, err in prepared if err is None]
                logits = self.backend.logits(np.concatenate([v for _, v in good])) if good else np.zeros(0)
                by_path, offset = {}, 0
                for p, v in good:
                    by_path[p] = (logits[offset : offset + len(v)], len(v))
                    offset += len(v)
                for p, _, err in prepared:
                    if err is not None:
                        yield Result(p, None, None, self.threshold, error=err)
                        continue
                    view_logits, n = by_path[p]
                    prob = float(np.mean(sigmoid(view_logits, self.temperature)))
                    yield Result(p, prob, "FAKE" if prob >= self.threshold else "REAL", self.threshold,
                                 logit=float(np.mean(view_logits)), crops=n)
                bar.update(len(prepared))
        bar.close()
