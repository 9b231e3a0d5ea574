"""ResNet18 from scratch, batch 8, 15 epochs, classes balanced by resampling.

    synthdet-train --config=configs/study/resnet18_balanced.py --workdir=runs/resnet18_balanced --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.model.backbone = "resnet18"
    config.data.batch_size = 8
    config.train.epochs = 15
    config.data.balance = "resample"
    return config
