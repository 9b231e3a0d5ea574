"""ResNet18 fine-tuned from ImageNet, batch 8, 5 epochs. Keras ships no ResNet18 ImageNet weights:
pass them with --config.model.weights=/path/to/resnet18.weights.h5.

    synthdet-train --config=configs/study/resnet18_ft.py --workdir=runs/resnet18_ft --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.model.backbone = "resnet18"
    config.model.weights = "imagenet"  # refused with instructions unless a file path is given
    config.data.batch_size = 8
    config.train.epochs = 5
    return config
