"""synthdet-fuse: a whole-image model, a local model and their fusions, side by side.

    synthdet-fuse --whole=exported/synthdet/2 --local=runs/v3/local_npr_s0 \\
        --data_dir=../shared/data/dev,runs/wide --external=runs/external --output_dir=runs/v3/fuse_npr_s0

Fits each fusion rule (synthdet_tf/evaluate/fusion.py) and its threshold on
the validation split, then reports the external check (as-is and
processing-matched), the test split and real-face recall for each stream
alone and each fusion. Writes fusion.json and fusion.md to --output_dir.
"""

from absl import app, flags, logging

from synthdet_scripts import _cli

_WHOLE = flags.DEFINE_string("whole", None, "The whole-image model (any format).", required=True)
_LOCAL = flags.DEFINE_string("local", None, "The local-evidence model (training workdir or export).", required=True)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "The training folders (their validation and test splits are used).", required=True)
_EXTERNAL = flags.DEFINE_string("external", None, "External check folder (evaluation only).", required=True)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where fusion.json and fusion.md go.", required=True)
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an earlier fusion.json in --output_dir.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from synthdet_tf.lab import fuse_check

    result = fuse_check.compare(_WHOLE.value, _LOCAL.value, _DATA_DIR.value, _EXTERNAL.value, _OUTPUT_DIR.value,
                                overwrite=_OVERWRITE.value)
    print(fuse_check.format_markdown(result))


def run():
    _cli.run(main, __name__, verbosity=logging.INFO)


if __name__ == "__main__":
    run()
