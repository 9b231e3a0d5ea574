"""synthdet-evaluate: the report a user can trust, for any model format.

    synthdet-evaluate --model=runs/lite0 --data_dir=../shared/data/dev --split=test \\
        --output_dir=reports/lite0 --robustness --audit
    synthdet-evaluate --model=exported/synthdet/2 --external=runs/external --output_dir=reports/v2_external

--model is a training workdir, a .keras file, a SavedModel directory or a
.tflite file. Writes report.json, report.md, scores.csv, calibration.json and
PNGs to --output_dir. The threshold is the one stored with the model, or is
chosen on the validation split and stored with it (training workdirs).

--external=DIR adds the external check (synthdet_tf/evaluate/external.py):
images from repositories no training source touched, scored as-is and
processing-matched at the model's stored threshold; external.md/.json.
"""

from absl import app, flags, logging

from synthdet_scripts import _cli

_MODEL = flags.DEFINE_string("model", None, "Workdir, .keras, SavedModel dir or .tflite.", required=True)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Labelled folder with real/ and fake/ (optional with --external).")
_EXTERNAL = flags.DEFINE_string("external", None, "External check folder (../shared/data/external/build.py makes it): "
                                "scored as-is and processing-matched, never used to choose anything.")
_SPLIT = flags.DEFINE_enum(
    "split", "test", ["train", "val", "test", "all"],
    "Split to report on; 'all' for a folder none of which was trained on (uses the model's stored threshold).",
)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where the report goes.", required=True)
_ROBUSTNESS = flags.DEFINE_bool("robustness", False, "Also sweep JPEG, downscaling and blur.")
_AUDIT = flags.DEFINE_bool("audit", False, "Also re-evaluate with every image re-saved as one JPEG size/quality.")
_METHOD = flags.DEFINE_enum("threshold_method", "balanced_accuracy", ["balanced_accuracy", "fpr"], "How the threshold is chosen on val.")
_TARGET_FPR = flags.DEFINE_float("target_fpr", 0.05, "With --threshold_method=fpr: the largest share of real images called fake.")
_TEMPERATURE = flags.DEFINE_bool("temperature", False, "Fit a temperature on val (calibrated probabilities).")
_RECALIBRATE = flags.DEFINE_bool("recalibrate", False, "Choose the threshold again, replacing the one stored with the model.")
_SYNTH_CHECK = flags.DEFINE_bool("synth_check", False, "With --data_dir: AUC of the split's REAL images against themselves "
                                  "with a random upsampler's trace added (data.fingerprints).")
_BATCH = flags.DEFINE_integer("batch_size", 32, "Images per batch.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace a report already in --output_dir.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not (_DATA_DIR.value or _EXTERNAL.value):
        raise app.UsageError("Give --data_dir, --external or both")
    if _DATA_DIR.value and _SYNTH_CHECK.value:
        from synthdet_tf.evaluate import synth_check

        r = synth_check.check(_MODEL.value, _DATA_DIR.value, _OUTPUT_DIR.value, split=_SPLIT.value)
        print(f"{r['split']} reals ({r['n_real']}) against themselves + an upsampler's trace: AUC {r['auc']:.4f}")
    elif _DATA_DIR.value:
        _report()
    if _EXTERNAL.value:
        from synthdet_tf.evaluate import external

        result = external.evaluate(_MODEL.value, _EXTERNAL.value, _OUTPUT_DIR.value, overwrite=_OVERWRITE.value)
        print(external.format_markdown(result))


def _report():
    from synthdet_tf.evaluate.report import evaluate_model

    report = evaluate_model(
        _MODEL.value, _DATA_DIR.value, _OUTPUT_DIR.value, split=_SPLIT.value, robustness=_ROBUSTNESS.value,
        audit_format=_AUDIT.value, batch_size=_BATCH.value, overwrite=_OVERWRITE.value,
        threshold_method=_METHOD.value, target_fpr=_TARGET_FPR.value, temperature=_TEMPERATURE.value,
        recalibrate=_RECALIBRATE.value,
    )
    a = report["at_threshold"]
    print(
        f"{report['split']}: {report['n']} images; threshold {a['threshold']:.4f}: accuracy {a['accuracy']:.4f}, "
        f"balanced accuracy {a['balanced_accuracy']:.4f}, AUC {a['roc_auc']:.4f}, AP {a['average_precision']:.4f}"
    )
    if "audit" in report:
        print(report["audit"]["verdict"])
    print(f"report: {_OUTPUT_DIR.value}/report.md")


def run():
    _cli.run(main, __name__, verbosity=logging.INFO)


if __name__ == "__main__":
    run()
