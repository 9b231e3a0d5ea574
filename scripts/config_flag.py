"""The `--config` flag every script shares: a config file, common.py by default."""

import os

from ml_collections import config_flags

import synthdet_configs

DEFAULT_CONFIG = os.path.join(os.path.dirname(synthdet_configs.__file__), "common.py")


def define_config_flag():
    return config_flags.DEFINE_config_file(
        "config", DEFAULT_CONFIG, "Config file (configs/*.py); override values with --config.a.b=value.", lock_config=False
    )
