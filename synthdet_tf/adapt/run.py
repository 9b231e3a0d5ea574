"""synthdet-adapt's work: a folder of a new generator's images in, a detector that ships like any other out.

    synthdet-adapt --data_dir=my_new_generator --output_dir=runs/adapted
    synthdet-detect --model=runs/adapted photo.jpg

The base's backbone stays frozen; its last layer is refitted (`adapt.head`)
on the folder's images, with a replay of the base's own kind of data when
one is given, and the threshold comes from cross-validation on the folder
itself (`adapt.crossval`). The output folder is a training workdir
(best.keras, config.json, calibration.json), so detect, scan, the app and
evaluate load it as they load any run, plus its exports (exported/,
tflite/) and a model card (README.md).
"""

import dataclasses
import json
import logging
import os
import time

import numpy as np

from synthdet_tf.adapt import checks, crossval, head
from synthdet_tf.adapt.base import HEAD_LAYER, embed, load_base
from synthdet_tf.adapt.embed import embed_files, views_of

REPLAY_PER_CLASS = 128


@dataclasses.dataclass
class AdaptSet:
    records: list  # data.records.Record, usable ones
    skipped: list  # [(path, why)]: unreadable (discovery) or too small
    warnings: list


def check_output_dir(output_dir: str, overwrite: bool) -> None:
    if os.path.exists(output_dir) and os.listdir(output_dir) and not overwrite:
        raise FileExistsError(f"{output_dir} exists and is not empty; choose another --output_dir or pass --overwrite")


def load_set(data, allow_shortcut: bool) -> AdaptSet:
    """A folder with real/ and fake/ (or [(path, label)] pairs) -> checked, usable records."""
    from synthdet_tf.data.discovery import discover

    if isinstance(data, (str, os.PathLike)):
        found = discover(str(data))
        records, skipped = found.records, [(s.relpath, s.reason) for s in found.skipped]
    else:
        records, skipped = _records_of_pairs(data)
    records, small = checks.usable(records)
    skipped += small
    warnings = checks.check_counts(records)
    checks.check_duplicates(records)
    warnings += checks.check_shortcuts(records, allow_shortcut)
    return AdaptSet(records, skipped, warnings)


def _records_of_pairs(pairs):
    from synthdet_tf.data.pillow_io import probe
    from synthdet_tf.data.records import Record

    records, skipped = [], []
    for path, label in pairs:
        label = {"REAL": 0, "FAKE": 1}.get(str(label).upper(), label)
        if label not in (0, 1):
            raise ValueError(f"{path}: label must be 0/REAL or 1/FAKE, got {label!r}")
        try:
            records.append(Record(os.path.basename(path), path, int(label), "given", "train", probe(path)))
        except Exception as e:
            skipped.append((path, f"{type(e).__name__}: {e}".splitlines()[0][:200]))
    return records, skipped


def fit_head(x, y, base_head, method: str, replay=None, seed: int = 0, figures: bool = True) -> dict:
    """The head, its penalty, and the cross-validated threshold and (with `figures`) the figures."""
    strength = head.choose_strength(method, x, y, base_head, seed=seed, replay=replay)
    kernel, bias = head.fit(method, x, y, base_head, strength, replay)
    oof = crossval.sigmoid(head.out_of_fold_logits(method, x, y, base_head, strength, seed=seed, replay=replay))
    replay_probs = None if replay is None else (replay[1], crossval.sigmoid(replay[0] @ kernel + bias))
    threshold = crossval.choose_threshold(y, oof, replay_probs)
    return {"kernel": kernel, "bias": bias, "strength": strength, "threshold": threshold,
            "cv": crossval.report(y, oof, threshold) if figures else None}


def replay_features(base, replay_dir: str | None, seed: int = 0):
    """(features, labels) of up to REPLAY_PER_CLASS train-split images per class of `replay_dir`, or None."""
    if not replay_dir:
        return None
    from synthdet_tf.data.discovery import discover

    rng = np.random.default_rng(seed)
    train = [r for r in discover(replay_dir).records if r.split == "train"]
    picked = []
    for c in (0, 1):
        cls = [r for r in train if r.label == c]
        picked += [cls[i] for i in rng.choice(len(cls), min(REPLAY_PER_CLASS, len(cls)), replace=False)]
    x, _, kept, _ = embed_files(base, [r.path for r in picked])
    return x.astype(np.float64), np.array([picked[i].label for i in kept], np.float64)


def write_workdir(base, fitted: dict, output_dir: str, adapt_info: dict) -> None:
    """best.keras (the base with its head replaced), config.json and calibration.json: a training workdir."""
    model = base.model
    layer = model.get_layer(HEAD_LAYER)
    layer.set_weights([fitted["kernel"].astype(np.float32)[:, None], np.array([fitted["bias"]], np.float32)])
    os.makedirs(output_dir, exist_ok=True)
    model.save(os.path.join(output_dir, "best.keras"))
    config = json.loads(json.dumps(base.train_config))
    config["adapt"] = adapt_info
    if adapt_info.get("data_dir"):  # what synthdet-export and synthdet-evaluate read as "the run's data"
        config["data"]["data_dir"] = adapt_info["data_dir"]
    with open(os.path.join(output_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    calibration = {"threshold": fitted["threshold"], "temperature": 1.0, "method": "balanced_accuracy",
                   "chosen_on": "out-of-fold scores of the adaptation set" + (" and the replay" if adapt_info["replay"] else ""),
                   "n": adapt_info["counts"]["REAL"] + adapt_info["counts"]["FAKE"], "unsure_band": None}
    with open(os.path.join(output_dir, "calibration.json"), "w") as f:
        json.dump(calibration, f, indent=2)


def adapt(data, output_dir: str, *, base: str, method: str = "shrink", replay_dir: str | None = None,
          base_test_dir: str | None = None, export: bool = True, overwrite: bool = False,
          allow_shortcut: bool = False, command: str = "", seed: int = 0) -> dict:
    """Adapts `base` (a SavedModel dir or workdir) to `data`; writes `output_dir`; returns the summary."""
    from synthdet_tf.adapt import card, outputs

    start = time.time()
    check_output_dir(output_dir, overwrite)
    found = load_set(data, allow_shortcut)
    for warning in found.warnings:
        logging.warning("%s", warning)
    base_model = load_base(base)
    # One decode per image: the views feed the fit, the int8 calibration and the exports' agreement check.
    views, kept, failed = views_of([r.path for r in found.records], base_model.spec)
    x = embed(base_model, views)
    records = [found.records[i] for i in kept]
    y = np.array([r.label for r in records], np.float64)
    replay = replay_features(base_model, replay_dir, seed)
    fitted = fit_head(x.astype(np.float64), y, base_model.head(), method, replay, seed)
    info = outputs.adapt_info(base_model, records, found, failed, method, fitted, replay_dir, command)
    info["data_dir"] = os.path.abspath(data) if isinstance(data, (str, os.PathLike)) else None
    write_workdir(base_model, fitted, output_dir, info)
    summary = {**info, "seconds_fit": round(time.time() - start, 1)}
    if base_test_dir:
        summary["base_test"] = outputs.keeps(base_model, fitted, base_test_dir)
    if export:
        summary["exports"] = outputs.export_all(output_dir, views)
    summary["seconds"] = round(time.time() - start, 1)
    card.write(output_dir, summary)
    return summary
