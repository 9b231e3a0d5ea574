"""The generalization benchmark's budget recipe, v1 (the recipe of the shipped model v1):
EfficientNet-Lite0 from ImageNet, whole image resized, v1's augmentation, at 128 px,
2 epochs on at most 2,000 training images per fold (small enough for 2 CPU cores).

    synthdet-generalize --config=configs/generalize.py --workdir=runs/gen_v1 \\
        --data_dir=../shared/data/dev,runs/wide

The held-out sources were fixed here before any training on the wide corpus:
two real-photo albums and four fake sources of four families (Midjourney v8.1,
gpt-image-1, Gemini "Nano Banana", DALL-E 3), none of them trained or selected on.
"""

from synthdet_configs.efficientnet_lite0_robust import get_config as _v1
from synthdet_configs.loso import budget as loso_budget

HELD_OUT_SOURCES = (
    "nirg_pics", "ironyard_phone",  # REAL: two photo albums (Canon/Sony/LG, iPhone 5s/6)
    "mj_explore_yukittm", "gptimage1_guide", "illus_nano_banana", "dalle3_farshed",  # FAKE
)
# The dev set's face sources (its manifest has no content tags).
FACE_SOURCES = ("darkhorrow/real-fake-faces-classification", "sklinderton/vit-real-vs-fake-faces")


def get_config():
    config = loso_budget(_v1())
    config.train.max_val_images = 600
    config.data.held_out_sources = HELD_OUT_SOURCES
    config.data.face_sources = FACE_SOURCES
    return config
