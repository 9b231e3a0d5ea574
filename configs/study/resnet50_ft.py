"""ResNet50 (keras.applications) fine-tuned from ImageNet, batch 8, 10 epochs. Downloads the
weights when a network exists; offline, pass --config.model.weights=/path/to/resnet50_notop.h5.

    synthdet-train --config=configs/study/resnet50_ft.py --workdir=runs/resnet50_ft --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.model.backbone = "resnet50"
    config.model.weights = "imagenet"
    config.data.batch_size = 8
    config.train.epochs = 10
    return config
