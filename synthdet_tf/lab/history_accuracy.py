"""How right the base is on each kind of file history: the measurement an abstention rule would stand on.

    python -m synthdet_tf.lab.history_accuracy --cache=runs/adapt/dev_v2.npz --data_dir=../shared/data/dev --split=test
    python -m synthdet_tf.lab.history_accuracy --cache=runs/adapt/external_v2.npz --data_dir=runs/external

Reads the base's logits from a feature cache (lab/adapt_embeddings.py), each file's history kind
(detect/history.py, full), and prints per kind: images, REAL/FAKE counts, accuracy at the base's
threshold and the balanced accuracy where both classes are present. Measurement only: no rule is
fitted here, and the external check is never used to fit one.
"""

import argparse
import collections
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", required=True)
    ap.add_argument("--data_dir", required=True)
    ap.add_argument("--split", default=None, help="only this split (train / val / test) of the cache")
    ap.add_argument("--threshold", type=float, default=0.48368010190662425, help="the base's (v2's) threshold")
    args = ap.parse_args()
    from synthdet_tf.detect.history import read_history

    d = np.load(args.cache)
    keep = np.ones(len(d["label"]), bool) if args.split is None else d["split"] == args.split
    rows = collections.defaultdict(list)
    for rel, y, z in zip(d["relpath"][keep], d["label"][keep], d["base_logit"][keep]):
        with open(os.path.join(args.data_dir, str(rel)), "rb") as f:
            kind = read_history(f.read())["kind"]
        rows[kind].append((int(y), 1.0 / (1.0 + np.exp(-z)) >= args.threshold))
    print("| history kind | images | REAL | FAKE | accuracy | balanced accuracy |\n|---|---:|---:|---:|---:|---:|")
    for kind, r in sorted(rows.items(), key=lambda kv: -len(kv[1])):
        y, fake = np.array([a for a, _ in r]), np.array([b for _, b in r])
        right = fake == (y == 1)
        ba = np.mean([right[y == c].mean() for c in (0, 1)]) if len(set(y)) == 2 else float("nan")
        print(f"| {kind} | {len(r)} | {(y == 0).sum()} | {(y == 1).sum()} | {right.mean():.3f} | {ba:.3f} |")


if __name__ == "__main__":
    main()
