"""Training: fit a model from a config (train), its callbacks, the distribution strategy, the precision policy, the study grid."""
