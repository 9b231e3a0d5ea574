"""configs/local_synth.py (v4's local stream) trained twice as long (round eight).

Asks whether the stream is held back by too few steps: at the end of 12
epochs its training AUC was still rising, and each epoch shows every image
once, as one 128 px crop. Doubling the epochs doubles the steps and the
synthesised upsampler traces (about 36,700 per run on dev + wide instead of
about 18,400); the learning rate schedule stretches with them. Nothing else
changes. (It did not fit better, and was not kept.)

    synthdet-train --config=configs/local_synth_long.py --workdir=runs/v8/local_long_s0 \\
        --data_dir=../shared/data/dev,runs/wide

Results: docs/generalization.md ("Eighth round").
"""

from synthdet_configs.local_synth import get_config as _local_synth


def get_config():
    config = _local_synth()
    config.train.epochs = 24
    return config
