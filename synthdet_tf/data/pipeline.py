"""Checked records -> batched tf.data pipelines for training and evaluation.

    files -> read + decode (parallel) -> policy -> [cache] -> [shuffle]
          -> augment (training) -> batch -> prefetch

Elements are `(images uint8 [B, S, S, 3], labels float32 [B])`, labels
REAL = 0, FAKE = 1. Decoding and the policy come from `synthdet_tf.preprocess`,
the same code the exported model runs. The per-backbone normalisation is the
model's first layer (`preprocess.Normalize`), not a pipeline step: uint8
batches are a quarter of the bytes to move to an accelerator, and a float
normalisation map here halved throughput on 2 CPU cores (measured).

Choices that follow the config (`data.*`):
- `balance`: "resample" draws both classes with equal probability (epoch size
  unchanged); "class_weight" leaves the data alone and training weights the
  loss with `class_weights()`; "groups" means the records were already drawn
  by `sampling.balanced_sample` (training does it); "none" does nothing.
- `cache`: "auto" caches in memory when the estimated bytes fit
  `cache_max_bytes`: after the policy when it is deterministic (smallest, and
  decode + resize run once), else after decoding. "memory" always, "none" never.
- A seed makes the pipeline deterministic: shuffling, sampling and every
  augmentation draw follow it, and still differ from epoch to epoch.
"""

import collections
import logging

import numpy as np
import tensorflow as tf

from synthdet_tf import preprocess
from synthdet_tf.data import shards
from synthdet_tf.data.augment import augment, center_window, process_whole
from synthdet_tf.data.fingerprints import synthesize
from synthdet_tf.data.pillow_io import decode_rgb
from synthdet_tf.preprocess.policy import decode_min_side, is_deterministic

AUTOTUNE = tf.data.AUTOTUNE
BALANCE = ("none", "resample", "class_weight", "groups")
CACHE = ("auto", "memory", "none")


def synth_probability(records, cfg) -> float:
    """How often the training stream draws a synthesised fake (config data.synth), given the records.

    `synth.share` is the synthesised share of the FAKE draws: with
    balance="resample" the fakes are half the stream, else they are the
    records' fake fraction f plus the synthesised ones, and
    q = share * f / (1 - share + share * f) keeps that share.
    """
    synth = cfg.get("synth")
    if synth is None or synth.share <= 0:
        return 0.0
    if not 0.0 < synth.share <= 1.0:
        raise ValueError(f"data.synth.share is the synthesised share of the FAKE draws, in (0, 1]; got {synth.share}")
    if not any(r.label == 0 for r in records):
        raise ValueError("data.synth makes its fakes from real photos, and the training records hold none")
    if cfg.balance == "resample":
        return 0.5 * synth.share
    f = float(np.mean([r.label for r in records]))
    return synth.share * f / (1.0 - synth.share + synth.share * f)


def class_weights(records, synth_probability: float = 0.0) -> dict:
    """{label: weight} so both classes weigh the same in the loss (mean weight 1).

    `synth_probability`: the share of the stream that is synthesised fakes
    (`synth_probability()`), counted as fakes.
    """
    labels = np.array([r.label for r in records])
    counts = np.bincount(labels, minlength=2)
    if counts.min() == 0:
        raise ValueError(f"Both classes are needed for class weights; counts REAL/FAKE = {counts.tolist()}")
    real = (1.0 - synth_probability) * counts[0] / len(labels)
    return {0: float(0.5 / real), 1: float(0.5 / (1.0 - real))}


def _read_and_decode(path, needs_pillow, min_side):
    def with_pillow():
        image = tf.numpy_function(decode_rgb, [path], tf.uint8, stateful=False)
        return tf.ensure_shape(image, [None, None, 3])

    return tf.cond(needs_pillow, with_pillow, lambda: preprocess.decode_image(tf.io.read_file(path), min_side))


def cache_stage(records, cfg, training: bool) -> str | None:
    """Where the pipeline caches: "policy", "decoded" or None."""
    if cfg.cache not in CACHE:
        raise ValueError(f"Unknown cache setting {cfg.cache!r}; choose one of {CACHE}")
    if cfg.cache == "none":
        return None
    deterministic = is_deterministic(cfg.policy, training)
    window = int(cfg.get("window", 0)) or None
    if deterministic:
        estimate = len(records) * cfg.image_size**2 * 3
    else:
        estimate = sum(min(r.info.width, window or r.info.width) * min(r.info.height, window or r.info.height) * 3 for r in records)
    if cfg.cache == "memory" or estimate <= cfg.cache_max_bytes:
        return "policy" if deterministic else "decoded"
    logging.info("Not caching: ~%.2f GB would exceed cache_max_bytes", estimate / 1e9)
    return None


