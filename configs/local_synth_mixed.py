"""configs/local_synth.py with half of the synthesised fakes given the trace after the chain (round seven).

Round six (configs/local_synth_after.py: every trace after the chain) lifted
the external check as-is and lowered it processing-matched: a stream that
never sees a trace under a later JPEG misses the re-encoded fakes. Here each
synthesised fake gets the trace after the chain with probability 0.5 and
before it otherwise (round five's order), so the stream sees both.

    synthdet-train --config=configs/local_synth_mixed.py --workdir=runs/v7/local_mixed_s0 \\
        --data_dir=../shared/data/dev,runs/wide

Results: docs/generalization.md ("Seventh round").
"""

from synthdet_configs.local_synth import get_config as _local_synth


def get_config():
    config = _local_synth()
    config.data.synth.after_process = 0.5
    return config
