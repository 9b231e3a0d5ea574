"""Cache the base's features of every image of a labelled folder, for the adaptation benchmark.

    python -m synthdet_tf.lab.adapt_embeddings --base=exported/synthdet/2 --data_dir=../shared/data/dev \\
        --output=runs/adapt/dev_v2.npz

One pass over the folder; every k-shot draw afterwards is numpy on the cache.
"""

import argparse
import csv
import os

import numpy as np


def folder_rows(data_dir: str) -> list[dict]:
    """relpath, label (0/1), source, generator from the folder's MANIFEST.csv (dev or external layout)."""
    from synthdet_tf.data.discovery import discover

    found = discover(data_dir)
    meta = {}
    manifest = os.path.join(data_dir, "MANIFEST.csv")
    if os.path.exists(manifest):
        with open(manifest, newline="") as f:
            meta = {r["relpath"]: r for r in csv.DictReader(f)}
    rows = []
    for r in found.records:
        m = meta.get(r.relpath, {})
        rows.append({"path": r.path, "relpath": r.relpath, "label": int(r.label), "source": r.source, "split": r.split,
                     "family": r.family, "generator": m.get("generator") or m.get("generator_or_camera") or ""})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="exported/synthdet/2")
    ap.add_argument("--data_dir", required=True)
    ap.add_argument("--output", required=True)
    args = ap.parse_args()
    from synthdet_tf.adapt.base import load_base
    from synthdet_tf.adapt.embed import embed_files

    base = load_base(args.base)
    rows = folder_rows(args.data_dir)
    feats, logits, kept, failed = embed_files(base, [r["path"] for r in rows])
    rows = [rows[i] for i in kept]
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    np.savez_compressed(args.output, features=feats.astype(np.float16), base_logit=logits,
                        **{k: np.array([r[k] for r in rows]) for k in ("relpath", "label", "source", "split", "family", "generator")})
    print(f"{len(rows)} embedded, {len(failed)} failed -> {args.output}")


if __name__ == "__main__":
    main()
