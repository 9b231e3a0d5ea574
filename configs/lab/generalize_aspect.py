"""Single-change candidate for the generalization benchmark: v1's budget recipe, but the
aspect ratio kept (shorter side resized to the input size, then a square crop: random in
training, centre at test) instead of squashing the whole image to a square.

Why: 82 % of fakes are square and 19 % of reals (docs/wide_data_inspection.md). Squashing
a 4:3 photo to a square stretches it, a square fake is not stretched, so the stretch itself
tells the classes apart in training and misleads on a square photo or a tall fake.

    synthdet-generalize --config=configs/lab/generalize_aspect.py --workdir=runs/gen_aspect \\
        --data_dir=../shared/data/dev,runs/wide
"""

from synthdet_configs.lab.generalize import get_config as _v1_budget


def get_config():
    config = _v1_budget()
    config.data.policy = "resize_shorter_then_crop"
    return config
