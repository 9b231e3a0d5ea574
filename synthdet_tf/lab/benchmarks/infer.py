"""Inference speed of every format of one model, measured in one run.

Per format: single-image latency (median of 30 calls after 5 warm-up calls)
and batch-32 throughput (median of 5 batches), on a fixed uint8 input that has
already been through the input policy, so this is the model alone; ratios are
against Keras float32 in the same run. `detect_rows` adds the end-to-end
time per image of `Detector.detect` over a folder: reading, checking,
decoding, the policy and the model.
"""

import glob
import os
import time

import keras
import numpy as np
import tensorflow as tf

from synthdet_tf.export.float_model import float32_model
from synthdet_tf.export.parity import median_seconds
from synthdet_tf.detect.backends import SavedModelBackend, TFLiteBackend


def _keras_fn(workdir, policy):
    model, _ = float32_model(workdir)
    if policy == "float32":
        return tf.function(lambda x: model(x, training=False))
    keras.mixed_precision.set_global_policy(policy)
    try:
        from ml_collections import ConfigDict

        from synthdet_tf.export.float_model import load_train_config
        from synthdet_tf.models import build_model

        cfg = load_train_config(workdir)
        m = build_model(ConfigDict({**cfg["model"], "weights": "", "dropout": 0.0}), int(cfg["data"]["image_size"]))
        m.set_weights(model.get_weights())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return tf.function(lambda x: m(x, training=False))


def formats(workdir, export_dir, name="synthdet", version=1) -> dict:
    """name -> callable(uint8 batch) for every format found."""
    out = {"keras_float32": _keras_fn(workdir, "float32"), "keras_bf16": _keras_fn(workdir, "mixed_bfloat16")}
    sm = os.path.join(export_dir, name, str(version))
    if os.path.exists(os.path.join(sm, "saved_model.pb")):
        out["saved_model"] = SavedModelBackend(sm).logits
    for path in sorted(glob.glob(os.path.join(export_dir, "tflite", f"{name}_v{version}_*.tflite"))):
        variant = os.path.basename(path)[len(f"{name}_v{version}_") : -len(".tflite")]
        out[f"tflite_{variant}"] = TFLiteBackend(path, num_threads=os.cpu_count()).logits
    return out


def run(workdir, export_dir, *, size, name="synthdet", version=1, batch=32) -> list[dict]:
    rng = np.random.default_rng(0)
    one = rng.integers(0, 256, (1, size, size, 3), dtype=np.uint8)
    many = rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
    rows = []
    for fmt, fn in formats(workdir, export_dir, name, version).items():
        latency = median_seconds(fn, one, runs=30, warmup=5)
        throughput = batch / median_seconds(fn, many, runs=5, warmup=2)
        rows.append({"format": fmt, "latency_ms": 1000 * latency, "batch32_img_per_s": throughput})
    base = rows[0]
    for r in rows:
        r["latency_vs_keras_float32"] = base["latency_ms"] / r["latency_ms"]
        r["throughput_vs_keras_float32"] = r["batch32_img_per_s"] / base["batch32_img_per_s"]
    return rows


def photo_folder(out_dir: str, width: int, height: int, n: int) -> list[str]:
    """n JPEGs (q90) of width x height made from scikit-learn's bundled photos, with sensor-like noise."""
    from PIL import Image

    from synthdet_tf.corpus.sample import bundled_photos

    os.makedirs(out_dir, exist_ok=True)
    sources = [p for _, p in bundled_photos()]
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        with Image.open(sources[i % len(sources)]) as im:
            pixels = np.asarray(im.convert("RGB").resize((width, height)), np.float32)
        pixels = np.clip(pixels + rng.normal(0, 3, pixels.shape), 0, 255).astype(np.uint8)
        path = os.path.join(out_dir, f"photo_{width}x{height}_{i}.jpg")
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def detect_rows(models: dict, sets: dict, batch_size=32) -> list[dict]:
    """End-to-end time per image of Detector.detect, per model path and image set {name: files}."""
    from PIL import Image

    from synthdet_tf.detect.detector import Detector

    rows = []
    for label, path in models.items():
        detector = Detector.load(path)
        for set_name, files in sets.items():
            list(detector.detect(files[:batch_size], batch_size=batch_size))  # warm-up: tracing, first allocations
            start = time.perf_counter()
            results = list(detector.detect(files, batch_size=batch_size))
            seconds = time.perf_counter() - start
            # A folder may hold a file that is no image (a MANIFEST.csv): detect reports it, it has no pixels.
            megapixels = sum(np.prod(Image.open(r.path).size) for r in results if not r.error) / 1e6
            rows.append({"model": label, "images": set_name, "n": len(results), "errors": sum(1 for r in results if r.error),
                         "ms_per_image": 1000 * seconds / len(results), "s_per_megapixel": seconds / megapixels})
    return rows


def format_rows(rows, detect=()) -> str:
    lines = [
        "| format | latency, 1 image (ms) | vs Keras float32 | batch 32 (img/s) | vs Keras float32 |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['format']} | {r['latency_ms']:.1f} | {r['latency_vs_keras_float32']:.2f}x | "
            f"{r['batch32_img_per_s']:.1f} | {r['throughput_vs_keras_float32']:.2f}x |"
        )
    if detect:
        lines += ["", "| synthdet-detect end to end (decode included) | images | n | ms per image | s per megapixel |", "|---|---|---:|---:|---:|"]
        for r in detect:
            lines.append(f"| {r['model']} | {r['images']} | {r['n']} | {r['ms_per_image']:.1f} | {r['s_per_megapixel']:.3f} |")
    return "\n".join(lines) + "\n"
