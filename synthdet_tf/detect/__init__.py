"""Everything between a file's bytes and a verdict, and nothing else.

The detector and its backends (SavedModel, TFLite, Keras, fused), views and pooling,
provenance, explanations, the serving client, the runtime half of calibration and
the exported artifacts' file names. Detect, scan, the app and the serving client
all go through here; it imports no evaluation, training or lab code.
"""
