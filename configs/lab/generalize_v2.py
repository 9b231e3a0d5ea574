"""The generalization benchmark's candidate recipe v2, at the same budget as configs/lab/generalize.py.

Three changes from v1, each aimed at a trace that resizing or sampling hides:
- native-resolution crops (random crop in training, centre crop at test)
  instead of resizing the whole image, which blurs the upsampling traces;
- JPEG re-encoding of both classes with p = 0.5, quality 30-100 (CNNDetection's
  recipe), so the codec is no shortcut; blur and rescale stay at v1's p = 0.3;
- group-balanced sampling: each class half of every epoch, each generator
  family / real source a share ~ sqrt(its file count), not its file count.

    synthdet-generalize --config=configs/lab/generalize_v2.py --workdir=runs/gen_v2 \\
        --data_dir=../shared/data/dev,runs/wide
"""

from synthdet_configs.lab.generalize import get_config as _v1_budget


def get_config():
    config = _v1_budget()
    config.data.policy = "random_crop"
    config.data.augment.jpeg.p = 0.5
    config.data.augment.jpeg.quality = (30, 100)
    config.data.balance = "groups"
    config.data.group_power = 0.5
    return config
