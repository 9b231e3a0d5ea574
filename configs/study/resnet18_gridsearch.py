"""ResNet18 from scratch, batch 32, 25 epochs, gradient clip 0.1, weight decay 3e-4 (the study's grid-search winner).

    synthdet-train --config=configs/study/resnet18_gridsearch.py --workdir=runs/resnet18_gridsearch --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.model.backbone = "resnet18"
    config.data.batch_size = 32
    config.train.epochs = 25
    config.train.clipnorm = 0.1
    config.train.weight_decay = 0.0003
    return config
