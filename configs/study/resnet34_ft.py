"""ResNet34 fine-tuned from ImageNet, batch 8, 10 epochs. Keras ships no ResNet34 ImageNet weights:
pass them with --config.model.weights=/path/to/resnet34.weights.h5.

    synthdet-train --config=configs/study/resnet34_ft.py --workdir=runs/resnet34_ft --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.model.backbone = "resnet34"
    config.model.weights = "imagenet"  # refused with instructions unless a file path is given
    config.data.batch_size = 8
    config.train.epochs = 10
    return config
