"""synthdet-adapt: teach the detector a new generator from a few dozen examples, in minutes.

    synthdet-adapt --data_dir=my_generator --output_dir=runs/adapted
    synthdet-adapt --data_dir=my_generator --output_dir=runs/adapted --replay_dir=../shared/data/dev \\
        --base_test_dir=../shared/data/dev          # keep, and measure, what the base knew
    synthdet-detect --model=runs/adapted photo.jpg   # then scan, the app, evaluate, TF Serving, TFLite

--data_dir holds real/ and fake/ (any formats), at least 4 and better 8 or
more images per class, ideally real photos from the same place as the fakes.
The output folder is a training workdir with its exports (exported/,
tflite/) and a model card (README.md). The command prints the
cross-validated balanced accuracy with its interval, per class.
"""

import json
import shlex
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from synthdet_scripts import _cli

_CONFIG = config_flags.DEFINE_config_file("config", None, "Adaptation config (default: configs/adapt.py).", lock_config=False)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Folder with real/ and fake/: the new generator's images.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where the adapted model goes (never overwritten unless --overwrite).")
_BASE = flags.DEFINE_string("base", None, "Model to adapt: a SavedModel dir or training workdir (default: the shipped model).")
_REPLAY_DIR = flags.DEFINE_string("replay_dir", None, "A labelled folder of the base's kind of data, replayed beside the new images.")
_BASE_TEST_DIR = flags.DEFINE_string("base_test_dir", None, "A labelled folder whose test split measures what adapting costs the base.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace a non-empty --output_dir.")
_ALLOW_SHORTCUT = flags.DEFINE_bool("allow_shortcut", False, "Go on when the files' format or size alone tells the classes apart.")


def config():
    if _CONFIG.value is not None:
        return _CONFIG.value
    from synthdet_configs.adapt import get_config

    return get_config()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not (_DATA_DIR.value and _OUTPUT_DIR.value):
        raise app.UsageError("usage: synthdet-adapt --data_dir=FOLDER --output_dir=DIR [--base=...]")
    from synthdet_tf.adapt import card
    from synthdet_tf.adapt.checks import AdaptInputError
    from synthdet_tf.adapt.run import adapt
    from synthdet_tf.detect.detector import default_model_path

    cfg = config()
    try:
        summary = adapt(_DATA_DIR.value, _OUTPUT_DIR.value, base=_BASE.value or default_model_path(), method=cfg.method, replay_dir=_REPLAY_DIR.value,
                        base_test_dir=_BASE_TEST_DIR.value, export=cfg.export, overwrite=_OVERWRITE.value,
                        allow_shortcut=_ALLOW_SHORTCUT.value, command=shlex.join(sys.argv), seed=cfg.seed)
    except AdaptInputError as e:
        raise app.UsageError(str(e)) from None
    print("\n".join(card.cv_lines(summary["cross_validated"])))
    if "base_test" in summary:
        b = summary["base_test"]
        print(f"- on the base's test split: base {b['base']:.3f}, adapted {b['adapted']:.3f}")
    print(f"adapted model: {_OUTPUT_DIR.value} (model card: {_OUTPUT_DIR.value}/README.md), {summary['seconds']} s")
    logging.debug("%s", json.dumps(summary, default=str))


def run():
    _cli.run(main, __name__)


if __name__ == "__main__":
    run()
