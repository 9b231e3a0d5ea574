"""synthdet-loso: leave-one-source-out, the cross-generator number.

    synthdet-loso --config=configs/lab/loso.py --workdir=runs/loso --data_dir=../shared/data/dev

Trains one model per FAKE source with at least --min_images images, leaving
that source out, and writes loso.md / loso.csv / loso.json in --workdir.
Finished folds are reused when run again.
"""

from absl import app, flags, logging

from synthdet_scripts import _cli, config_flag

_WORKDIR = flags.DEFINE_string("workdir", None, "Folder for the per-source runs and the table.", required=True)
_MIN_IMAGES = flags.DEFINE_integer("min_images", 100, "Leave out only FAKE sources with at least this many images.")
_SOURCES = flags.DEFINE_list("sources", None, "Only these FAKE sources (default: all with enough images).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Train finished folds again.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from synthdet_tf.lab.loso import format_table, run_loso

    rows = run_loso(
        config_flag.config(), _WORKDIR.value, min_images=_MIN_IMAGES.value, sources=_SOURCES.value, overwrite=_OVERWRITE.value
    )
    print(format_table(rows))


def run():
    _cli.run(main, __name__, verbosity=logging.INFO)


if __name__ == "__main__":
    run()
