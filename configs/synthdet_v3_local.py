"""The local-evidence stream (issue 16): a fixed residual and a small-receptive-field net on
native-resolution crops, trained from scratch; the image is never resized as a whole.

    synthdet-train --config=configs/synthdet_v3_local.py --workdir=runs/local_npr_s0 \\
        --data_dir=../shared/data/dev,runs/wide
    synthdet-evaluate --model=runs/local_npr_s0 --external=runs/external --output_dir=runs/local_npr_s0/ext

- Data: images with a side below the crop (32 px CIFAKE, thumbnails) are left
  out (`min_side`); the central 544 px of each image is kept in memory
  (`window`), and every epoch draws one 128 px crop from it per image.
- Processing alignment (`process`): before the crop, both classes alike get a
  mild downscale (p 0.3), then a JPEG (p 0.6, q 65-100) or WebP (p 0.1)
  re-encode, so codec, quality and size carry no label.
- Inference pools the logits of a grid of `crops` native crops (mean).
Runtime and results: docs/generalization.md ("Local stream"); shipped as the local member of the
v3 fusion (exported/synthdet_fused_v3.json).
"""

import ml_collections

from synthdet_configs.held_out import FACE_SOURCES, HELD_OUT_SOURCES
from synthdet_configs.common import get_config as _common


def get_config():
    config = _common()
    d = config.data
    d.held_out_sources = HELD_OUT_SOURCES
    d.face_sources = FACE_SOURCES
    d.policy = "random_crop"
    d.image_size = 128
    d.min_side = 128
    d.window = 544
    d.crops = 16
    d.batch_size = 64
    d.cache = "memory"
    d.process = ml_collections.ConfigDict({
        "downscale": {"p": 0.3, "scale": (0.5, 1.0)},
        "jpeg": {"p": 0.6, "quality": (65, 100)},
        "webp": {"p": 0.1, "quality": (65, 100)},
    })
    d.augment.hflip = 0.5
    d.augment.rescale.p = 0.0
    d.augment.blur.p = 0.0
    d.augment.jpeg.p = 0.0
    d.augment.webp.p = 0.0

    config.model.backbone = "local"
    config.model.residual = "npr"
    config.model.width = 16
    config.train.epochs = 12
    config.train.jit_compile = True
    config.train.lr = 1e-3
    config.train.weight_decay = 1e-4
    config.train.warmup_steps = 200
    config.train.backup_every_steps = 0
    return config
