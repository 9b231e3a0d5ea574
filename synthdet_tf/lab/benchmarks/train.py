"""Training-step throughput per model and precision, measured in one run.

Each row: images/s of `train_on_batch` on a fixed uint8 batch (the compute
only; the input pipeline is benchmarked separately), after warm-up steps that
absorb tracing and XLA compilation. Ratios are against float32 of the same
model in the same run.
"""

import time

import keras
import numpy as np
from ml_collections import ConfigDict

from synthdet_tf.models import build_model
from synthdet_tf.training.train import compile_model

VARIANTS = {
    "float32": ("float32", False),
    "bf16": ("mixed_bfloat16", False),
    "float32+xla": ("float32", True),
    "bf16+xla": ("mixed_bfloat16", True),
    "fp16": ("mixed_float16", False),
}


def step_rate(backbone: str, policy: str, jit: bool, *, image_size=224, batch=32, steps=4, warmup=2) -> float:
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = build_model(ConfigDict({"backbone": backbone, "weights": "", "dropout": 0.0, "npr": False}), image_size)
        train_cfg = ConfigDict(
            {"lr": 1e-4, "warmup_steps": 0, "min_lr_ratio": 0.0, "weight_decay": 1e-4, "clipnorm": 1.0,
             "label_smoothing": 0.0, "jit_compile": jit}
        )
        compile_model(model, train_cfg, total_steps=1000)
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (batch, image_size, image_size, 3)).astype(np.uint8)
        y = rng.integers(0, 2, batch).astype(np.float32)
        for _ in range(warmup):
            model.train_on_batch(x, y)
        start = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        return batch * steps / (time.perf_counter() - start)
    finally:
        keras.mixed_precision.set_global_policy("float32")
        keras.backend.clear_session()


def run(models, variants, **kwargs) -> list[dict]:
    rows = []
    for backbone in models:
        base = None
        for name in variants:
            policy, jit = VARIANTS[name]
            rate = step_rate(backbone, policy, jit, **kwargs)
            base = base or rate
            rows.append({"model": backbone, "variant": name, "images_per_s": round(rate, 2), "vs_float32": round(rate / base, 2)})
    return rows


def format_rows(rows) -> str:
    lines = [f"{'model':20s} {'variant':12s} {'img/s':>8s} {'vs float32':>11s}"]
    lines += [f"{r['model']:20s} {r['variant']:12s} {r['images_per_s']:8.2f} {r['vs_float32']:10.2f}x" for r in rows]
    return "\n".join(lines)
