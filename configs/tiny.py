"""A tiny setup for tests and smoke runs: 32 px inputs, small batches.

    synthdet-data inspect --config=configs/tiny.py --data_dir=../shared/data/dev
"""

from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    config.data.image_size = 32
    config.data.batch_size = 8
    config.model.backbone = "tiny"
    return config
