"""synthdet-benchmark: speed targets, as ratios against a baseline measured in the same run.

    synthdet-benchmark pipeline [--data_dir=../shared/data/dev] [--output=bench.json]
    synthdet-benchmark train [--models=resnet18,resnet50] [--variants=float32,bf16,bf16+xla]
    synthdet-benchmark infer --workdir=runs/lite0 --export_dir=runs/export [--data_dir=../shared/data/dev]
    synthdet-benchmark scan --data_dir=../shared/data/dev --limit=2000 [--model=exported/synthdet/2]   # [beam] extra
    synthdet-benchmark shards --data_dir=../shared/data/dev --shards=runs/shards_dev                   # shard it first
    synthdet-benchmark detect --data_dir=runs/external --compare=v2=exported/synthdet/2,v3=exported/synthdet/3
    synthdet-benchmark adapt --external=runs/adapt/external_v2.npz --dev=runs/adapt/dev_v2.npz --plot=docs/adapt/curves.png
        (caches from `python -m synthdet_tf.lab.adapt_embeddings`; see docs/adapt.md)
"""

import json
import os
import platform

from absl import app, flags

from synthdet_scripts import _cli, config_flag

_LIMIT = flags.DEFINE_integer("limit", 0, "Use only the first N images (0 = all).")
_OUTPUT = flags.DEFINE_string("output", None, "Also write the rows as JSON here (never overwritten).")
_MODELS = flags.DEFINE_list("models", ["resnet18", "resnet34", "resnet50", "efficientnet_lite0"], "train: models.")
_VARIANTS = flags.DEFINE_list("variants", ["float32", "bf16"], "train: float32, bf16, float32+xla, bf16+xla, fp16.")
_STEPS = flags.DEFINE_integer("steps", 4, "train: timed steps per row (after 2 warm-up steps).")
_WORKDIR = flags.DEFINE_string("workdir", None, "infer: the training run (Keras rows).")
_EXPORT_DIR = flags.DEFINE_string("export_dir", "exported", "infer: where synthdet-export wrote the SavedModel and TFLite files.")
_NAME = flags.DEFINE_string("name", "synthdet", "infer: exported model name.")
_VERSION = flags.DEFINE_integer("version", 1, "infer: exported version.")
_DETECT_IMAGES = flags.DEFINE_integer("detect_images", 256, "infer: images for the synthdet-detect end-to-end rows (from --data_dir).")

_MODEL = flags.DEFINE_string("model", None, "scan: the model (default: the shipped one).")
_SHARDS = flags.DEFINE_string("shards", None, "shards: the folder synthdet-data shard wrote from --data_dir.")
_SCAN_WORKERS = flags.DEFINE_integer("scan_workers", 2, "scan: DirectRunner worker processes.")

_COMPARE = flags.DEFINE_list("compare", None, "detect: name=model pairs; the first is the baseline of the ratios.")
_EXTERNAL = flags.DEFINE_string("external", None, "adapt: feature cache of the external check (lab/adapt_embeddings).")
_DEV = flags.DEFINE_string("dev", None, "adapt: feature cache of the dev set (what adapting loses; per-family curves).")
_BASE = flags.DEFINE_string("base", "exported/synthdet/2", "adapt: the base the caches were made with.")
_DRAWS = flags.DEFINE_integer("draws", 5, "adapt: random draws per (source, k).")
_METHODS = flags.DEFINE_list("methods", ["shrink", "logistic", "prototype"], "adapt: methods to compare.")
_PLOT = flags.DEFINE_string("plot", None, "adapt: also draw the external learning curves here (PNG).")
VERBS = ("pipeline", "train", "infer", "scan", "shards", "detect", "adapt")


def scan(config):
    from synthdet_tf.lab.benchmarks import scale
    from synthdet_tf.data.discovery import discover, subsample
    from synthdet_tf.detect.detector import default_model_path

    records = discover(config.data.data_dir or "../shared/data/dev").records
    files = [r.path for r in subsample(records, _LIMIT.value or 2000)]
    model = _MODEL.value or default_model_path()
    print(f"{len(files)} images, model {model}; {os.cpu_count()} CPUs")
    rows = scale.scan_vs_detect(model, files, workers=_SCAN_WORKERS.value)
    print(scale.format_rows(rows))
    return rows


def shards(config):
    from synthdet_tf.lab.benchmarks import scale

    if not _SHARDS.value:
        raise app.UsageError("shards needs --shards (a folder synthdet-data shard wrote from --data_dir)")
    data_dir = config.data.data_dir or "../shared/data/dev"
    print(f"train split of {data_dir} vs {_SHARDS.value}; {config.data.image_size} px, policy {config.data.policy}; {os.cpu_count()} CPUs")
    rows = scale.shards_vs_folder(data_dir, _SHARDS.value, config.data)
    print(scale.format_rows(rows))
    return rows


