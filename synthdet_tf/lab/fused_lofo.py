"""Leave-one-family-out for a fusion: two finished benchmarks, one per stream, fused per fold.

    synthdet-generalize --fuse=runs/v5/gen_whole,runs/v5/gen_local --config=configs/lab/generalize.py \\
        --data_dir=../shared/data/dev,runs/wide --workdir=runs/v5/gen_fused

Each benchmark (`synthdet-generalize`) trained one model per left-out family.
For each family both have, this scores both fold models on the *same* records
(the fold of `--config`'s data): the left-out family's fakes against the REAL
test split, and a fixed subset of the fold's validation split. The fused score
is the standardised mean (`evaluate.fusion`, the rule v3 ships) fitted on that
validation subset, never on the left-out family. The table gives each stream's
AUC and the fusion's, so the three columns are comparable.
"""

import json
import logging
import os

import numpy as np
from sklearn.metrics import roc_auc_score

from synthdet_tf.data.discovery import FAKE, discover_from_config, subsample
from synthdet_tf.lab import fusion, loso
from synthdet_tf.lab.generalization import by_family, split_held_out
from synthdet_tf.evaluate.predict import predict_logits
from synthdet_tf.detect.backends import KerasBackend

STREAMS = ("whole", "local")
VAL_IMAGES = 400  # enough for two standard deviations; every fold uses the same files
LOGITS = "fold_logits.npz"


def _finished(workdir: str, family: str) -> bool:
    from synthdet_tf.training.train import DONE

    return os.path.exists(os.path.join(workdir, loso.slug(family), DONE))


def _fold_logits(run_dir: str, parts: dict) -> dict:
    """{part: logits} of the fold model in `run_dir`, kept beside it (scoring a crop model takes minutes).

    The cache holds each part's relpaths too, so a changed corpus is scored again.
    """
    cache = os.path.join(run_dir, LOGITS)
    names = {k: np.array([r.relpath for r in v]) for k, v in parts.items()}
    if os.path.exists(cache):
        with np.load(cache) as stored:
            if all(f"{k}_relpaths" in stored and np.array_equal(stored[f"{k}_relpaths"], names[k]) for k in parts):
                return {k: stored[k] for k in parts}
    backend = KerasBackend(run_dir)
    out = {k: predict_logits(backend, v, desc=f"{os.path.basename(run_dir)} {k}") for k, v in parts.items()}
    np.savez(cache, **out, **{f"{k}_relpaths": v for k, v in names.items()})
    return out


def fold_row(family: str, labels_val, val: dict, real: dict, fake: dict) -> dict:
    """AUC of each stream and of their standardised mean for one left-out family (logits by stream)."""
    coef = fusion.fit("standardized_mean", labels_val, val["whole"], val["local"])
    labels = np.r_[np.zeros(len(real["whole"])), np.ones(len(fake["whole"]))]
    z = {name: np.r_[real[name], fake[name]] for name in STREAMS}
    row = {"family": family, "n_fake": int(len(fake["whole"])), "n_real": int(len(real["whole"]))}
    for name in STREAMS:
        row[f"auc_{name}"] = float(roc_auc_score(labels, z[name]))
    row["auc_fused"] = float(roc_auc_score(labels, coef["a_whole"] * z["whole"] + coef["a_local"] * z["local"]))
    row["a_whole"], row["a_local"] = float(coef["a_whole"]), float(coef["a_local"])
    return row


def run(config, whole_dir: str, local_dir: str, workdir: str, *, min_images: int = 50) -> dict:
    """The fused leave-one-family-out table over the families both benchmarks finished."""
    found = discover_from_config(config.data)
    pool, _ = split_held_out(found.records, config.data.held_out_sources)
    families = [f for f in loso.fake_sources(pool, min_images, key=by_family) if _finished(whole_dir, f) and _finished(local_dir, f)]
    if not families:
        raise ValueError(f"No left-out family is finished in both {whole_dir} and {local_dir}")
    rows = []
    for family in families:
        f = loso.fold(pool, family, key=by_family)
        val = subsample(f["val"], VAL_IMAGES, salt="fused_lofo")
        if len({r.label for r in val}) < 2:
            raise ValueError(f"The validation subset of fold {family!r} lacks a class")
        parts = {"val": val, "real": f["real_test"], "fake": f["held_out"]}
        logits = {name: _fold_logits(os.path.join(d, loso.slug(family)), parts) for name, d in zip(STREAMS, (whole_dir, local_dir))}
        by_part = {p: {name: logits[name][p] for name in STREAMS} for p in parts}
        rows.append(fold_row(family, [r.label == FAKE for r in val], by_part["val"], by_part["real"], by_part["fake"]))
        logging.info("Fused LOFO %s: %s", family, rows[-1])
    result = {"whole": whole_dir, "local": local_dir, "families": rows,
              **{f"mean_auc_{n}": float(np.mean([r[f"auc_{n}"] for r in rows])) for n in (*STREAMS, "fused")},
              **{f"min_auc_{n}": float(np.min([r[f"auc_{n}"] for r in rows])) for n in (*STREAMS, "fused")}}
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "fused_lofo.json"), "w") as fh:
        json.dump(result, fh, indent=2)
    with open(os.path.join(workdir, "fused_lofo.md"), "w") as fh:
        fh.write(format_markdown(result))
    return result


def format_markdown(result: dict) -> str:
    lines = [f"Whole-image stream: `{result['whole']}`; local stream: `{result['local']}`; fused: standardised mean.", "",
             "| left-out family | its fakes | AUC whole | AUC local | AUC fused |", "|---|---:|---:|---:|---:|"]
    for r in result["families"]:
        lines.append(f"| {r['family']} | {r['n_fake']} | {r['auc_whole']:.3f} | {r['auc_local']:.3f} | {r['auc_fused']:.3f} |")
    lines.append("| **mean** (min) | | " + " | ".join(f"**{result[f'mean_auc_{n}']:.3f}** ({result[f'min_auc_{n}']:.3f})"
                                                  for n in (*STREAMS, "fused")) + " |")
    return "\n".join(lines) + "\n"
