"""synthdet-train: train a detector from a config.

    synthdet-train --config=configs/study/resnet18.py --workdir=runs/resnet18 --data_dir=../shared/data/dev
    synthdet-train --config=configs/tiny.py --workdir=runs/tiny --data_dir=... --config.train.epochs=3

Started again with the same --workdir, a killed run resumes from its last backup.
"""

from absl import app, flags, logging

from synthdet_scripts import _cli, config_flag

_WORKDIR = flags.DEFINE_string("workdir", None, "Run directory (config, checkpoints, logs).", required=True)
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Train again in a workdir that holds a finished run.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from synthdet_tf.training.train import train_and_evaluate

    config = config_flag.config()
    results = train_and_evaluate(config, _WORKDIR.value, overwrite=_OVERWRITE.value)
    print("validation:", ", ".join(f"{k} {v:.4f}" for k, v in results.items()))


def run():
    _cli.run(main, __name__, verbosity=logging.INFO)


if __name__ == "__main__":
    run()
