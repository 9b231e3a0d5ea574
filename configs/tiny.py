"""A tiny model on 32 px inputs: tests and smoke runs, about a minute on 2 CPUs.

    synthdet-train --config=configs/tiny.py --workdir=runs/tiny --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.data.image_size = 32
    config.data.batch_size = 8
    config.model.backbone = "tiny"
    config.train.epochs = 1
    config.train.warmup_steps = 5
    config.train.max_train_images = 256
    config.train.max_val_images = 64
    config.train.backup_every_steps = 10
    return config
