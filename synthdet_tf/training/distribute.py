"""Which tf.distribute strategy a run uses.

- `none`: the default strategy (one device).
- `mirrored`: MirroredStrategy over the local GPUs.
- `multi_worker`: MultiWorkerMirroredStrategy across machines, from the
  TF_CONFIG environment variable (set on every worker, as tf.distribute
  documents it). Every worker must see the same number of full batches (a
  ragged last batch crashed the collective ops here with heap corruption), so
  training and validation drop the last partial batch, and two bugs of
  Keras 3.15's fit() under this strategy are worked around
  (`prepare_multi_worker_model`).
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
        if _tf_config_workers() < 1:
            raise ValueError("distribution=multi_worker needs TF_CONFIG naming the cluster's workers")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()



def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def worker_index(strategy: tf.distribute.Strategy) -> int:
    """0 on the chief (or without a cluster), else this worker's task index."""
    if not is_multi_worker(strategy):
        return 0
    resolver = strategy.cluster_resolver
    return 0 if resolver.task_type == "chief" else int(resolver.task_id) + (1 if "chief" in resolver.cluster_spec().jobs else 0)


def _patch_keras_reduce() -> None:
    """Keras 3.15 reduces scalar logs across workers with axis=0, which fails
    ("Invalid reduction dimension 0 for input with 0 dimensions";
    tensorflow/tensorflow#72388, closed unfixed). Scalars use axis=None."""
    from keras.src.backend.tensorflow import trainer

    if getattr(trainer.reduce_per_replica, "synthdet_patched", False):
        return
    original = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if is_multi_worker(strategy) and reduction in ("auto", "mean"):

            def mean(v):
                if isinstance(v, tf.distribute.DistributedValues) or tf.is_tensor(v):
                    return strategy.reduce("MEAN", v, axis=None if v.shape.rank == 0 else 0)
                return v

            return tf.nest.map_structure(mean, values)
        return original(values, strategy, reduction)

    reduce_per_replica.synthdet_patched = True
    trainer.reduce_per_replica = reduce_per_replica


def prepare_multi_worker_model(model, dataset) -> None:
    """Makes a compiled model trainable by fit() under MultiWorkerMirroredStrategy.

    Keras 3.15's fit() first all-reduces a whole input batch to build the model
    symbolically, and that reduce fails on an (images, labels) tuple ("Attempt
    to convert a value (PerReplica...)"). The model, its loss and metrics are
    built here from one local batch instead, and that step is skipped. Call
    inside `strategy.scope()`.
    """
    _patch_keras_reduce()
    images, labels = next(iter(dataset))
    model._symbolic_build(data_batch=(images, labels))  # noqa: SLF001
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None  # noqa: SLF001