def _decode_bytes(contents, needs_pillow, min_side):
    def with_pillow():
        image = tf.numpy_function(lambda c: decode_rgb("", c), [contents], tf.uint8, stateful=False)
        return tf.ensure_shape(image, [None, None, 3])

    return tf.cond(needs_pillow, with_pillow, lambda: preprocess.decode_image(contents, min_side))


def _from_files(records, training, seed, stage, min_side):
    paths = [r.path for r in records]
    labels = np.array([r.label for r in records], np.float32)
    pillow = np.array([r.info.needs_pillow for r in records], bool)
    ds = tf.data.Dataset.from_tensor_slices((paths, labels, pillow))
    if training and stage is None:
        ds = ds.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
    return ds.map(lambda p, y, pil: (_read_and_decode(p, pil, min_side), y), num_parallel_calls=AUTOTUNE)


def _from_shards(records, cfg, training, seed, stage, min_side):
    """The records' bytes read from their shard folder; each record as often as it is listed.

    Training streams the shards (interleaved, shuffled in a buffer); evaluation
    collects its records' bytes first, since its scores must follow the
    records' order.
    """
    folder = records[0].path.split("#", 1)[0]
    counts = collections.Counter(r.relpath for r in records)
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(list(counts), list(counts.values()), tf.string, tf.int64), default_value=0)
    examples = shards.parsed(folder, {r.split for r in records}).filter(lambda ex: table.lookup(ex["relpath"]) > 0)
    if training:
        ds = examples
        if max(counts.values()) > 1:  # sampled with replacement: repeat each as often as it was drawn
            ds = ds.flat_map(lambda ex: tf.data.Dataset.from_tensors(ex).repeat(table.lookup(ex["relpath"])))
        if stage is None:
            ds = ds.shuffle(min(len(records), cfg.shuffle_buffer or len(records)), seed=seed, reshuffle_each_iteration=True)
        return ds.map(lambda ex: (_decode_bytes(ex["image"], ex["needs_pillow"] > 0, min_side), tf.cast(ex["label"], tf.float32)),
                      num_parallel_calls=AUTOTUNE)
    contents = {ex["relpath"].decode(): ex["image"] for ex in examples.as_numpy_iterator()}
    missing = [r.relpath for r in records if r.relpath not in contents]
    if missing:
        raise FileNotFoundError(f"{len(missing)} records are not in the shards of {folder} (first: {missing[0]})")
    ds = tf.data.Dataset.from_tensor_slices(([contents[r.relpath] for r in records], np.array([r.label for r in records], np.float32),
                                             np.array([r.info.needs_pillow for r in records], bool)))
    return ds.map(lambda c, y, pil: (_decode_bytes(c, pil, min_side), y), num_parallel_calls=AUTOTUNE)


def _class_stream(records, cfg, training, seed, stage, perturb=None):
    """Decoded (+ policy where deterministic) (image, label) elements of records."""
    # A perturbation works on the image as stored, so decoding must not shrink it.
    min_side = None if perturb else decode_min_side(cfg.policy, cfg.image_size)
    if shards.is_shard_record(records[0]):
        ds = _from_shards(records, cfg, training, seed, stage, min_side)
    else:
        ds = _from_files(records, training, seed, stage, min_side)
    if perturb is not None:
        ds = ds.map(lambda im, y: (tf.ensure_shape(perturb(im), [None, None, 3]), y), num_parallel_calls=AUTOTUNE)
    if training:
        # The last guard: discovery checked every file, but one may change on
        # disk during an hour of training. Log it and go on rather than crash.
        # (Evaluation fails instead, naming the file: skipping would misalign
        # scores and records.)
        ds = ds.ignore_errors(log_warning=True)
    if training and cfg.get("window"):
        ds = ds.map(lambda im, y: (center_window(im, int(cfg.window)), y), num_parallel_calls=AUTOTUNE)
    if is_deterministic(cfg.policy, training):
        ds = ds.map(
            lambda im, y: (preprocess.apply_policy(im, cfg.policy, cfg.image_size, training=training), y),
            num_parallel_calls=AUTOTUNE,
        )
    if stage is not None:
        ds = ds.cache()
        if training:
            buffer = min(len(records), cfg.shuffle_buffer) if cfg.shuffle_buffer else len(records)
            ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if training:
        # Repeating here, after the cache, lets every pass read the cache to
        # its end, which is what completes it; make_dataset cuts epochs.
        ds = ds.repeat()
    return ds


def _second_pass(reals, cfg, seed, stage):
    """The real photos again, in their own order: what the synthesised fakes are made from."""
    return _class_stream(reals, cfg, True, None if seed is None else seed + 1, stage)


def _synth_args(synth):
    return dict(psnr=tuple(synth.psnr), jitter=tuple(synth.jitter), factors=tuple(synth.factors))


def _check_synth(cfg) -> None:
    synth = cfg.get("synth")
    if synth is not None and synth.get("after_process"):
        # Rounds six and seven (the trace after the chain) were not kept and their code is gone; a config that
        # still asks for it must not train something else in silence. `git log -S after_process` finds it.
        raise ValueError("data.synth.after_process was a rejected experiment and is no longer supported")


