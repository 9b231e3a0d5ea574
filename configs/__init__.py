"""Experiment configs: one file per experiment, each `get_config()` -> ConfigDict.

Run one with `--config=configs/<name>.py`; override any value on the command
line, e.g. `--config.data.policy=center_crop`.
"""
