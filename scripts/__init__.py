"""Thin absl entry points; installed as `synthdet_scripts` for the console scripts.

Every command imports this package before its own module, so this is where
TensorFlow's start-up log is turned down: before anything imports TensorFlow.
"""

import sys

from synthdet_scripts import _cli

if _cli.is_command(sys.argv):
    _cli.quiet_tensorflow(sys.argv)
