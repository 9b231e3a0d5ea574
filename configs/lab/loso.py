"""Leave-one-source-out, small enough for 2 CPU cores: EfficientNet-Lite0 from
ImageNet at 128 px, 2 epochs on at most 2,000 training images per fold.

    synthdet-loso --config=configs/lab/loso.py --workdir=runs/loso --data_dir=../shared/data/dev
"""

from synthdet_configs.efficientnet_lite0_ft import get_config as _lite0


def budget(config):
    """One fold's budget on 2 CPU cores (the generalization benchmark uses it too)."""
    config.data.image_size = 128
    config.train.epochs = 2
    config.train.max_train_images = 2000
    config.train.max_val_images = 400
    config.train.warmup_steps = 20
    config.train.per_source_val = False
    config.precision = "float32"
    return config


def get_config():
    return budget(_lite0())
