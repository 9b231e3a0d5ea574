"""Files -> the base's pooled features, each file read and cut into its view exactly as detection does."""

import concurrent.futures
import os

import numpy as np

from synthdet_tf.adapt.base import Base, embed
from synthdet_tf.detect.views import model_views, read_bytes


def _view(path: str, spec):
    try:
        return model_views(read_bytes(path), spec, 1)[0], None
    except Exception as e:  # named and counted by the caller, never a crash halfway
        return None, f"{type(e).__name__}: {e}".splitlines()[0][:200]


def views_of(paths: list[str], spec) -> tuple[np.ndarray, list[int], list[tuple[str, str]]]:
    """(uint8 views [M, S, S, 3], indices of the paths they belong to, [(path, why)] for the rest)."""
    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        done = list(pool.map(lambda p: _view(p, spec), paths))
    kept = [i for i, (v, _) in enumerate(done) if v is not None]
    failed = [(paths[i], why) for i, (v, why) in enumerate(done) if v is None]
    s = spec.image_size
    views = np.stack([done[i][0] for i in kept]) if kept else np.zeros((0, s, s, 3), np.uint8)
    return views, kept, failed


def embed_files(base: Base, paths: list[str], chunk: int = 256):
    """(features [M, D], base logits [M], kept indices, failures) for `paths`, in chunks to bound memory."""
    feats, logits, kept, failed = [], [], [], []
    kernel, bias = base.head()
    for start in range(0, len(paths), chunk):
        views, idx, bad = views_of(paths[start : start + chunk], base.spec)
        f = embed(base, views)
        feats.append(f)
        logits.append(f.astype(np.float64) @ kernel + bias if len(f) else np.zeros(0))
        kept += [start + i for i in idx]
        failed += bad
    return np.concatenate(feats), np.concatenate(logits), kept, failed
