"""synthdet-data: look at an image folder before training on it.

    synthdet-data inspect --data_dir=../shared/data/dev [--output=inspect.json]
    synthdet-data sample --out_dir=runs/sample_data    # a small folder from bundled images
"""

import json
import os

from absl import app, flags, logging

from synthdet_scripts import config_flag
from synthdet_tf.data.discovery import discover_from_config
from synthdet_tf.data.sample import write_sample_folder
from synthdet_tf.data.summary import format_summary, summarize

_OUTPUT = flags.DEFINE_string("output", None, "inspect: also write the summary as JSON here.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an existing --output file.")
_OUT_DIR = flags.DEFINE_string("out_dir", "runs/sample_data", "sample: where to write the folder.")

VERBS = ("inspect", "sample")


def inspect(config):
    if not config.data.data_dir:
        raise app.UsageError("inspect needs --data_dir (or --config.data.data_dir)")
    if _OUTPUT.value and os.path.exists(_OUTPUT.value) and not _OVERWRITE.value:
        raise app.UsageError(f"{_OUTPUT.value} exists; pass --overwrite to replace it")
    discovery = discover_from_config(config.data, progress=True)
    summary = summarize(discovery)
    print(format_summary(summary))
    if _OUTPUT.value:
        with open(_OUTPUT.value, "w") as f:
            json.dump(summary, f, indent=2)
        print(f"\nWrote {_OUTPUT.value}")


def main(argv):
    if len(argv) != 2 or argv[1] not in VERBS:
        raise app.UsageError(f"usage: synthdet-data {{{'|'.join(VERBS)}}} [flags]")
    if argv[1] == "inspect":
        inspect(config_flag.config())
    else:
        print(f"Wrote {write_sample_folder(_OUT_DIR.value)}")


def run():
    logging.set_verbosity(logging.WARNING)
    app.run(main)


if __name__ == "__main__":
    run()
