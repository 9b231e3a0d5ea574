"""Training: a config and a work directory in, a trained detector out.

    synthdet-train --config=configs/study/resnet18.py --workdir=runs/resnet18 --data_dir=../shared/data/dev

The work directory holds everything about one run: `config.json` (resolved),
`versions.json`, `data_summary.json`, `backup/` (BackupAndRestore: a killed
run resumes from it when started again with the same command), `best.keras`
(best validation AUC), `final.keras`, `log.csv`, `per_source_val.csv`,
`tensorboard/`, and `DONE` once finished. A finished run is never trained over
unless `overwrite=True` (`--overwrite`).
"""

import importlib.metadata
import json
import logging
import math
import os
import platform
import shutil

import keras
import numpy as np
import tensorflow as tf

from synthdet_tf.training import distribute, precision
from synthdet_tf.training.callbacks import PerSourceValidation, StopOnNaN
from synthdet_tf.data.discovery import discover_from_config, subsample
from synthdet_tf.data.pipeline import class_weights, make_dataset, synth_probability
from synthdet_tf.data.sampling import balanced_sample
from synthdet_tf.data.summary import summarize
from synthdet_tf.models import build_model

DONE = "DONE"


def _write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, default=str)


def versions() -> dict:
    return {
        "synthdet_tf": importlib.metadata.version("synthdet-tf"),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def prepare_workdir(workdir: str, overwrite: bool) -> None:
    if os.path.exists(os.path.join(workdir, DONE)):
        if not overwrite:
            raise FileExistsError(
                f"{workdir} holds a finished run (it has {DONE}); choose another --workdir or pass --overwrite"
            )
        shutil.rmtree(workdir)
    os.makedirs(workdir, exist_ok=True)


def make_optimizer(train_cfg, total_steps: int) -> keras.optimizers.Optimizer:
    """AdamW with linear warmup then cosine decay, and optional global-norm clipping."""
    warmup = min(int(train_cfg.warmup_steps), max(total_steps - 1, 0))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else train_cfg.lr,
        decay_steps=max(total_steps - warmup, 1),
        warmup_target=train_cfg.lr if warmup else None,
        warmup_steps=warmup,
        alpha=train_cfg.min_lr_ratio,
    )
    return keras.optimizers.AdamW(
        learning_rate=schedule,
        weight_decay=train_cfg.weight_decay,
        global_clipnorm=train_cfg.clipnorm or None,
    )


def compile_model(model, train_cfg, total_steps):
    model.compile(
        optimizer=make_optimizer(train_cfg, total_steps),
        loss=keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=train_cfg.label_smoothing),
        # Thresholds at logit 0 = probability 0.5.
        metrics=[
            keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy"),
            keras.metrics.AUC(from_logits=True, name="auc"),
            keras.metrics.Precision(thresholds=0.0, name="precision"),
            keras.metrics.Recall(thresholds=0.0, name="recall"),
        ],
        jit_compile=train_cfg.jit_compile,
    )
    return model


def callbacks_for(config, workdir, val_ds, val_records, extra=(), per_source=True):
    t = config.train
    cbs = [
        keras.callbacks.BackupAndRestore(
            os.path.join(workdir, "backup"), save_freq=t.backup_every_steps or "epoch", delete_checkpoint=False
        ),
        StopOnNaN(),
        keras.callbacks.ModelCheckpoint(
            os.path.join(workdir, "best.keras"), monitor="val_auc", mode="max", save_best_only=True
        ),
        keras.callbacks.CSVLogger(os.path.join(workdir, "log.csv"), append=True),
        keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard")),
    ]
    # Under multi_worker, predict() drops the last partial batch, so scores
    # would not line up with records: per-source validation is skipped there.
    if t.per_source_val and per_source:
        cbs.append(
            PerSourceValidation(
                val_ds,
                [r.label for r in val_records],
                [r.source for r in val_records],
                os.path.join(workdir, "per_source_val.csv"),
            )
        )
    if t.early_stopping_patience:
        cbs.append(
            keras.callbacks.EarlyStopping(
                monitor="val_auc", mode="max", patience=t.early_stopping_patience, restore_best_weights=False
            )
        )
    return cbs + list(extra)


def _run_records(config, splits=None) -> tuple:
    """(discovery, train records, val records) of one run: the config's split without held-out
    sources (or the given `splits`), sampled as `config.data.balance` and the image caps say."""
    d = config.data
    if splits is None:
        found = discover_from_config(d)
        held = set(d.held_out_sources)
        splits = (found, *([r for r in found.split(s) if r.source not in held] for s in ("train", "val")))
    found, train, val = splits
    if d.balance == "groups":
        n = int(config.train.max_train_images) or len(train)
        train_records = balanced_sample(train, n, float(d.group_power), seed=config.seed)
    else:
        train_records = subsample(train, config.train.max_train_images)
    return found, train_records, subsample(val, config.train.max_val_images)


def train_and_evaluate(config, workdir: str, *, overwrite: bool = False, extra_callbacks=(), splits=None) -> dict:
    """Trains `config` on `config.data.data_dir`; returns the final validation metrics.

    `splits` = (discovery, train_records, val_records) trains on chosen records
    instead of the config's split (leave-one-source-out does).
    """
    strategy = distribute.make_strategy(config.distribution)
    multi_worker = distribute.is_multi_worker(strategy)
    if distribute.worker_index(strategy):  # other workers keep their files out of the chief's way
        workdir = os.path.join(workdir, f"worker_{distribute.worker_index(strategy)}")
    prepare_workdir(workdir, overwrite)
    policy = precision.set_precision(config.precision, config.model.backbone)
    keras.utils.set_random_seed(config.seed)

    d = config.data
    found, train_records, val_records = _run_records(config, splits)

    resolved = {
        "precision_policy": policy,
        "distribution": distribute.resolve(config.distribution),
        "replicas": strategy.num_replicas_in_sync,
    }
    _write_json(os.path.join(workdir, "config.json"), {**json.loads(config.to_json_best_effort()), "resolved": resolved})
    _write_json(os.path.join(workdir, "versions.json"), versions())
    _write_json(os.path.join(workdir, "data_summary.json"), summarize(found))
    logging.info("Training on %d images, validating on %d; %s", len(train_records), len(val_records), resolved)

    batch = int(d.batch_size)
    if batch % strategy.num_replicas_in_sync:
        raise ValueError(f"batch_size {batch} must divide evenly over {strategy.num_replicas_in_sync} replicas")
    train_ds = make_dataset(train_records, d, batch_size=batch, training=True, seed=config.seed, drop_remainder=multi_worker)
    val_ds = make_dataset(val_records, d, batch_size=batch, training=False, drop_remainder=multi_worker)
    steps_per_epoch = len(train_records) // batch if multi_worker else math.ceil(len(train_records) / batch)
    total_steps = steps_per_epoch * int(config.train.epochs)

    with strategy.scope():
        model = compile_model(build_model(config.model, int(d.image_size)), config.train, total_steps)
        if multi_worker:
            distribute.prepare_multi_worker_model(model, train_ds)

    weights = class_weights(train_records, synth_probability(train_records, d)) if d.balance == "class_weight" else None
    model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=int(config.train.epochs),
        class_weight=weights,
        callbacks=callbacks_for(config, workdir, val_ds, val_records, extra_callbacks, per_source=not multi_worker),
        verbose=config.train.verbose,
    )
    results = model.evaluate(val_ds, return_dict=True, verbose=0)
    model.save(os.path.join(workdir, "final.keras"))
    _write_json(os.path.join(workdir, DONE), {"val": results, "steps": int(model.optimizer.iterations.numpy())})
    return results
