"""Does a model see the upsampler fingerprints it may have trained on? (`synthdet-evaluate --synth_check`)

Scores the REAL images of a split as stored and again with a random
upsampler's trace added (`data.fingerprints.synthesize`, the training
defaults: 30-42 dB), each image's draw seeded by its own pixels so a rerun
gives the same numbers. The AUC separating the two says whether the model
learned the synthetic trace at all; set beside the external check, whether
that trace is one real generators leave.
"""

import json
import os

import numpy as np
import tensorflow as tf
from sklearn.metrics import roc_auc_score

from synthdet_tf.data.discovery import REAL, discover
from synthdet_tf.data.fingerprints import synthesize
from synthdet_tf.evaluate.predict import predict_logits
from synthdet_tf.detect.backends import load_backend


def _with_trace(image):
    seed = tf.stack([tf.reduce_sum(tf.cast(image, tf.int64)) % (2**31 - 1), tf.constant(17, tf.int64)])
    return synthesize(image, seed)


def check(model_path: str, data_dir: str, output_dir: str, split: str = "test") -> dict:
    backend = load_backend(model_path)
    reals = [r for r in discover(data_dir).records if split in ("all", r.split) and r.label == REAL]
    if not reals:
        raise ValueError(f"No REAL images in the {split} split of {data_dir}")
    plain = predict_logits(backend, reals, desc="reals")
    traced = predict_logits(backend, reals, perturb=_with_trace, desc="reals + trace")
    labels = np.r_[np.zeros(len(plain)), np.ones(len(traced))]
    result = {"model": model_path, "data_dir": data_dir, "split": split, "n_real": len(reals),
              "auc": float(roc_auc_score(labels, np.r_[plain, traced])),
              "mean_logit_shift": float(np.mean(traced - plain))}
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, "synth_check.json"), "w") as fh:
        json.dump(result, fh, indent=2)
    return result
