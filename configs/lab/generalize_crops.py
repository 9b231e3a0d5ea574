"""Single-change ablation for the generalization benchmark: v1's budget recipe + native-resolution crops only.

    synthdet-generalize --config=configs/lab/generalize_crops.py --workdir=runs/gen_crops \\
        --data_dir=../shared/data/dev,runs/wide
"""

from synthdet_configs.lab.generalize import get_config as _v1_budget


def get_config():
    config = _v1_budget()
    config.data.policy = "random_crop"
    return config
