"""Scaling out: `synthdet-scan` on Beam against `synthdet-detect`, TFRecord shards against the folder.

Both pairs read the same images in the same run, so the ratios hold on this
machine even when absolute timings wander.
"""

import os
import tempfile
import time


def linked_folder(files, root: str) -> str:
    """A folder of symlinks to `files`, so one Beam pattern matches exactly them."""
    folder = os.path.join(root, "images")
    os.makedirs(folder)
    for i, path in enumerate(files):
        os.symlink(os.path.abspath(path), os.path.join(folder, f"{i:06d}_{os.path.basename(path)}"))
    return folder


def scan_vs_detect(model: str, files: list[str], workers: int = 2) -> list[dict]:
    """Wall time of synthdet-detect (one process) and synthdet-scan (DirectRunner, `workers` processes)."""
    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.scan.run import scan, settings_for

    rows = []
    start = time.perf_counter()
    detector = Detector.load(model)
    results = list(detector.detect(files))
    rows.append({"name": "synthdet-detect (1 process, model load included)", "images": len(results),
                 "seconds": time.perf_counter() - start})
    with tempfile.TemporaryDirectory() as tmp:
        pattern = os.path.join(linked_folder(files, tmp), "*")
        for mode, args in (("in-process", []),
                           (f"multi_processing, {workers} workers", [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"])):
            start = time.perf_counter()
            summary = scan([pattern], os.path.join(tmp, f"out_{len(rows)}"), settings_for(model), args)
            rows.append({"name": f"synthdet-scan {summary['runner']}, {mode}", "images": summary["matched"],
                         "seconds": time.perf_counter() - start})
    return _with_ratios(rows)


def shards_vs_folder(folder: str, shard_folder: str, data_config, split: str = "train", repeats: int = 2) -> list[dict]:
    """One cold training epoch (no cache, no augmentation), from the files and from the shards.

    "with discovery" adds what a training run does first: the folder path
    checks every file (a full decode), the shard path reads its index.
    """
    from synthdet_tf.data.discovery import discover
    from synthdet_tf.data.pipeline import make_dataset

    cfg = data_config.copy_and_resolve_references()
    cfg.cache = "none"
    cfg.augment.hflip = 0.0
    for name in ("rescale", "blur", "jpeg", "webp"):
        if name in cfg.augment:
            cfg.augment[name].p = 0.0
    timed = {}
    for name, where in (("folder", folder), ("TFRecord shards", shard_folder)):
        start = time.perf_counter()
        records = discover(where, fractions=tuple(cfg.fractions)).split(split)
        timed[name] = {"discovery": time.perf_counter() - start, "records": records, "epochs": []}
    for _ in range(repeats):  # alternated, best of `repeats`: this machine's timings wander
        for name, t in timed.items():
            ds = make_dataset(t["records"], cfg, batch_size=cfg.batch_size, training=True, seed=0)
            start = time.perf_counter()
            t["images"] = sum(int(y.shape[0]) for _, y in ds)
            t["epochs"].append(time.perf_counter() - start)
    rows = []
    for name, t in timed.items():
        rows.append({"name": f"{name}: one epoch", "images": t["images"], "seconds": min(t["epochs"])})
        rows.append({"name": f"{name}: discovery + one epoch", "images": t["images"], "seconds": min(t["epochs"]) + t["discovery"]})
    return _with_ratios(rows, pairs={"TFRecord shards: one epoch": "folder: one epoch",
                                     "TFRecord shards: discovery + one epoch": "folder: discovery + one epoch"})


def _with_ratios(rows, pairs=None) -> list[dict]:
    """Adds images/s, and the ratio to its baseline (the first row, or its pair) to every other row."""
    by_name = {r["name"]: r for r in rows}
    for r in rows:
        r["images_per_s"] = r["images"] / r["seconds"]
    for r in rows:
        base = by_name.get(pairs.get(r["name"])) if pairs else (rows[0] if r is not rows[0] else None)
        r["vs_baseline"] = r["images_per_s"] / base["images_per_s"] if base else None
    return rows


def format_rows(rows) -> str:
    lines = ["| what | images | seconds | images/s | throughput vs baseline |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        ratio = f"{r['vs_baseline']:.2f}x" if r["vs_baseline"] is not None else "baseline"
        lines.append(f"| {r['name']} | {r['images']} | {r['seconds']:.1f} | {r['images_per_s']:.1f} | {ratio} |")
    return "\n".join(lines)
