"""A RunInference model handler for any synthdet model (SavedModel, .tflite, .keras, workdir).

Each worker loads the model once (`load_model`); Beam batches the examples,
which are the uint8 views `model_views` made of one file ([V, S, S, 3]); a
file's views are scored together and averaged the way `Detector.detect` does.
"""

import os
import tempfile

import numpy as np
from apache_beam.ml.inference.base import ModelHandler, PredictionResult


def localize(path: str) -> str:
    """A model on a remote filesystem (gs://, s3://) copied to local disk, since backends read local files."""
    if "://" not in path:
        return path
    import tensorflow as tf

    target = os.path.join(tempfile.mkdtemp(prefix="synthdet_model_"), os.path.basename(path.rstrip("/")))
    if not tf.io.gfile.isdir(path):
        tf.io.gfile.copy(path, target)
        sidecar = path + ".json"
        if tf.io.gfile.exists(sidecar):
            tf.io.gfile.copy(sidecar, target + ".json")
        return target
    for folder, _, files in tf.io.gfile.walk(path):
        local = os.path.join(target, os.path.relpath(folder, path))
        os.makedirs(local, exist_ok=True)
        for name in files:
            tf.io.gfile.copy(os.path.join(folder, name), os.path.join(local, name))
    return target


class SynthdetModelHandler(ModelHandler):
    """Examples: uint8 [V, S, S, 3] views of one file (a fused model: [file bytes]);
    inference: {"logit", "fake_probability", "crops", "streams" (a fused model's pooled pair, else None)}."""

    def __init__(self, model_path: str, *, max_batch_size: int = 32):
        super().__init__(min_batch_size=1, max_batch_size=max_batch_size)
        self._model_path = model_path

    def load_model(self):
        from synthdet_tf.detect.detector import Detector

        return Detector.load(localize(self._model_path))

    def run_inference(self, batch, model, inference_args=None):
        from synthdet_tf.detect.calibration import sigmoid
        from synthdet_tf.detect.views import pool_logits

        pairs = [None] * len(batch)
        if model.backend.scores_files:  # a fused model: each example is [file bytes]; its streams feed the rule
            from synthdet_tf.detect.fused import stream_pair

            found = model.backend.stream_logits([model.backend.views_of(c)[0] for views in batch for c in views])
            logits = np.array([f.logit for f in found], np.float32)
            pairs = [stream_pair(model.backend.params, f) for f in found]
        else:
            logits = model.backend.logits(np.concatenate(list(batch)))
        out, offset = [], 0
        for views, pair in zip(batch, pairs):
            mine = logits[offset : offset + len(views)]
            offset += len(views)
            logit = pool_logits(mine)
            out.append(PredictionResult(views, {"logit": logit, "crops": len(views), "streams": pair,
                                                "fake_probability": float(sigmoid(logit, model.temperature))}))
        return out

    def get_num_bytes(self, batch) -> int:
        return int(sum(v.nbytes if hasattr(v, "nbytes") else sum(len(c) for c in v) for v in batch))

    def get_metrics_namespace(self) -> str:
        return "synthdet"
