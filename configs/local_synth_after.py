"""configs/local_synth.py with the trace added after the processing chain (round six).

In configs/local_synth.py a synthesised fake is made from the real photo and
then goes through the same chain as everything else (downscale p 0.3, JPEG
p 0.6, WebP p 0.1), which wears a 30-42 dB trace down: the stream learned it
only in part (synthetic-trace check AUC 0.66-0.69). Here the real photo goes
through the chain first and the trace comes last, as a generator's decoder
does: the only difference from its processed real is the trace. The stored
fakes and the reals keep the chain as before, so codec, quality and size
still carry no label.

    synthdet-train --config=configs/local_synth_after.py --workdir=runs/v6/local_after_s0 \\
        --data_dir=../shared/data/dev,runs/wide

Results: docs/generalization.md ("Sixth round").
"""

from synthdet_configs.local_synth import get_config as _local_synth


def get_config():
    config = _local_synth()
    config.data.synth.after_process = True
    return config
