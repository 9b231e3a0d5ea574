"""Few-shot adaptation (synthdet-adapt): refit the base's last layer on a folder of a new generator's images.

    synthdet-adapt --data_dir=my_generator --output_dir=runs/adapted [--base=exported/synthdet/2] \\
        [--replay_dir=../shared/data/dev] [--base_test_dir=../shared/data/dev]

The method was chosen by `synthdet-benchmark adapt` (docs/adapt.md): `shrink`
(the base's own head plus an L2-penalised correction, penalty by
cross-validation) with a replay of the base's kind of data when one is given.
Runtime here (2 CPU cores): docs/benchmarks.md, "synthdet-adapt".
"""

import ml_collections


def get_config():
    config = ml_collections.ConfigDict()
    config.method = "shrink"  # shrink | logistic | prototype (adapt/head.py)
    config.seed = 0  # cross-validation folds and the replay draw
    config.export = True  # SavedModel + int8 TFLite beside the workdir, with their agreement with Keras
    return config
