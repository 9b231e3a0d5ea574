"""ResNet18 from scratch, batch 8, 20 epochs (the study's first run).

    synthdet-train --config=configs/study/resnet18.py --workdir=runs/resnet18 --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.model.backbone = "resnet18"
    config.data.batch_size = 8
    config.train.epochs = 20
    return config
