"""Thin absl entry points; installed as `synthdet_scripts` for the console scripts."""
