"""synthdet-benchmark: speed targets, as ratios against a baseline measured in the same run.

    synthdet-benchmark pipeline [--data_dir=../shared/data/dev] [--output=bench.json]
    synthdet-benchmark train [--models=resnet18,resnet50] [--variants=float32,bf16,bf16+xla]
"""

import json
import os
import platform

from absl import app, flags, logging

from synthdet_scripts import config_flag

_LIMIT = flags.DEFINE_integer("limit", 0, "Use only the first N images (0 = all).")
_OUTPUT = flags.DEFINE_string("output", None, "Also write the rows as JSON here (never overwritten).")
_MODELS = flags.DEFINE_list("models", ["resnet18", "resnet34", "resnet50", "efficientnet_lite0"], "train: models.")
_VARIANTS = flags.DEFINE_list("variants", ["float32", "bf16"], "train: float32, bf16, float32+xla, bf16+xla, fp16.")
_STEPS = flags.DEFINE_integer("steps", 4, "train: timed steps per row (after 2 warm-up steps).")

VERBS = ("pipeline", "train")


def pipeline(config):
    import tensorflow as tf

    from synthdet_tf.benchmarks import pipeline as bench
    from synthdet_tf.data.discovery import discover

    data_dir = config.data.data_dir or "../shared/data/dev"
    records = discover(data_dir, max_pixels=int(config.data.max_pixels), progress=True).records
    if _LIMIT.value:
        records = records[: _LIMIT.value]
    print(
        f"{len(records)} images from {data_dir}; batch {config.data.batch_size}, {config.data.image_size} px, "
        f"policy {config.data.policy}; {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, TF {tf.__version__}"
    )
    rows = bench.run(records, config.data)
    print(bench.format_rows(rows))
    return rows


def train():
    import tensorflow as tf

    from synthdet_tf.benchmarks import train as bench

    print(f"batch 32, 224 px, AdamW; {os.cpu_count()} CPUs, GPUs: {len(tf.config.list_physical_devices('GPU'))}, TF {tf.__version__}")
    rows = bench.run(_MODELS.value, _VARIANTS.value, steps=_STEPS.value)
    print(bench.format_rows(rows))
    return rows


def main(argv):
    if len(argv) != 2 or argv[1] not in VERBS:
        raise app.UsageError(f"usage: synthdet-benchmark {{{'|'.join(VERBS)}}} [flags]")
    if _OUTPUT.value and os.path.exists(_OUTPUT.value):
        raise app.UsageError(f"{_OUTPUT.value} exists; choose another --output")
    rows = pipeline(config_flag.config()) if argv[1] == "pipeline" else train()
    if _OUTPUT.value:
        with open(_OUTPUT.value, "w") as f:
            json.dump(rows, f, indent=2)


def run():
    logging.set_verbosity(logging.WARNING)
    app.run(main)


if __name__ == "__main__":
    run()
