"""Is "unlike anything in training" a cue for when the pixel score fails? Measured, not used.

    python -m synthdet_tf.lab.familiarity --workdir=runs/abstain/v2 --data_dir=../shared/data/dev \\
        --external=runs/external --output=runs/abstain/v2/familiarity.json

Each file's distance to the training split in the base's pooled-feature space (cosine, to its k-th nearest
training image, after Sun et al. 2022's deep-nearest-neighbour test), with the cut at the validation split's
95th percentile: chosen on validation only. Prints, per reading, the share beyond the cut and the base's
balanced accuracy on either side. Reads the rows synthdet-abstain scored (their files, in their order).
"""

import argparse
import csv
import json
import os

import numpy as np


def rows_paths(workdir: str, split: str, chain: str, root: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(paths scored, labels, probabilities) of one cached reading, in its order."""
    with open(os.path.join(workdir, "rows", f"{split}_{chain}.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    folder = os.path.join(workdir, "files", split, chain)
    names = sorted(os.listdir(folder)) if chain != "as_is" else None
    paths = [os.path.join(root, r["relpath"]) for r in rows] if names is None else [os.path.join(folder, n) for n in names]
    probs = np.array([float(r["probability"]) if r["probability"] else np.nan for r in rows])
    return paths, np.array([int(r["label"]) for r in rows]), probs


def knn_distance(bank: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    sims = queries @ bank.T
    return 1.0 - np.sort(sims, axis=1)[:, -k]


def _unit(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)


def balanced(labels, calls) -> float:
    parts = [np.mean(calls[labels == c] == c) for c in (0, 1) if (labels == c).any()]
    return float(np.mean(parts)) if len(parts) == 2 else float("nan")


def reading_parser(doc: str) -> argparse.ArgumentParser:
    """The flags naming what synthdet-abstain scored: its workdir, the labelled folder, the external check."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--data_dir", required=True)
    ap.add_argument("--external", default=None)
    return ap


def readings(args) -> list[tuple]:
    """(split, chain, root) of each reading: validation and test as-is, the external check as-is and matched."""
    found = [("val", "as_is", args.data_dir), ("test", "as_is", args.data_dir)]
    return found + ([("external", c, args.external) for c in ("as_is", "matched")] if args.external else [])


def main():
    ap = reading_parser(__doc__)
    ap.add_argument("--base", default="exported/synthdet/2")
    ap.add_argument("--bank", type=int, default=3000, help="training images in the bank (a seeded sample)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--output", required=True)
    args = ap.parse_args()
    from synthdet_tf.adapt.base import load_base
    from synthdet_tf.adapt.embed import embed_files
    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.evaluate.abstention_run import split_items

    base = load_base(args.base)
    train = split_items(Detector.load(args.base), args.data_dir, "train")
    pick = np.random.default_rng(0).permutation(len(train))[: args.bank]
    bank = _unit(embed_files(base, [train[i][1] for i in pick])[0])
    threshold, out = Detector.load(args.base).threshold, {}
    for split, chain, root in readings(args):
        paths, labels, probs = rows_paths(args.workdir, split, chain, root)
        feats, _, kept, _ = embed_files(base, paths)
        d = knn_distance(bank, _unit(feats), args.k)
        labels, calls = labels[kept], (probs[kept] >= threshold).astype(int)
        if split == "val":
            cut = float(np.quantile(d, 0.95))
        far = d > cut
        out[f"{split}_{chain}"] = {"n": int(len(d)), "far": float(far.mean()), "cut": cut,
                                  "ba_near": balanced(labels[~far], calls[~far]), "ba_far": balanced(labels[far], calls[far]),
                                  "median_distance": float(np.median(d))}
        print(split, chain, json.dumps(out[f"{split}_{chain}"]), flush=True)
    with open(args.output, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
