"""synthdet-grid: train every combination of config overrides and tabulate validation results.

    synthdet-grid --config=configs/tiny.py --workdir=runs/grid --data_dir=../shared/data/dev \\
        --grid="train.lr=1e-3,3e-4;data.policy=resize,center_crop"
"""

from absl import app, flags, logging

from synthdet_scripts import _cli, config_flag

_WORKDIR = flags.DEFINE_string("workdir", None, "Folder for the runs and grid_results.csv.", required=True)
_GRID = flags.DEFINE_string("grid", None, "key=v1,v2;key2=v3,v4 (dotted config paths).", required=True)
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Retrain runs that already finished.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from synthdet_tf.training.grid import run_grid

    config = config_flag.config()
    for row in run_grid(config, _WORKDIR.value, _GRID.value, overwrite=_OVERWRITE.value):
        print(row)


def run():
    _cli.run(main, __name__, verbosity=logging.INFO)


if __name__ == "__main__":
    run()
