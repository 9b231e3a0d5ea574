"""synthdet-export: a trained run -> SavedModel for TF Serving and TFLite files for phones.

    synthdet-export --workdir=runs/lite0 --export_dir=exported --name=synthdet --version=1 \\
        --formats=saved_model,tflite_float32,tflite_float16,tflite_dynamic,tflite_int8

Writes <export_dir>/<name>/<version>/ (TF Serving layout) and
<export_dir>/tflite/<name>_v<version>_<variant>.tflite with a .json sidecar.
Existing versions and files are never replaced unless --overwrite. Run
synthdet-evaluate on the workdir first so the export carries the threshold
chosen on validation data. --parity then compares every written format with
the Keras model on the test split.

A fused detector (a local model and a whole-image SavedModel, issue 16):

    synthdet-export --workdir=runs/v3/local_npr_s0 --fuse_with=exported/synthdet/2 \\
        --fusion=runs/v3/fuse_npr_s0/fusion.json --fusion_rule=standardized_mean --version=3 \\
        --formats=saved_model,tflite_int8 --whole_tflite=exported/tflite/synthdet_v2_int8.tflite
"""

from absl import app, flags, logging

from synthdet_scripts import _cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Training run directory (config.json, best.keras).", required=True)
_EXPORT_DIR = flags.DEFINE_string("export_dir", "exported", "Where exports go.")
_NAME = flags.DEFINE_string("name", "synthdet", "Model name (TF Serving's model_name).")
_VERSION = flags.DEFINE_integer("version", 1, "TF Serving version number.")
_FORMATS = flags.DEFINE_list("formats", ["saved_model", "tflite_float32", "tflite_float16", "tflite_dynamic", "tflite_int8"], "Formats to write.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Training images for int8 calibration and --parity (default: the run's).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an existing version / files.")
_FUSE_WITH = flags.DEFINE_string("fuse_with", None, "Fuse --workdir (a local model) with this whole-image SavedModel.")
_FUSION = flags.DEFINE_string("fusion", None, "With --fuse_with: the fusion.json synthdet-fuse wrote.")
_FUSION_RULE = flags.DEFINE_string("fusion_rule", "standardized_mean", "With --fuse_with: which fitted rule to ship.")
_WHOLE_TFLITE = flags.DEFINE_string("whole_tflite", None, "With --fuse_with and TFLite formats: the whole-image model's .tflite.")
_PARITY = flags.DEFINE_string("parity", None, "Also write a parity report (size, latency, agreement with Keras) to this .md file.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if _FUSE_WITH.value:
        _export_fused()
        return
    from synthdet_tf.export.exporter import export

    written = export(
        _WORKDIR.value, _EXPORT_DIR.value, name=_NAME.value, version=_VERSION.value, formats=_FORMATS.value,
        overwrite=_OVERWRITE.value, data_dir=_DATA_DIR.value,
    )
    for fmt, info in written.items():
        extra = f" (weights {info['weights_bytes'] / 1e6:.2f} MB)" if "weights_bytes" in info else ""
        print(f"{fmt:15s} {info['bytes'] / 1e6:7.2f} MB  {info['path']}{extra}")
    if _PARITY.value:
        from synthdet_tf.export import parity

        rows = parity.run(_WORKDIR.value, written, data_dir=_DATA_DIR.value)
        text = parity.format_rows(rows)
        with open(_PARITY.value, "w") as f:
            f.write(text)
        print(text)


def _export_fused():
    if not _FUSION.value:
        raise app.UsageError("--fuse_with needs --fusion (the fusion.json of synthdet-fuse)")
    from synthdet_tf.export.fused import export_fused

    written = export_fused(_WORKDIR.value, _FUSE_WITH.value, _FUSION.value, _FUSION_RULE.value, _EXPORT_DIR.value, name=_NAME.value,
                           version=_VERSION.value, formats=_FORMATS.value, whole_tflite=_WHOLE_TFLITE.value,
                           overwrite=_OVERWRITE.value, data_dir=_DATA_DIR.value)
    for fmt, info in written.items():
        print(f"{fmt:15s} {info['bytes'] / 1e6:7.2f} MB  {info['path']}")


def run():
    _cli.run(main, __name__, verbosity=logging.INFO)


if __name__ == "__main__":
    run()
