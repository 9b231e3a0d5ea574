"""The generalization benchmark's budget for the local stream (configs/synthdet_v3_local.py, or
configs/synthdet_v4_local.py with `synth=True`): at most 2,000 training images and 6 epochs per
fold (12k crops, about 5 minutes on 2 CPU cores; the full stream sees about 70k), the same
held-out sources as configs/lab/generalize.py.

    synthdet-generalize --config=configs/lab/generalize_local.py --workdir=runs/v5/gen_local \\
        --data_dir=../shared/data/dev,runs/wide
    synthdet-generalize --config=configs/lab/generalize_local.py:synth --workdir=runs/v5/gen_local_synth ...
    synthdet-generalize --fuse=runs/v5/gen_whole,runs/v5/gen_local --config=configs/lab/generalize.py \\
        --data_dir=../shared/data/dev,runs/wide --workdir=runs/v5/gen_fused

The local model never trains on images smaller than its crop, so its folds hold
fewer SD 1.x (CIFAKE) fakes; `--fuse` scores both streams on the whole-image
benchmark's folds, so all three columns there see the same images.
"""

from synthdet_configs.held_out import FACE_SOURCES, HELD_OUT_SOURCES
from synthdet_configs.synthdet_v3_local import get_config as _local
from synthdet_configs.synthdet_v4_local import get_config as _local_synth


def get_config(arg=None):
    config = _local_synth() if arg == "synth" else _local()
    config.data.held_out_sources = HELD_OUT_SOURCES
    config.data.face_sources = FACE_SOURCES
    config.train.epochs = 6
    config.train.max_train_images = 2000
    config.train.max_val_images = 600
    config.train.warmup_steps = 50
    config.train.per_source_val = False
    return config
