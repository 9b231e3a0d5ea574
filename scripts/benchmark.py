"""synthdet-benchmark: speed targets, as ratios against a baseline measured in the same run.

    synthdet-benchmark pipeline --data_dir=../shared/data/dev [--output=bench.json]
"""

import json
import os
import platform

from absl import app, flags, logging

from synthdet_scripts.config_flag import define_config_flag

_CONFIG = define_config_flag()
_DATA_DIR = flags.DEFINE_string("data_dir", "../shared/data/dev", "Folder with real/ and fake/.")
_LIMIT = flags.DEFINE_integer("limit", 0, "Use only the first N images (0 = all).")
_OUTPUT = flags.DEFINE_string("output", None, "Also write the rows as JSON here (never overwritten).")

VERBS = ("pipeline",)


def pipeline(config):
    import tensorflow as tf

    from synthdet_tf.benchmarks import pipeline as bench
    from synthdet_tf.data.discovery import discover

    records = discover(_DATA_DIR.value, max_pixels=int(config.data.max_pixels), progress=True).records
    if _LIMIT.value:
        records = records[: _LIMIT.value]
    print(
        f"{len(records)} images from {_DATA_DIR.value}; batch {config.data.batch_size}, {config.data.image_size} px, "
        f"policy {config.data.policy}; {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, TF {tf.__version__}"
    )
    rows = bench.run(records, config.data)
    print(bench.format_rows(rows))
    return rows


def main(argv):
    if len(argv) != 2 or argv[1] not in VERBS:
        raise app.UsageError(f"usage: synthdet-benchmark {{{'|'.join(VERBS)}}} [flags]")
    if _OUTPUT.value and os.path.exists(_OUTPUT.value):
        raise app.UsageError(f"{_OUTPUT.value} exists; choose another --output")
    rows = pipeline(_CONFIG.value)
    if _OUTPUT.value:
        with open(_OUTPUT.value, "w") as f:
            json.dump(rows, f, indent=2)


def run():
    logging.set_verbosity(logging.WARNING)
    app.run(main)


if __name__ == "__main__":
    run()
