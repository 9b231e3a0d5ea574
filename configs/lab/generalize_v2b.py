"""The generalization benchmark's second candidate, v2b, at the same budget as configs/lab/generalize.py.

v1's whole-image resize stays (crops lost the held-out sources at this budget);
two changes aimed at what the earlier ablations found:
- group-balanced sampling with group_power 0.75: each class half of every epoch,
  each generator family / real source a share ~ count ** 0.75 (0.5 won the
  held-out sources but starved CIFAKE, which most of the dev test split is);
- processing invariance for both classes: JPEG re-encode p = 0.5 (v1: 0.1) and
  WebP re-encode p = 0.3, quality 30-100 each, so neither codec is a shortcut.

    synthdet-generalize --config=configs/lab/generalize_v2b.py --workdir=runs/gen_v2b \\
        --data_dir=../shared/data/dev,runs/wide
"""

from synthdet_configs.lab.generalize import get_config as _v1_budget


def get_config():
    config = _v1_budget()
    config.data.balance = "groups"
    config.data.group_power = 0.75
    config.data.augment.jpeg.p = 0.5
    config.data.augment.webp.p = 0.3
    return config
