"""The shipped model v2: v1's model and input (EfficientNet-Lite0 from ImageNet, whole
image resized to 224 px, 4 epochs) trained on dev + the wide corpus with the recipe the
generalization benchmark kept (docs/generalization.md): configs/generalize_v2b.py at full size.

    synthdet-data assemble --repos_dir=/path/to/snapshots --out=runs/wide --dedupe_against=../shared/data/dev
    synthdet-train --config=configs/synthdet_v2.py --workdir=runs/real/synthdet_v2 \\
        --data_dir=../shared/data/dev,runs/wide

The held-out sources stay out of training and validation (train.py drops them),
so the model card's held-out number is independent.
"""

from synthdet_configs.efficientnet_lite0_robust import get_config as _v1
from synthdet_configs.generalize import FACE_SOURCES, HELD_OUT_SOURCES


def get_config():
    config = _v1()
    config.data.held_out_sources = HELD_OUT_SOURCES
    config.data.face_sources = FACE_SOURCES
    config.data.balance = "groups"
    config.data.group_power = 0.75
    config.data.augment.jpeg.p = 0.5
    config.data.augment.webp.p = 0.3
    return config