def pipeline(config):
    import tensorflow as tf

    from synthdet_tf.lab.benchmarks import pipeline as bench
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

    from synthdet_tf.lab.benchmarks import train as bench

    print(f"batch 32, 224 px, AdamW; {os.cpu_count()} CPUs, GPUs: {len(tf.config.list_physical_devices('GPU'))}, TF {tf.__version__}")
    rows = bench.run(_MODELS.value, _VARIANTS.value, steps=_STEPS.value)
    print(bench.format_rows(rows))
    return rows


def infer(config):
    import glob

    from synthdet_tf.lab.benchmarks import infer as bench
    from synthdet_tf.export.float_model import load_train_config

    if not _WORKDIR.value:
        raise app.UsageError("infer needs --workdir (a training run) and --export_dir (its export)")
    size = int(load_train_config(_WORKDIR.value)["data"]["image_size"])
    import tensorflow as tf

    print(f"{size} px; {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, TF {tf.__version__}")
    rows = bench.run(_WORKDIR.value, _EXPORT_DIR.value, size=size, name=_NAME.value, version=_VERSION.value)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        # The sizes the NPR reference was timed at (300 x 300) and a phone photo (12 MP).
        sets = {"300x300 JPEG": bench.photo_folder(tmp, 300, 300, 64), "4000x3000 JPEG": bench.photo_folder(tmp, 4000, 3000, 16)}
        data_dir = config.data.data_dir
        if data_dir:
            files = sorted(f for f in glob.glob(os.path.join(data_dir, "*", "*")) if not f.endswith(".csv"))
            step = max(1, len(files) // _DETECT_IMAGES.value)
            sets[f"dev set sample ({os.path.basename(os.path.normpath(data_dir))})"] = files[::step][: _DETECT_IMAGES.value]
        models = {"SavedModel": os.path.join(_EXPORT_DIR.value, _NAME.value, str(_VERSION.value))}
        int8 = os.path.join(_EXPORT_DIR.value, "tflite", f"{_NAME.value}_v{_VERSION.value}_int8.tflite")
        if os.path.exists(int8):
            models["TFLite int8"] = int8
        detect = bench.detect_rows(models, sets)
    print(bench.format_rows(rows, detect))
    return {"formats": rows, "detect": detect}


def detect(config):
    """synthdet-detect's time per image on one folder, per model, as ratios against the first."""
    from synthdet_tf.lab.benchmarks import infer as bench
    from synthdet_tf.detect.detector import expand_paths

    if not (_COMPARE.value and config.data.data_dir):
        raise app.UsageError("detect needs --compare=name=model,... and --data_dir")
    files, _ = expand_paths([config.data.data_dir])
    files = files[: _LIMIT.value] if _LIMIT.value else files
    models = dict(item.split("=", 1) for item in _COMPARE.value)
    rows = bench.detect_rows(models, {os.path.basename(os.path.normpath(config.data.data_dir)): files})
    base = rows[0]["ms_per_image"]
    print(f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; {len(files)} images\n")
    print("| model | ms per image | vs " + rows[0]["model"] + " |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['ms_per_image']:.1f} | {r['ms_per_image'] / base:.2f}x |")
    return rows


def adapt():
    """k-shot learning curves per method (synthdet_tf/lab/adapt_bench.py), as a Markdown table."""
    from synthdet_configs.held_out import FACE_SOURCES
    from synthdet_tf.lab import adapt_bench as bench

    if not _EXTERNAL.value:
        raise app.UsageError("adapt needs --external (and --dev for what adapting loses)")
    base_head, threshold = bench.base_reading(_BASE.value)
    ext = bench.Cache.load(_EXTERNAL.value)
    dev = bench.Cache.load(_DEV.value) if _DEV.value else None
    faces = [f.split("/")[-1] for f in FACE_SOURCES] + list(FACE_SOURCES)
    ext_rows = bench.external_curves(ext, dev, base_head, threshold, _METHODS.value, _DRAWS.value, faces)
    fam_rows = bench.family_curves(dev, base_head, threshold, _METHODS.value, _DRAWS.value) if dev is not None else []
    print(bench.markdown(ext_rows, fam_rows))
    if _PLOT.value:
        bench.plot(ext_rows, _PLOT.value)
    return {"external": ext_rows, "families": fam_rows}


def main(argv):
    if len(argv) != 2 or argv[1] not in VERBS:
        raise app.UsageError(f"usage: synthdet-benchmark {{{'|'.join(VERBS)}}} [flags]")
    if _OUTPUT.value and os.path.exists(_OUTPUT.value):
        raise app.UsageError(f"{_OUTPUT.value} exists; choose another --output")
    verbs = {"pipeline": lambda: pipeline(config_flag.config()), "train": train, "infer": lambda: infer(config_flag.config()),
             "scan": lambda: scan(config_flag.config()), "shards": lambda: shards(config_flag.config()),
             "detect": lambda: detect(config_flag.config()), "adapt": adapt}
    rows = verbs[argv[1]]()
    if _OUTPUT.value:
        with open(_OUTPUT.value, "w") as f:
            json.dump(rows, f, indent=2)


def run():
    _cli.run(main, __name__)


if __name__ == "__main__":
    run()
