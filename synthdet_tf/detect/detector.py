"""The Python API: open any exported or trained model, score image files.

    from synthdet_tf import Detector
    detector = Detector.load()                      # the shipped model in exported/
    detector = Detector.load("model_int8.tflite")   # or a workdir, .keras, SavedModel
    for result in detector.detect(["photo.jpg", "folder/"]):
        print(result.path, result.fake_probability, result.label)

Each file is read once, probed once (`pillow_io.probe`) and decoded the way
training read it (`detect.views`); a file that cannot be read yields a result
with `error` set instead of stopping the run. `examine` also returns what one
file's verdict was computed from, so an explanation needs no second pass.
"""

import concurrent.futures
import dataclasses
import glob
import os
import re
from typing import Iterable, Iterator

import numpy as np

from synthdet_tf.data.pillow_io import probe
from synthdet_tf.detect.views import file_views, model_views, pool_logits, read_bytes
from synthdet_tf.detect.abstain import judged
from synthdet_tf.detect.reliability import check as check_rule
from synthdet_tf.detect.facts import FileFacts, read_facts
from synthdet_tf.detect.files import kind_problem, walk

MODEL_ENV = "SYNTHDET_MODEL"
_REPO_EXPORTED = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "exported")


@dataclasses.dataclass
class Result:
    path: str
    fake_probability: float | None
    label: str | None
    threshold: float
    logit: float | None = None
    crops: int = 0
    error: str | None = None
    # `label` is the pixel score's alone; `verdict` also weighs what the file declares (synthdet_tf.detect.provenance).
    verdict: str | None = None
    verdict_reason: str = ""
    provenance: dict | None = None
    # How the file was made and re-made (detect.history), and any open watermark found in it (detect.marks).
    history: dict | None = None
    marks: list | None = None
    # A fused model's two streams, each pooled ({"whole_logit", "local_logit"}); None for a one-stream model.
    streams: dict | None = None


@dataclasses.dataclass
class Prepared:
    """One file as detection read it: its bytes and probe, once, and what was cut from them."""

    path: str
    contents: bytes | None = None
    info: object = None  # pillow_io.ImageInfo; None when the file did not probe
    facts: FileFacts | None = None
    views: object = None  # uint8 [V, S, S, 3], or [a fused backend's views_of the file]
    image: object = None  # uint8 [H, W, 3], the native decode, when asked for (`examine`)
    error: str | None = None


def default_model_path() -> str:
    """$SYNTHDET_MODEL, else the newest exported/synthdet/<version> of this checkout (an editable install, or run
    from the repo), else the one installed with the package (setup.cfg ships it as synthdet_exported)."""
    if os.environ.get(MODEL_ENV):
        return os.environ[MODEL_ENV]
    places = [os.path.join(_REPO_EXPORTED, "synthdet")]
    found = _newest_version(places[0])
    if found:
        return found
    try:
        import importlib.resources

        # A wheel install has no exported/ beside the package; there the model is package data. A namespace
        # package (no __init__.py) resolves to a plain directory, so the SavedModel loads from it in place.
        places.append(str(importlib.resources.files("synthdet_exported") / "synthdet"))
    except (ModuleNotFoundError, NotADirectoryError, ValueError):  # not installed, or an editable install's odd path
        pass
    found = _newest_version(places[-1])
    if found:
        return found
    raise FileNotFoundError(
        f"No default model in {' or '.join(places)}: pass --model (a SavedModel dir, .tflite, .keras or training "
        f"workdir) or set ${MODEL_ENV}, or reinstall synthdet-tf (its wheel ships the default model)."
    )


def _newest_version(folder: str) -> str | None:
    versions = [d for d in glob.glob(os.path.join(folder, "*")) if os.path.basename(d).isdigit()]
    return max(versions, key=lambda d: int(os.path.basename(d))) if versions else None


def model_identity(path: str) -> tuple[str, str]:
    """(name, version) from TF Serving's <name>/<version> layout or <name>_v<version>_<variant>.tflite."""
    path = path.rstrip("/")
    base = os.path.basename(path)
    if base.isdigit():
        return os.path.basename(os.path.dirname(path)), base
    m = re.match(r"^(.+)_v(\d+)_(\w+)\.tflite$", base)
    if m:
        return m.group(1), f"{m.group(2)}-{m.group(3)}"
    return os.path.splitext(base)[0], ""