def _synthesized(real_stream, synth, seed):
    """FAKE elements made from real ones: each real photo plus a random upsampler's trace (data.fingerprints)."""
    seeds = tf.data.Dataset.random(seed=None if seed is None else seed + 7919, rerandomize_each_iteration=True).batch(2)

    def make(element, s):
        image, _ = element
        fake = synthesize(image, s, **_synth_args(synth))
        return tf.ensure_shape(fake, [None, None, 3]), tf.constant(1.0)

    return tf.data.Dataset.zip((real_stream, seeds)).map(make, num_parallel_calls=AUTOTUNE)


def _with_synthesized(streams, reals, cfg, seed, stage) -> list:
    """`streams` plus the stream of synthesised fakes made from `reals`."""
    _check_synth(cfg)
    return [*streams, _synthesized(_second_pass(reals, cfg, seed, stage), cfg.synth, seed)]


def _augmented(ds, cfg, seed):
    """Training's random steps per element: [the whole-image chain], [the trace], the native crop, augmentation."""
    needs_policy = not is_deterministic(cfg.policy, True)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    process = cfg.get("process")  # the whole-image chain before a native crop (augment.process_whole)
    if process is not None and not needs_policy:
        raise ValueError(f"data.process works before a random native crop; policy {cfg.policy!r} has none")

    def train_map(element, s):
        image, label = element[:2]
        if process is None:  # two draws, as before the chain existed, so older runs repeat exactly
            crop_seed, aug_seed = tf.unstack(tf.random.experimental.stateless_split(s, 2))
        else:
            crop_seed, aug_seed, process_seed = tf.unstack(tf.random.experimental.stateless_split(s, 3))
            image = process_whole(image, process_seed, process, cfg.image_size)
        if needs_policy:
            image = preprocess.apply_policy(image, cfg.policy, cfg.image_size, training=True, seed=crop_seed)
        return augment(image, aug_seed, cfg.augment), label

    return tf.data.Dataset.zip((ds, seeds)).map(train_map, num_parallel_calls=AUTOTUNE)


def make_dataset(
    records,
    cfg,
    *,
    batch_size: int,
    training: bool,
    seed: int | None = None,
    drop_remainder: bool = False,
    perturb=None,
):
    """Builds the pipeline over `records` (from discovery) with config `cfg` = `config.data`.

    `perturb` (evaluation only): uint8 [H, W, 3] -> uint8 [H', W', 3], applied to
    the full-resolution decoded image before the policy (robustness sweeps).
    """
    if not records:
        raise ValueError("No records to build a dataset from (is the split empty?)")
    if cfg.balance not in BALANCE:
        raise ValueError(f"Unknown balance {cfg.balance!r}; choose one of {BALANCE}")
    if perturb is not None and training:
        raise ValueError("perturb is for evaluation; training augments through config.data.augment")
    stage = None if perturb is not None else cache_stage(records, cfg, training)

    if training and cfg.balance == "resample":
        by_class = [[r for r in records if r.label == label] for label in (0, 1)]
        if not all(by_class):
            raise ValueError("balance='resample' needs images of both classes")
        streams = [_class_stream(rs, cfg, training, seed, stage) for rs in by_class]
        weights = [0.5, 0.5]
        q = synth_probability(records, cfg)
        if q > 0:  # the synthesised fakes take their share of the FAKE half
            streams = _with_synthesized(streams, by_class[0], cfg, seed, stage)
            weights = [0.5, 0.5 - q, q]
        ds = tf.data.Dataset.sample_from_datasets(streams, weights=weights, seed=seed, rerandomize_each_iteration=True)
    else:
        ds = _class_stream(records, cfg, training, seed, stage, perturb)
        q = synth_probability(records, cfg) if training else 0.0
        if q > 0:  # class_weights(records, q) counts them with the fakes
            streams = _with_synthesized([ds], [r for r in records if r.label == 0], cfg, seed, stage)
            ds = tf.data.Dataset.sample_from_datasets(streams, weights=[1.0 - q, q],
                                                      seed=None if seed is None else seed + 2, rerandomize_each_iteration=True)
    if training:
        # Every epoch is exactly len(records) images, even if a file was
        # skipped, so Keras knows the step count (with an unknown one it
        # miscounts the first epoch's steps).
        n = len(records)
        ds = ds.take(n).apply(tf.data.experimental.assert_cardinality(n))

    if training:
        ds = _augmented(ds, cfg, seed)
    if drop_remainder and len(records) < batch_size:
        raise ValueError(f"{len(records)} images make no full batch of {batch_size}")
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    options = tf.data.Options()
    options.deterministic = seed is not None or not training
    return ds.with_options(options).prefetch(AUTOTUNE)
