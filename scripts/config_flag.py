"""The flags every script shares: `--config` (common.py by default) and `--data_dir`."""

import os

from absl import flags
from ml_collections import config_flags

import synthdet_configs

DEFAULT_CONFIG = os.path.join(os.path.dirname(synthdet_configs.__file__), "common.py")

_CONFIG = config_flags.DEFINE_config_file(
    "config", DEFAULT_CONFIG, "Config file (configs/*.py); override values with --config.a.b=value.", lock_config=False
)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Folder with real/ and fake/ (overrides config.data.data_dir).")


def config():
    """The parsed config, with --data_dir applied."""
    cfg = _CONFIG.value
    if _DATA_DIR.value:
        cfg.data.data_dir = _DATA_DIR.value
    return cfg
