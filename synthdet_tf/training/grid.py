"""A grid search over config overrides: one training run per combination, one table.

    synthdet-grid --config=configs/tiny.py --workdir=runs/grid --data_dir=... \\
        --grid="train.lr=1e-3,3e-4;data.policy=resize,center_crop"

Each combination trains in `<workdir>/<name>/` (resumable like any run) and
`<workdir>/grid_results.csv` gets one row of validation metrics per run.
"""

import ast
import csv
import itertools
import os

import keras

from synthdet_tf.training.train import train_and_evaluate


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word such as resize


def parse_grid(spec: str) -> list[dict]:
    """'a.b=1,2;c=x,y' -> [{'a.b': 1, 'c': 'x'}, ...] (every combination)."""
    axes = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        if "=" not in part:
            raise ValueError(f"Grid axis {part!r} must look like key=value1,value2")
        key, values = part.split("=", 1)
        axes.append([(key.strip(), _parse_value(v.strip())) for v in values.split(",")])
    if not axes:
        raise ValueError("Empty grid")
    return [dict(combo) for combo in itertools.product(*axes)]


def apply_overrides(config, overrides: dict):
    """A copy of config with dotted-path overrides; unknown keys fail loudly."""
    config = config.copy_and_resolve_references()
    for path, value in overrides.items():
        *parents, leaf = path.split(".")
        node = config
        for p in parents:
            node = node[p]
        if leaf not in node:
            raise KeyError(f"Grid key {path!r} is not in the config")
        node[leaf] = type(node[leaf])(value) if isinstance(node[leaf], (int, float)) and not isinstance(node[leaf], bool) else value
    return config


def run_name(overrides: dict) -> str:
    return "_".join(f"{k.split('.')[-1]}-{v}" for k, v in overrides.items()).replace("/", "-")


def run_grid(config, workdir: str, spec: str, *, overwrite: bool = False) -> list[dict]:
    rows = []
    results_path = os.path.join(workdir, "grid_results.csv")
    for overrides in parse_grid(spec):
        name = run_name(overrides)
        results = train_and_evaluate(apply_overrides(config, overrides), os.path.join(workdir, name), overwrite=overwrite)
        keras.backend.clear_session()
        rows.append({"run": name, **overrides, **{f"val_{k}": round(float(v), 4) for k, v in results.items()}})
        with open(results_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return rows
