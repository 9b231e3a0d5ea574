"""Input-pipeline throughput: synthdet's tf.data pipeline vs the Pillow loop.

The baseline is what most research repos do: open each file with Pillow,
convert to RGB, resize and stack numpy batches, in one Python loop. Both read
the same files (already in the OS page cache) and produce the same uint8
[32, S, S, 3] batches (normalisation is the model's first layer in synthdet;
the baseline is spared its float conversion too, so the ratio errs in its
favour). synthdet's pipeline also augments.
"""

import dataclasses
import time

import numpy as np
from PIL import Image

from synthdet_tf.data.pipeline import make_dataset


def pillow_loop(paths, size: int, batch_size: int) -> int:
    """The research-repo baseline; returns the number of images it produced."""
    batch, n = [], 0
    for path in paths:
        with Image.open(path) as image:
            batch.append(np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR)))
        if len(batch) == batch_size:
            n += len(np.stack(batch))
            batch = []
    if batch:
        n += len(np.stack(batch))
    return n


def _drain(ds) -> int:
    return sum(int(y.shape[0]) for _, y in ds)


def _timed(fn, repeats: int = 3):
    """(images, best seconds of `repeats` runs): this machine's timings are noisy."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        n = fn()
        best = min(best, time.perf_counter() - start)
    return n, best


def run(records, data_config, pillow_subset: int = 512) -> list[dict]:
    """Measures every row in one run; returns rows of {name, images, seconds, images_per_s}."""
    cfg = data_config.copy_and_resolve_references()  # the caller's config stays as it was
    size, batch_size = int(cfg.image_size), int(cfg.batch_size)
    for r in records:  # page cache: both sides read warm files
        with open(r.path, "rb") as f:
            f.read()

    rows = []

    def add(name, n, seconds):
        rows.append({"name": name, "images": n, "seconds": round(seconds, 3), "images_per_s": round(n / seconds, 1)})

    add("pillow loop (baseline)", *_timed(lambda: pillow_loop([r.path for r in records], size, batch_size)))

    cfg.cache, cfg.balance = "none", "none"
    ds = make_dataset(records, cfg, batch_size=batch_size, training=True, seed=0)
    next(iter(ds))  # start-up (thread pools, autotune) is not throughput
    add("tf.data: decode + policy + augment", *_timed(lambda: _drain(ds)))

    cfg.cache = "memory"
    cached = make_dataset(records, cfg, batch_size=batch_size, training=True, seed=0)
    _drain(cached)
    add("tf.data, cached, 2nd epoch", *_timed(lambda: _drain(cached)))

    # The Pillow fallback (numpy_function) against TF's own decoder, same files.
    cfg.cache = "none"
    subset = records[:pillow_subset]
    forced = [dataclasses.replace(r, info=dataclasses.replace(r.info, needs_pillow=True)) for r in subset]
    for name, recs in (("decode subset with TF", subset), ("decode subset with Pillow fallback", forced)):
        sub_ds = make_dataset(recs, cfg, batch_size=batch_size, training=False)
        next(iter(sub_ds))
        add(name, *_timed(lambda: _drain(sub_ds)))
    return rows


def format_rows(rows) -> str:
    base = rows[0]["images_per_s"]
    lines = [f"{'pipeline':40s} {'images':>7s} {'seconds':>8s} {'img/s':>8s} {'vs baseline':>11s}"]
    for r in rows:
        lines.append(
            f"{r['name']:40s} {r['images']:7d} {r['seconds']:8.2f} {r['images_per_s']:8.1f} {r['images_per_s'] / base:10.2f}x"
        )
    tf_row, pil_row = rows[-2], rows[-1]
    lines.append(f"Pillow fallback costs {tf_row['images_per_s'] / pil_row['images_per_s']:.2f}x the time of TF decoding (same files).")
    return "\n".join(lines)
