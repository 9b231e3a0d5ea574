"""The generalization benchmark's budget recipe, v1 (the recipe of the shipped model v1):
EfficientNet-Lite0 from ImageNet, whole image resized, v1's augmentation, at 128 px,
2 epochs on at most 2,000 training images per fold (small enough for 2 CPU cores).

    synthdet-generalize --config=configs/lab/generalize.py --workdir=runs/gen_v1 \\
        --data_dir=../shared/data/dev,runs/wide

The held-out sources were fixed here before any training on the wide corpus:
two real-photo albums and four fake sources of four families (Midjourney v8.1,
gpt-image-1, Gemini "Nano Banana", DALL-E 3), none of them trained or selected on.
"""

from synthdet_configs.synthdet_v1 import get_config as _v1
from synthdet_configs.held_out import FACE_SOURCES, HELD_OUT_SOURCES
from synthdet_configs.lab.loso import budget as loso_budget


def get_config():
    config = loso_budget(_v1())
    config.train.max_val_images = 600
    config.data.held_out_sources = HELD_OUT_SOURCES
    config.data.face_sources = FACE_SOURCES
    return config
