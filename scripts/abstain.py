"""synthdet-abstain: fit where the pixel score may be trusted, on validation only, and show what it does.

    synthdet-abstain --model=exported/synthdet/2 --data_dir=../shared/data/dev --workdir=runs/abstain/v2 \\
        --external=runs/external
    synthdet-abstain --model=exported/synthdet/2 --workdir=runs/abstain/v2 --store   # the model then uses it

The validation split (as the model was trained with it) is scored as its files are and re-made by the
training chain (JPEG, WebP, resize, PNG after JPEG, drawn alike for both classes); per file history kind
the rule trusts the pixel score only where both classes were called right often enough, and fits a band
inside trusted kinds (synthdet_tf/evaluate/abstention.py). Then the test split (every chain) and the
external check (as-is and processing-matched, evaluation only) are read before and after: the workdir gets
abstention.json, report.md and risk_coverage.png. Scored rows are cached, so a re-run resumes.

--store writes the rule into the model's calibration document (a SavedModel's assets/calibration.json, a
training workdir's calibration.json, a .tflite file's sidecar, a fused detector's .json), where detect,
scan, the app and the serving client (--calibration) read it; a rule already there is replaced only with
--overwrite.
"""

import json
import os
import shlex
import sys

from absl import app, flags

from synthdet_scripts import _cli

_MODEL = flags.DEFINE_string("model", None, "Model to fit the rule for (default: the shipped model).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "The labelled folder the model was trained on (its val and test splits).")
_WORKDIR = flags.DEFINE_string("workdir", None, "Where rows, the rule and the report go.")
_EXTERNAL = flags.DEFINE_string("external", None, "An external check folder (../shared/data/external/build.py): read only.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the chains' draws.")
_STORE = flags.DEFINE_bool("store", False, "Write workdir/abstention.json into the model's calibration document.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "With --store: replace a rule the model already carries.")


def store(model: str, rule: dict, overwrite: bool) -> str:
    """Writes `rule` into the calibration document `model` is loaded with; returns its path."""
    from synthdet_tf.detect import calibration

    if model.endswith((".tflite", ".json")):  # a TFLite file's sidecar, or a fused detector's fusion.json
        path = model + ".json" if model.endswith(".tflite") else model
        with open(path) as f:
            meta = json.load(f)
        doc = meta.setdefault("calibration", dict(calibration.DEFAULT))
    else:
        path = os.path.join(model, "assets", calibration.CALIBRATION_FILE)
        path = path if os.path.exists(path) else os.path.join(model, calibration.CALIBRATION_FILE)
        meta = doc = calibration.load(path)
    if doc.get("abstention") and not overwrite:
        raise app.UsageError(f"{path} already carries an abstention rule; pass --overwrite to replace it")
    doc["abstention"] = rule
    with open(path + ".tmp", "w") as f:
        json.dump(meta, f, indent=2)
    os.replace(path + ".tmp", path)
    return path


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not _WORKDIR.value:
        raise app.UsageError("usage: synthdet-abstain --data_dir=FOLDER --workdir=DIR [--model=...] [--external=...] [--store]")
    from synthdet_tf.detect.detector import Detector, default_model_path
    from synthdet_tf.evaluate import abstention_report as report
    from synthdet_tf.evaluate import abstention_run as run

    model = _MODEL.value or default_model_path()
    rule_path = os.path.join(_WORKDIR.value, run.RULE_FILE)
    if _STORE.value and not _DATA_DIR.value:
        with open(rule_path) as f:
            print(f"rule stored in {store(model, json.load(f), _OVERWRITE.value)}")
        return
    if not _DATA_DIR.value:
        raise app.UsageError("--data_dir is needed to fit (or pass --store alone to store a fitted rule)")
    os.makedirs(_WORKDIR.value, exist_ok=True)
    detector = Detector.load(model)
    log = lambda message: print(message, flush=True)  # noqa: E731
    rule = run.fit(detector, _DATA_DIR.value, _WORKDIR.value, seed=_SEED.value, log=log)
    readings = run.read(detector, rule, _DATA_DIR.value, _EXTERNAL.value, _WORKDIR.value, seed=_SEED.value, log=log)
    band = detector.backend.calibration.get("unsure_band")
    text = (f"# Abstention rule for {model}\n\nCommand: `{shlex.join(['synthdet-abstain', *sys.argv[1:]])}`\n\n"
            f"Fitted on {rule['fitted_on']} ({rule['n']} scored files).\n{report.rule_table(rule)}\n\n"
            f"## Before (plain band {band}) and after (the rule, facts level basic)\n\n"
            f"{report.points_table(readings, rule, band)}\n")
    with open(os.path.join(_WORKDIR.value, "report.md"), "w") as f:
        f.write(text)
    report.plot(readings, rule, band, os.path.join(_WORKDIR.value, "risk_coverage.png"))
    print(text)
    if _STORE.value:
        print(f"rule stored in {store(model, rule, _OVERWRITE.value)}")


def run():
    _cli.run(main, __name__)


if __name__ == "__main__":
    run()
