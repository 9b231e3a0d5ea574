"""The local stream (configs/synthdet_v3_local.py) plus upsampler fingerprints synthesised on the fly.

Half of the FAKE draws are real photos of the training split with a random
upsampler's trace added (`synthdet_tf/data/fingerprints.py`; FingerprintNet,
ECCV 2022): the stream sees generation traces in volume, on the same content
as the reals, at 30-42 dB against them. Everything else is configs/synthdet_v3_local.py.

    synthdet-train --config=configs/synthdet_v4_local.py --workdir=runs/v5/local_synth_s0 \\
        --data_dir=../shared/data/dev,runs/wide
Runtime here: about 3.5 minutes an epoch beside another run (docs/lab/generalization_rounds.md,
round eight), 12 epochs. Result: the local member of v4 (exported/synthdet_fused_v4.json); the fusion
scores 0.647 as-is and 0.614 processing-matched on the external check, as shipped (the model card;
docs/generalization.md has the rounds).
"""

import ml_collections

from synthdet_configs.synthdet_v3_local import get_config as _local


def get_config():
    config = _local()
    config.data.synth = ml_collections.ConfigDict({
        "share": 0.5,  # of the FAKE draws
        "psnr": (30.0, 42.0),  # against the real it was made from
        "jitter": (0.05, 0.5),  # std of the random weights around identity
        "factors": (2, 4),  # total upsampling: one or two 2x stages
    })
    return config
