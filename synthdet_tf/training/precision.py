"""Mixed precision: which Keras dtype policy a run uses.

`auto` picks mixed_float16 on a GPU. On a CPU it picks mixed_bfloat16 only
where bf16 was measured clearly faster for that model on a CPU with bf16
instructions (`synthdet-benchmark train`, docs/benchmarks.md): the ResNets
train 1.4-1.6x faster in bf16 on this project's reference CPU (AVX-512 BF16).
EfficientNet-Lite0 ran at 0.65x until its depthwise convolutions were kept in
float32 (no fast bf16 kernel there), and then at 1.07x: within this machine's
run-to-run noise, so auto keeps it float32. Under every policy the model's
logit is float32 (`models.heads`).
"""

import functools

import keras
import tensorflow as tf

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
BF16_FASTER_ON_CPU = ("resnet18", "resnet34", "resnet50")


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve(precision: str, backbone: str = "") -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; choose one of {PRECISIONS}")
    if precision != "auto":
        return precision
    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    return "mixed_bfloat16" if backbone in BF16_FASTER_ON_CPU and cpu_has_bf16() else "float32"


def set_precision(precision: str, backbone: str = "") -> str:
    """Sets the global Keras dtype policy; returns the policy name used."""
    name = resolve(precision, backbone)
    keras.mixed_precision.set_global_policy(name)
    return name