def expand_paths(inputs: Iterable[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """(files, [(path, why not scored)]): see `synthdet_tf.detect.files.walk`."""
    return walk(inputs)


class Detector:
    def __init__(self, backend):
        self.backend = backend
        self.spec = backend.spec
        self.threshold = float(backend.calibration["threshold"])
        self.temperature = float(backend.calibration["temperature"])
        # UNSURE between these (calibration.unsure_band); a model calibrated before bands has none.
        self.unsure_band = tuple(backend.calibration.get("unsure_band") or (self.threshold, self.threshold))
        # Per-history trust fitted on validation (synthdet-abstain); when present it replaces the plain band.
        rule = backend.calibration.get("abstention")
        self.abstention = check_rule(rule) if rule else None

    @classmethod
    def load(cls, path: str | None = None, **kwargs) -> "Detector":
        from synthdet_tf.detect.backends import load_backend

        return cls(load_backend(path or default_model_path(), **kwargs))

    def adapt(self, data, output_dir: str, **kwargs) -> "Detector":
        """This detector adapted to `data` (a folder with real/ and fake/, or [(path, "REAL" | "FAKE")]): the
        command `synthdet-adapt` in Python (kwargs as `synthdet_tf.adapt.run.adapt`); the result is saved in
        `output_dir` and loaded. The one arrow from detection up to adaptation, for the Python front door."""
        from synthdet_tf.adapt.run import adapt

        adapt(data, output_dir, base=self.backend.path, **kwargs)
        return Detector.load(output_dir)

    def _views(self, path: str, crops: int) -> np.ndarray:
        """uint8 [V, S, S, 3]: the policy's one view, or up to `crops` native-resolution crops."""
        return model_views(read_bytes(path), self.spec, crops)

    def _prepare(self, path, crops, keep_image: bool = False, facts: str = "basic") -> Prepared:
        """One file read, probed and cut into views once; one bad file must not stop the others."""
        problem = kind_problem(path)  # checked again here: a path can change between the walk and the read
        if problem:
            return Prepared(path, error=problem)
        try:
            contents = read_bytes(path)
        except Exception as e:
            return Prepared(path, error=_one_line(e))
        p = Prepared(path, contents)
        try:
            # Headers only: decoding the views reads every byte and raises BadImageError on a truncated
            # file, so a verifying probe would decode the file once more (a PNG in full).
            p.info = probe(contents, verify=False)
        except Exception as e:
            p.facts, p.error = read_facts(contents, level=facts), _one_line(e)
            return p
        p.facts = read_facts(contents, p.info, facts)
        try:
            p.views, p.image = file_views(self.backend, contents, p.info, crops, keep_image)
        except Exception as e:
            p.error = _one_line(e)
        return p

    def _result(self, path, facts, view_logits=None, error=None, streams=None) -> Result:
        from synthdet_tf.detect.calibration import sigmoid

        prob = label = logit = None
        if view_logits is not None:
            logit = pool_logits(view_logits)
            prob = float(sigmoid(logit, self.temperature))
            label = "FAKE" if prob >= self.threshold else "REAL"
        facts = facts or FileFacts()
        decided, why = judged(label, prob, facts.provenance, facts.history, facts.caveat, facts.marks,
                              band=self.unsure_band, rule=self.abstention, streams=streams)
        return Result(path, prob, label, self.threshold, logit=logit, crops=0 if view_logits is None else len(view_logits),
                      error=error, verdict=decided, verdict_reason=why, streams=streams, **facts.to_dict())

    def _logits(self, good) -> np.ndarray:
        if not good:
            return np.zeros(0)
        return self.backend.logits(np.concatenate(good))

    def _fused(self, good) -> list:
        """[(fused logit as a view logit [1], the streams' pooled pair)] per file of a fused backend."""
        from synthdet_tf.detect.fused import stream_pair

        found = self.backend.stream_logits([v for one in good for v in one]) if good else []
        return [(np.array([s.logit], np.float32), stream_pair(self.backend.params, s)) for s in found]

    def examine(self, path: str, facts: str = "full") -> tuple[Result, Prepared, object]:
        """(one file's Result, the Prepared file, its view logits): what the verdict weighed, for explaining it.

        The logits are float32 [V], one per view, or a fused backend's `StreamLogits`
        (each stream's per-view logits); `Prepared.image` holds the native decode.
        """
        p = self._prepare(path, None, keep_image=True, facts=facts)
        if p.error is not None:
            return self._result(path, p.facts, error=p.error), p, None
        if self.backend.scores_files:
            from synthdet_tf.detect.fused import stream_pair

            streams = self.backend.stream_logits(p.views)[0]
            pair = stream_pair(self.backend.params, streams)
            return self._result(path, p.facts, np.array([streams.logit]), streams=pair), p, streams
        logits = self._logits([p.views])
        return self._result(path, p.facts, logits), p, logits

    def detect(self, paths: Iterable[str], *, batch_size: int = 32, crops: int | None = None, progress: bool = False,
               facts: str = "basic", walked: tuple | None = None) -> Iterator[Result]:
        """Results for paths that do not exist first, then every file in order (folders expanded);
        a file that cannot be read comes back with `error` set. `crops` None: the model's own tiling.
        `facts` "full" adds the history's pixel traces and the open watermarks (detect.facts: slower).
        `walked`: (files, [(path, why)]) of a `files.walk` the caller already made (then `paths` is not walked)."""
        from tqdm import tqdm

        files, problems = walked or walk([paths] if isinstance(paths, str) else paths)
        for p, why in problems:
            yield Result(p, None, None, self.threshold, error=why, verdict_reason="no score")
        bar = tqdm(total=len(files), disable=not progress, unit="img", desc="detect")
        with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
            for start in range(0, len(files), batch_size):
                prepared = list(pool.map(lambda p: self._prepare(p, crops, facts=facts), files[start : start + batch_size]))
                good = [p.views for p in prepared if p.error is None]
                if self.backend.scores_files:  # one entry per file: its fused logit and its streams
                    scored = iter(self._fused(good))
                else:
                    logits, offset, scored = self._logits(good), 0, []
                    for views in good:
                        scored.append((logits[offset : offset + len(views)], None))
                        offset += len(views)
                    scored = iter(scored)
                for p in prepared:
                    if p.error is not None:
                        yield self._result(p.path, p.facts, error=p.error)
                        continue
                    view_logits, streams = next(scored)
                    yield self._result(p.path, p.facts, view_logits, streams=streams)
                bar.update(len(prepared))
        bar.close()


def _one_line(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0][:300]
