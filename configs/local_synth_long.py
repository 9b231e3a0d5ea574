"""configs/local_synth.py (v4's local stream) trained twice as long (round eight).

The stream underfits: at the end of v4's 12 epochs its training AUC was
still rising (0.69), and each run sees one 128 px crop per image per epoch.
Doubling the epochs doubles the steps and the synthesised upsampler traces
(about 38,000 per run on dev + wide instead of about 19,000); the learning
rate schedule stretches with them. Nothing else changes.

    synthdet-train --config=configs/local_synth_long.py --workdir=runs/v8/local_long_s0 \\
        --data_dir=../shared/data/dev,runs/wide

Results: docs/generalization.md ("Eighth round").
"""

from synthdet_configs.local_synth import get_config as _local_synth


def get_config():
    config = _local_synth()
    config.train.epochs = 24
    return config
