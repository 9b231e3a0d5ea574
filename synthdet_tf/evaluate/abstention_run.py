"""synthdet-abstain's work: fit the rule on validation, read it on the test split and the external check.

    synthdet-abstain --model=exported/synthdet/2 --data_dir=../shared/data/dev --external=runs/external \\
        --workdir=runs/abstain/v2

The external check only ever gets read here (as-is and processing-matched): the
rule is fitted before it is touched, on the validation split alone.
"""

import csv
import json
import os

from synthdet_tf.evaluate import abstention
from synthdet_tf.evaluate.abstention_rows import cached_rows
from synthdet_tf.evaluate.histories import CHAINS, Ranges
from synthdet_tf.evaluate.report import discover_as_trained, without_held_out

RULE_FILE = "abstention.json"


def _manifest(folder: str) -> dict:
    path = os.path.join(folder, "MANIFEST.csv")
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {r["relpath"]: r for r in csv.DictReader(f)}


def split_items(detector, data_dir: str, split: str) -> list[tuple]:
    """[(relpath, path, label, source, generator)] of one split as the model was trained with it, held-out sources out."""
    found, _ = discover_as_trained(detector.backend, data_dir)
    meta = _manifest(data_dir)
    records = without_held_out([r for r in found.records if r.split == split], detector.backend)
    return [(r.relpath, r.path, int(r.label), r.source, _generator(meta.get(r.relpath, {}))) for r in records]


def _generator(row: dict) -> str:
    return row.get("generator") or row.get("generator_or_camera") or ""


def folder_items(folder: str) -> list[tuple]:
    """A labelled folder read only: the external check's MANIFEST.csv when it has one, else its real/ and fake/."""
    if os.path.exists(os.path.join(folder, "MANIFEST.csv")):
        from synthdet_tf.evaluate.external import load_folder

        return [(im.relpath, im.path, im.label, im.source, im.generator) for im in load_folder(folder)]
    from synthdet_tf.data.discovery import discover

    return [(r.relpath, r.path, int(r.label), r.source, "") for r in discover(folder).records]


def fit(detector, data_dir: str, workdir: str, *, chains=tuple(CHAINS), seed: int = 0, log=print) -> dict:
    """The rule, fitted on the validation split as it is and re-made by every chain; written to workdir."""
    ranges = Ranges.from_train_config(detector.backend.train_config())
    rows = cached_rows(detector, split_items(detector, data_dir, "val"), "val", chains, workdir, ranges, seed, log)
    rule = abstention.fit_rule(rows, detector.threshold, fitted_on=f"val split of {data_dir}, chains {', '.join(chains)}")
    rule["ranges"] = vars(ranges)
    with open(os.path.join(workdir, RULE_FILE), "w") as f:
        json.dump(rule, f, indent=2)
    return rule


def read(detector, rule: dict, data_dir: str, external: str | None, workdir: str, *, chains=tuple(CHAINS), seed: int = 0,
         log=print) -> dict:
    """{reading name: rows}: the test split as it is and re-made by every other chain, and the external check
    as-is and processing-matched."""
    ranges = Ranges.from_train_config(detector.backend.train_config())
    test = cached_rows(detector, split_items(detector, data_dir, "test"), "test", chains, workdir, ranges, seed, log)
    readings = {"test_as_is": [r for r in test if r["chain"] == "as_is"],
                "test_remade": [r for r in test if r["chain"] != "as_is"]}
    if external:
        items = folder_items(external)
        for chain in ("as_is", "matched"):
            readings[f"external_{chain}"] = cached_rows(detector, items, "external", [chain], workdir, ranges, seed, log)
    return readings
