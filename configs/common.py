"""Defaults every experiment starts from.

    synthdet-data inspect --data_dir=../shared/data/dev
    synthdet-data inspect --config=configs/common.py --config.data.source_from=prefix --data_dir=...

Each variant config imports `get_config` from here and overrides what differs.
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0

    config.data = ml_collections.ConfigDict()
    config.data.data_dir = ""
    # Discovery: how files become labelled, checked, split records.
    config.data.fractions = (0.8, 0.1, 0.1)  # train / val / test, by a hash of each relative path
    config.data.split_salt = ""  # change to draw a different (still deterministic) split
    config.data.source_from = "auto"  # auto | manifest | prefix | folder
    config.data.max_pixels = 64_000_000  # larger images are skipped before decoding
    config.data.verify = True  # fully decode every file at discovery (catches truncation)
    # Input policy: resize | center_crop | random_crop | resize_shorter_then_crop
    config.data.policy = "resize"
    config.data.image_size = 224
    config.data.batch_size = 32
    config.data.balance = "class_weight"  # none | resample | class_weight
    config.data.cache = "auto"  # auto | memory | none
    config.data.cache_max_bytes = 2 * 1024**3
    config.data.shuffle_buffer = 10_000

    # Augmentation, each with its own probability; applied alike to both classes.
    config.data.augment = ml_collections.ConfigDict()
    config.data.augment.hflip = 0.5
    config.data.augment.rescale = ml_collections.ConfigDict({"p": 0.1, "scale": (0.5, 0.9)})
    config.data.augment.blur = ml_collections.ConfigDict({"p": 0.1, "sigma": (0.1, 3.0)})
    config.data.augment.jpeg = ml_collections.ConfigDict({"p": 0.1, "quality": (30, 100)})

    config.model = ml_collections.ConfigDict()
    config.model.backbone = "resnet50"  # sets the normalisation (synthdet_tf.preprocess)
    return config
