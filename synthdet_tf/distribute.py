"""Which tf.distribute strategy a run uses.

- `none`: the default strategy (one device).
- `mirrored`: MirroredStrategy over the local GPUs.
- `multi_worker`: MultiWorkerMirroredStrategy across machines, from the
  TF_CONFIG environment variable. Refused for now: Keras 3.15's fit() fails
  under it (tensorflow/tensorflow#72388), and with this project's image
  pipeline it crashed the process (heap corruption) even with that worked
  around; see the training issue's closing note.
- `auto`: multi_worker when TF_CONFIG names more than one worker, else
  mirrored when there is more than one GPU, else none.
"""

import json
import os

import tensorflow as tf

DISTRIBUTIONS = ("auto", "none", "mirrored", "multi_worker")


def _tf_config_workers() -> int:
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}").get("cluster", {})
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def resolve(distribution: str) -> str:
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"Unknown distribution {distribution!r}; choose one of {DISTRIBUTIONS}")
    if distribution != "auto":
        return distribution
    if _tf_config_workers() > 1:
        return "multi_worker"
    return "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "none"


def make_strategy(distribution: str) -> tf.distribute.Strategy:
    name = resolve(distribution)
    if name == "multi_worker":
        raise NotImplementedError(
            "distribution=multi_worker is not supported yet: Keras 3's fit() fails under "
            "MultiWorkerMirroredStrategy (tensorflow/tensorflow#72388). Train on one machine "
            "(mirrored uses all its GPUs)."
        )
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()

