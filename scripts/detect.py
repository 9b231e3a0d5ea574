"""synthdet-detect: is this image AI-generated? Files and folders in, a table or JSON lines / CSV out.

    synthdet-detect photo.jpg folder/                      # the shipped model (exported/)
    synthdet-detect --model=exported/tflite/synthdet_v1_int8.tflite folder/ --output=scores.jsonl
    synthdet-detect --crops=5 big_photo.jpg                # mean over 5 native-resolution crops

Folders are walked recursively. A file that cannot be read is reported on
its own line and in the output, and the run goes on; the exit status is 0
whenever the run completed.
"""

import csv
import dataclasses
import json
import os
import sys

from absl import app, flags

from synthdet_scripts import _cli

_MODEL = flags.DEFINE_string("model", None, "Workdir, .keras, SavedModel dir or .tflite (default: the shipped model).")
_OUTPUT = flags.DEFINE_string("output", None, "Write results here: .jsonl or .csv (never overwritten unless --overwrite).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an existing --output file.")
_BATCH = flags.DEFINE_integer("batch_size", 32, "Images per model call.")
_CROPS = flags.DEFINE_integer("crops", 0, "For images larger than the model input: mean over this many native-resolution crops "
                               "(0: the model's own tiling, 1 for whole-image models).")
_THREADS = flags.DEFINE_integer("num_threads", None, "TFLite interpreter threads.")
_SAMPLE = flags.DEFINE_integer("sample", 0, "Score only this many files, spread evenly over the sorted list (0 = all).")

FIELDS = ("path", "fake_probability", "label", "threshold", "logit", "crops", "error", "verdict", "verdict_reason", "provenance")


def _table(results) -> str:
    width = max([len(r.path) for r in results] + [4])
    lines = [f"{'path':<{width}}  p(fake)  label  (threshold {results[0].threshold:.3f})" if results else "no files"]
    for r in results:
        if r.error:
            lines.append(f"{r.path:<{width}}  {'-':>7}  ERROR  {r.error}")
        else:
            declared = f"  (verdict {r.verdict}, {r.verdict_reason})" if r.verdict != r.label else ""
            lines.append(f"{r.path:<{width}}  {r.fake_probability:7.4f}  {r.label}{declared}")
    return "\n".join(lines)


def _write(results, path):
    if path.endswith(".csv"):
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            for r in results:
                writer.writerow({**dataclasses.asdict(r), "provenance": json.dumps(r.provenance) if r.provenance else ""})
    elif path.endswith((".jsonl", ".json")):
        with open(path, "w") as f:
            for r in results:
                f.write(json.dumps(dataclasses.asdict(r)) + "\n")
    else:
        raise app.UsageError("--output must end in .jsonl or .csv")


def main(argv):
    if len(argv) < 2:
        raise app.UsageError("usage: synthdet-detect [--model=...] PATH [PATH ...]")
    if _OUTPUT.value and os.path.exists(_OUTPUT.value) and not _OVERWRITE.value:
        raise app.UsageError(f"{_OUTPUT.value} exists; choose another --output or pass --overwrite")
    if _CROPS.value < 0:
        raise app.UsageError("--crops must be 0 (the model's own tiling) or more")
    from synthdet_tf.detector import Detector

    kwargs = {"num_threads": _THREADS.value} if _THREADS.value and (_MODEL.value or "").endswith(".tflite") else {}
    detector = Detector.load(_MODEL.value, **kwargs)
    print(f"model: {detector.backend.kind} {detector.backend.path}", file=sys.stderr)
    from synthdet_tf.detector import expand_paths

    files, _ = expand_paths(argv[1:])
    paths = argv[1:]
    if _SAMPLE.value and len(files) > _SAMPLE.value:
        paths = [files[round(i * len(files) / _SAMPLE.value)] for i in range(_SAMPLE.value)]
        print(f"scoring {len(paths)} of {len(files)} files (--sample)", file=sys.stderr)
    results = []
    for r in detector.detect(paths, batch_size=_BATCH.value, crops=_CROPS.value or None, progress=True):
        if r.error:
            print(f"could not score {r.path}: {r.error}", file=sys.stderr)
        results.append(r)
    if _OUTPUT.value:
        _write(results, _OUTPUT.value)
        print(f"{len(results)} results written to {_OUTPUT.value}", file=sys.stderr)
    else:
        print(_table(results))
    bad = sum(1 for r in results if r.error)
    fake = sum(1 for r in results if r.label == "FAKE")
    print(f"{len(results) - bad} scored ({fake} FAKE, {len(results) - bad - fake} REAL), {bad} could not be read", file=sys.stderr)


def run():
    _cli.run(main, __name__)


if __name__ == "__main__":
    run()
