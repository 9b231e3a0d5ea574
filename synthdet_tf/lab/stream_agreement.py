"""Do v4's two streams disagree where its verdict is wrong? Measured, not used.

    python -m synthdet_tf.lab.stream_agreement --workdir=runs/abstain/v2 --data_dir=../shared/data/dev \\
        --external=runs/external

For each file with a native crop, the whole-image stream's and the local stream's labels at each member's
own stored threshold; prints, per reading, the share where they disagree and the fused label's balanced
accuracy where they agree and where they do not. Reads the files synthdet-abstain scored, in their order.
"""

import json

import numpy as np


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def main():
    from synthdet_tf.lab.familiarity import balanced, reading_parser, readings, rows_paths

    ap = reading_parser(__doc__)
    ap.add_argument("--model", default="exported/synthdet_fused_v4.json")
    args = ap.parse_args()
    from synthdet_tf.detect.backends import load_backend
    from synthdet_tf.detect.views import pool_logits

    fused = load_backend(args.model)
    cuts = {m: _logit(getattr(fused, m).calibration["threshold"]) for m in ("whole", "local")}
    fused_cut = _logit(fused.calibration["threshold"])
    for split, chain, root in readings(args):
        paths, labels, _ = rows_paths(args.workdir, split, chain, root)
        found = []
        for start in range(0, len(paths), 16):
            batch = []
            for p in paths[start : start + 16]:
                with open(p, "rb") as f:
                    batch.append(fused.views_of(f.read())[0])
            found += fused.stream_logits(batch)
        crop = np.array([s.has_crop for s in found])
        whole = np.array([pool_logits(s.whole) >= cuts["whole"] for s in found])
        local = np.array([s.local is not None and pool_logits(s.local) >= cuts["local"] for s in found])
        calls = np.array([s.logit >= fused_cut for s in found]).astype(int)
        apart = crop & (whole != local)
        agree = crop & ~apart
        print(split, chain, json.dumps({"n": len(found), "with_crop": int(crop.sum()), "disagree": float(apart.sum() / max(crop.sum(), 1)),
                                        "ba_agree": balanced(labels[agree], calls[agree]),
                                        "ba_disagree": balanced(labels[apart], calls[apart])}), flush=True)


if __name__ == "__main__":
    main()
