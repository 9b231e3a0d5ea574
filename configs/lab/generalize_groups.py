"""Single-change ablation for the generalization benchmark: v1's budget recipe + group-balanced sampling only.

    synthdet-generalize --config=configs/lab/generalize_groups.py --workdir=runs/gen_groups \\
        --data_dir=../shared/data/dev,runs/wide
"""

from synthdet_configs.lab.generalize import get_config as _v1_budget


def get_config():
    config = _v1_budget()
    config.data.balance = "groups"
    config.data.group_power = 0.5
    return config
