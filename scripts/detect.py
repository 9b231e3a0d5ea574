"""synthdet-detect: is this image AI-generated? Files and folders in, a table or JSON lines / CSV out.

    synthdet-detect photo.jpg folder/                      # the shipped model (exported/)
    synthdet-detect --model=exported/tflite/synthdet_v2_int8.tflite folder/ --output=scores.jsonl
    synthdet-detect --crops=5 big_photo.jpg                # mean over 5 native-resolution crops

Folders are walked recursively and every regular file is tried by its
content, whatever its name; FIFOs, devices and looping links are skipped
with the reason, never opened. A file that cannot be scored is reported on
its own line and in the output, and the run goes on. --output is checked
before the model loads; rows stream to OUTPUT.partial-PID as they are scored
and move into place when the run ends (an interrupted run leaves them there).

Exit status: 0 the run completed; 1 a usage, model or output error (one
line; -v 0 adds the traceback); 2 nothing was scored (empty folder, wrong
path, no readable image); 3 with --strict, some inputs could not be scored;
130 interrupted.
"""

import collections
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
_FACTS = flags.DEFINE_enum("facts", "basic", ["basic", "full"], "What to read beside the pixels: basic (provenance, the "
                            "file's history from its headers) or full (also pixel traces of its history and open watermarks; slower).")
_STRICT = flags.DEFINE_bool("strict", False, "Exit 3 when any input could not be scored.")
_SAMPLE = flags.DEFINE_integer("sample", 0, "Score only this many files, spread evenly over the sorted list (0 = all).")

FIELDS = ("path", "fake_probability", "label", "threshold", "logit", "crops", "error", "verdict", "verdict_reason", "provenance",
          "history", "marks")


EXIT_NOTHING_SCORED, EXIT_SOME_FAILED, EXIT_INTERRUPTED = 2, 3, 130


def _shown(path: str) -> str:
    """A name with a newline or a control character must not break the table: shown escaped."""
    return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")


def _line(r, width: int) -> str:
    if r.error:
        return f"{_shown(r.path):<{width}}  {'-':>7}  ERROR  {r.error}"
    differs = f"  (verdict {r.verdict}, {r.verdict_reason})" if r.verdict != r.label else ""
    return f"{_shown(r.path):<{width}}  {r.fake_probability:7.4f}  {r.label}{differs}"


def _inputs(argv) -> tuple[tuple, int]:
    """((files, [(path, why)]) for Detector.detect, the table's path width): the folders walked once;
    --sample spreads over the sorted files."""
    from synthdet_tf.detect.files import walk

    files, problems = walk(argv[1:])
    if _SAMPLE.value and len(files) > _SAMPLE.value:
        total, files = len(files), [files[round(i * len(files) / _SAMPLE.value)] for i in range(_SAMPLE.value)]
        print(f"scoring {len(files)} of {total} files (--sample)", file=sys.stderr)
    return (files, problems), max([len(p) for p in files + [p for p, _ in problems]] + [4])


def _score(detector, walked, out, width) -> tuple[int, int, int, collections.Counter]:
    """Streams each result to `out` (a ResultsFile) or stdout as it comes; (scored, fake, failed, verdicts)."""
    scored = fake = failed = 0
    verdicts = collections.Counter()
    for r in detector.detect([], batch_size=_BATCH.value, crops=_CROPS.value or None, progress=True, facts=_FACTS.value,
                             walked=walked):
        if r.error:
            failed += 1
            print(f"could not score {_shown(r.path)}: {r.error}", file=sys.stderr)
        else:
            scored += 1
            fake += r.label == "FAKE"
            verdicts[r.verdict] += 1
        if out:
            out.write(r)
        else:
            print(_line(r, width), flush=True)
    return scored, fake, failed, verdicts


def main(argv):
    if len(argv) < 2:
        raise app.UsageError("usage: synthdet-detect [--model=...] PATH [PATH ...]")
    if _CROPS.value < 0:
        raise app.UsageError("--crops must be 0 (the model's own tiling) or more")
    from synthdet_tf.detect.results_file import ResultsFile, check_output

    if _OUTPUT.value:
        check_output(_OUTPUT.value, _OVERWRITE.value)  # before the model loads: a bad path costs nothing
    from synthdet_tf.detect.detector import Detector

    kwargs = {"num_threads": _THREADS.value} if _THREADS.value and (_MODEL.value or "").endswith(".tflite") else {}
    detector = Detector.load(_MODEL.value, **kwargs)
    print(f"model: {detector.backend.kind} {detector.backend.path}", file=sys.stderr)
    walked, width = _inputs(argv)
    out = ResultsFile(_OUTPUT.value, FIELDS, _OVERWRITE.value) if _OUTPUT.value else None
    if not out:
        print(f"{'path':<{width}}  p(fake)  label  (threshold {detector.threshold:.3f})")
    try:
        with out or _NoFile():
            scored, fake, failed, verdicts = _score(detector, walked, out, width)
            if out:
                out.commit()
                print(f"{out.rows} results written to {_OUTPUT.value}", file=sys.stderr)
    except BaseException as e:
        if out and out.rows:
            print(f"rows scored so far ({out.rows}) are in {out.partial}", file=sys.stderr)
        if isinstance(e, KeyboardInterrupt):
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        raise
    said = ", ".join(f"{verdicts[v]} {v}" for v in ("FAKE", "REAL", "UNSURE") if verdicts[v])
    print(f"{scored} scored (pixel labels: {fake} FAKE, {scored - fake} REAL; verdicts: {said or 'none'}), "
          f"{failed} could not be scored", file=sys.stderr)
    if scored == 0:
        print("nothing was scored", file=sys.stderr)
        return EXIT_NOTHING_SCORED
    return EXIT_SOME_FAILED if failed and _STRICT.value else 0


class _NoFile:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def run():
    _cli.run(main, __name__)


if __name__ == "__main__":
    run()
