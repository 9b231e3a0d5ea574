"""Scores for records: the evaluation pipeline feeding any backend."""

import numpy as np
from tqdm import tqdm

from synthdet_configs.common import get_config as _common_config
from synthdet_tf.data.pipeline import make_dataset


def data_config(spec, cache: str = "none"):
    """A `config.data` for evaluation pipelines under `spec` (no augmentation applies)."""
    cfg = _common_config().data
    cfg.policy, cfg.image_size, cfg.cache = spec.policy, int(spec.image_size), cache
    return cfg


def predict_logits(backend, records, *, batch_size: int = 32, perturb=None, desc: str | None = None) -> np.ndarray:
    """float32 logits [len(records)], in record order; `perturb` as in `make_dataset`."""
    ds = make_dataset(records, data_config(backend.spec), batch_size=batch_size, training=False, perturb=perturb)
    out = []
    steps = -(-len(records) // batch_size)
    for images, _ in tqdm(ds, total=steps, desc=desc, disable=desc is None, leave=False):
        out.append(backend.logits(images.numpy()))
    logits = np.concatenate(out).astype(np.float32)
    if len(logits) != len(records):
        raise RuntimeError(f"Got {len(logits)} scores for {len(records)} images")
    return logits
