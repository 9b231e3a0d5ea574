"""ResNet34 from scratch, batch 8, 10 epochs.

    synthdet-train --config=configs/study/resnet34.py --workdir=runs/resnet34 --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.model.backbone = "resnet34"
    config.data.batch_size = 8
    config.train.epochs = 10
    return config
