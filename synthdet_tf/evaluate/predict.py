"""Scores for records: the evaluation pipeline feeding any backend."""

import concurrent.futures
import os

import numpy as np
from tqdm import tqdm

from synthdet_configs.common import get_config as _common_config
from synthdet_tf.data import shards
from synthdet_tf.data.pipeline import make_dataset
from synthdet_tf.detect.views import decode_as_trained, image_views, logits_per_file, pool_logits


def data_config(spec, cache: str = "none"):
    """A `config.data` for evaluation pipelines under `spec` (no augmentation applies)."""
    cfg = _common_config().data
    cfg.policy, cfg.image_size, cfg.cache = spec.policy, int(spec.image_size), cache
    return cfg


def predict_logits(backend, records, *, batch_size: int = 32, perturb=None, desc: str | None = None) -> np.ndarray:
    """float32 logits [len(records)], in record order; `perturb` as in `make_dataset`.

    A crop model (`spec.crops` > 1) is scored as `synthdet-detect` scores it: its
    crop grid over each native image, the crops' logits pooled.
    """
    if getattr(backend, "scores_files", False):
        return _predict_files(backend, records, batch_size=batch_size, perturb=perturb, desc=desc)
    if getattr(backend.spec, "crops", 1) > 1:
        return _predict_crops(backend, records, batch_size=batch_size, perturb=perturb, desc=desc)
    ds = make_dataset(records, data_config(backend.spec), batch_size=batch_size, training=False, perturb=perturb)
    out = []
    steps = -(-len(records) // batch_size)
    for images, _ in tqdm(ds, total=steps, desc=desc, disable=desc is None, leave=False):
        out.append(backend.logits(images.numpy()))
    logits = np.concatenate(out).astype(np.float32)
    if len(logits) != len(records):
        raise RuntimeError(f"Got {len(logits)} scores for {len(records)} images")
    return logits


def _record_image(record, perturb) -> np.ndarray:
    """The record's image at native size, decoded as training decoded it, then perturbed."""
    with open(record.path, "rb") as f:
        image = decode_as_trained(f.read(), record.info.needs_pillow)
    if perturb is None:
        return image
    import tensorflow as tf

    return perturb(tf.constant(image)).numpy()


def _predict_crops(backend, records, *, batch_size, perturb, desc) -> np.ndarray:
    if shards.is_shard_record(records[0]):
        raise ValueError("Crop models are scored from image files; pass the folder, not its shards")
    out = []
    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        for start in tqdm(range(0, len(records), batch_size), desc=desc, disable=desc is None, leave=False):
            views = list(pool.map(lambda r: image_views(_record_image(r, perturb), backend.spec, backend.spec.crops),
                                  records[start : start + batch_size]))
            out += [pool_logits(v) for v in logits_per_file(backend, views)]
    return np.asarray(out, np.float32)


def _record_bytes(record, perturb) -> bytes:
    if perturb is None:
        with open(record.path, "rb") as f:
            return f.read()
    import io

    from PIL import Image

    out = io.BytesIO()  # lossless, so the model sees exactly the perturbed pixels
    Image.fromarray(_record_image(record, perturb)).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _predict_files(backend, records, *, batch_size, perturb, desc) -> np.ndarray:
    """A fused model scores files: their bytes (perturbed, then stored losslessly) in batches."""
    if shards.is_shard_record(records[0]):
        raise ValueError("Fused models are scored from image files; pass the folder, not its shards")
    out = []
    for start in tqdm(range(0, len(records), batch_size), desc=desc, disable=desc is None, leave=False):
        out.append(backend.score_contents([_record_bytes(r, perturb) for r in records[start : start + batch_size]]))
    return np.concatenate(out).astype(np.float32)
