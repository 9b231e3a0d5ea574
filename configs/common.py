"""Defaults every experiment starts from.

    synthdet-data inspect --data_dir=../shared/data/dev
    synthdet-train --config=configs/common.py --workdir=runs/x --data_dir=... --config.train.epochs=3

Each variant config imports `get_config` from here and overrides what differs.
The optimiser defaults are the study's (Adam-style, learning rate 3e-4).
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0

    config.data = data_config()

    config.model = ml_collections.ConfigDict()
    config.model.backbone = "resnet50"  # tiny | resnet18 | resnet34 | resnet50 | efficientnet_lite0
    config.model.weights = ""  # "" (scratch) | "imagenet" | /path/to/weights (.h5 or .weights.h5)
    config.model.dropout = 0.0
    config.model.npr = False  # feed the NPR residual x - up(down(x)) instead of the image

    config.train = ml_collections.ConfigDict()
    config.train.epochs = 10
    config.train.lr = 3e-4
    config.train.min_lr_ratio = 0.0  # cosine decay ends at lr * this
    config.train.warmup_steps = 100
    config.train.weight_decay = 0.0  # AdamW decoupled weight decay
    config.train.clipnorm = 0.0  # global-norm gradient clipping; 0 = off
    config.train.label_smoothing = 0.0
    config.train.early_stopping_patience = 0  # epochs without val AUC gain; 0 = off
    config.train.backup_every_steps = 200  # BackupAndRestore frequency; 0 = each epoch
    config.train.per_source_val = True  # accuracy / AUC per source after each epoch
    config.train.max_train_images = 0  # 0 = all (a small number makes a smoke run)
    config.train.max_val_images = 0
    config.train.jit_compile = False  # XLA; see docs/benchmarks.md for when it pays
    config.train.verbose = 2  # 1 = progress bar, 2 = one line per epoch

    config.precision = "auto"  # auto | float32 | mixed_float16 | mixed_bfloat16 (see synthdet_tf/precision.py)
    config.distribution = "auto"  # auto | none | mirrored | multi_worker (TF_CONFIG)
    return config


def data_config() -> ml_collections.ConfigDict:
    """`config.data`: where the images are, how they are split, read, balanced and augmented."""
    data = ml_collections.ConfigDict()
    data.data_dir = ""
    # Discovery: how files become labelled, checked, split records.
    data.fractions = (0.8, 0.1, 0.1)  # train / val / test, by a hash of each relative path
    data.split_salt = ""  # change to draw a different (still deterministic) split
    data.source_from = "auto"  # auto | manifest | prefix | folder
    data.max_pixels = 64_000_000  # larger images are skipped before decoding
    data.verify = True  # fully decode every file at discovery (catches truncation)
    # Whole sources no run trains or selects on (the generalization benchmark scores them apart).
    data.held_out_sources = ()
    # Sources whose images are faces when their manifest has no content tag (for the face checks).
    data.face_sources = ()
    # Input policy: resize | center_crop | random_crop | resize_shorter_then_crop
    data.policy = "resize"
    data.image_size = 224
    data.crops = 1  # native crops scored and pooled per image at inference (crop models)
    data.min_side = 0  # leave out images with a smaller side (crop models: no padded thumbnails)
    data.batch_size = 32
    data.balance = "class_weight"  # none | resample | class_weight | groups
    data.group_power = 0.5  # balance=groups: a group's share ~ its file count ** this (0 = all alike)
    data.cache = "auto"  # auto | memory | none
    data.cache_max_bytes = 2 * 1024**3
    data.shuffle_buffer = 10_000

    # Augmentation, each with its own probability; applied alike to both classes.
    data.augment = ml_collections.ConfigDict()
    data.augment.hflip = 0.5
    data.augment.rescale = ml_collections.ConfigDict({"p": 0.1, "scale": (0.5, 0.9)})
    data.augment.blur = ml_collections.ConfigDict({"p": 0.1, "sigma": (0.1, 3.0)})
    data.augment.jpeg = ml_collections.ConfigDict({"p": 0.1, "quality": (30, 100)})
    data.augment.webp = ml_collections.ConfigDict({"p": 0.0, "quality": (30, 100)})
    return data
