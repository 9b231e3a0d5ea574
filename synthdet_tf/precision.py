"""Mixed precision: which Keras dtype policy a run uses.

`auto` picks mixed_float16 on a GPU. On a CPU it picks float32: on this
project's reference CPU (AVX-512 + AMX) bf16 *inference* is about 2x float32,
but a bf16 *training* step measured slower than float32 (see
docs/benchmarks.md, `synthdet-benchmark train`), so bf16 is opt-in there.
Under every policy the model's logit is float32 (`models.heads`).
"""

import keras
import tensorflow as tf

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")


def resolve(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; choose one of {PRECISIONS}")
    if precision != "auto":
        return precision
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "float32"


def set_precision(precision: str) -> str:
    """Sets the global Keras dtype policy; returns the policy name used."""
    name = resolve(precision)
    keras.mixed_precision.set_global_policy(name)
    return name
