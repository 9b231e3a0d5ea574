"""Training sets that weigh generator families and real sources, not file counts.

A corpus where one generator has 2,400 files and another 20 teaches the first
one's traces and little else. `balanced_sample` draws an epoch in which each
class is half, and within a class each group (a FAKE file's generator family,
a REAL file's source) gets a share that grows with its size only as
count ** power: power 0 weighs every group alike, 1 is plain file counts.
"""

import collections

import numpy as np

from synthdet_tf.data.discovery import FAKE


def group_of(record) -> str:
    return f"fake/{record.family}" if record.label == FAKE else f"real/{record.source}"


def group_weights(records, power: float) -> np.ndarray:
    """Per-record sampling probabilities (sum 1): classes half each, groups ~ count ** power."""
    if not 0.0 <= power <= 1.0:
        raise ValueError(f"group power must be in [0, 1], got {power}")
    groups = [group_of(r) for r in records]
    counts = collections.Counter(groups)
    labels = {r.label for r in records}
    if len(labels) < 2:
        raise ValueError("group balancing needs images of both classes")
    mass = {g: n**power for g, n in counts.items()}
    per_class = collections.defaultdict(float)
    for g, m in mass.items():
        per_class[g.split("/", 1)[0]] += m
    return np.array([0.5 * mass[g] / per_class[g.split("/", 1)[0]] / counts[g] for g in groups])


def balanced_sample(records, n: int, power: float = 0.0, seed: int = 0) -> list:
    """n records drawn with replacement by `group_weights`, the same for the same seed."""
    if n <= 0:
        raise ValueError(f"sample size must be positive, got {n}")
    p = group_weights(records, power)
    idx = np.random.default_rng(seed).choice(len(records), size=n, replace=True, p=p)
    return [records[i] for i in sorted(idx)]
