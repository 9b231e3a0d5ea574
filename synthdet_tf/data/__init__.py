"""Image folders -> checked records -> tf.data pipelines (see each module)."""
