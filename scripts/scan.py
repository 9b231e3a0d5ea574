"""synthdet-scan: score millions of images with Apache Beam (needs the `[beam]` extra).

    synthdet-scan --output=runs/scan 'photos/**/*.jpg' 'more/*'            # local runner (FnApiRunner), shipped model
    synthdet-scan --model=exported/synthdet/2 --output=runs/scan 'photos/**' \\
        --direct_num_workers=2 --direct_running_mode=multi_processing      # any Beam option passes through

Patterns are Beam file patterns (local, gs://, s3://). Writes, under --output:
results-*.jsonl and results-*.parquet (one row per matched file), failed-*.jsonl
(dead letters with the reason) and summary.json (counts, labels, histogram,
runner, wall time; matched = scored + failed).
"""

import json
import sys

from absl import app, flags, logging

from synthdet_scripts import _cli

_MODEL = flags.DEFINE_string("model", None, "SavedModel dir, .tflite, .keras or workdir; local or remote (default: the shipped model).")
_OUTPUT = flags.DEFINE_string("output", None, "Output folder (local, gs://, ...).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an earlier scan's files in --output.")
_CROPS = flags.DEFINE_integer("crops", 0, "For images larger than the model input: mean over this many native-resolution crops "
                               "(0: the model's own tiling, 1 for whole-image models).")
_BATCH = flags.DEFINE_integer("batch_size", 32, "Largest batch RunInference hands the model.")
_SHARDS = flags.DEFINE_integer("num_shards", 4, "Output shards (fixed, so a re-run replaces its own files).")
_FACTS = flags.DEFINE_enum("facts", "basic", ["basic", "full"], "basic: provenance and header history; full: also "
                            "pixel traces and open watermarks (slower).")
_MAX_PIXELS = flags.DEFINE_integer("max_pixels", 64_000_000, "Larger images are refused before decoding.")


def split_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """(file patterns, Beam pipeline options) from what absl did not parse."""
    patterns = [a for a in argv[1:] if not a.startswith("--")]
    return patterns, [a for a in argv[1:] if a.startswith("--")]


def import_scan():
    """(scan, settings_for) from synthdet_tf.scan.run, or a one-line reason why not."""
    return _cli.import_extra("synthdet_tf.scan.run", ("scan", "settings_for"), "apache_beam", "beam", "synthdet-scan")


def main(argv):
    patterns, beam_args = split_args(argv)
    if not patterns or not _OUTPUT.value:
        raise app.UsageError("usage: synthdet-scan --output=DIR [--model=...] PATTERN [PATTERN ...] [--beam_option=...]")
    scan, settings_for = import_scan()
    from synthdet_tf.detect.detector import default_model_path

    settings = settings_for(_MODEL.value or default_model_path(), crops=_CROPS.value, max_pixels=_MAX_PIXELS.value,
                            batch_size=_BATCH.value, num_shards=_SHARDS.value, facts=_FACTS.value)
    summary = scan(patterns, _OUTPUT.value, settings, beam_args, overwrite=_OVERWRITE.value)
    print(json.dumps(summary, indent=2))
    return 0 if summary["reconciled"] else 1


def run():
    # Flags absl does not know are Beam pipeline options (--runner, --project, ...).
    _cli.run(main, __name__, verbosity=logging.INFO, known_only=True)


if __name__ == "__main__":
    sys.exit(run())
