"""What every backend offers (synthdet_tf/inference/backends.py, fused.py): a spec, a calibration, logits."""

import numpy as np

from synthdet_tf.preprocess import PreprocessSpec


class Backend:
    kind = "?"
    scores_files = False  # True: score_contents(list of file bytes) instead of logits(views)
    spec: PreprocessSpec
    calibration: dict
    path: str

    def logits(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def split_settings(self) -> dict | None:
        """How the training data was split (fractions, split_salt, source_from), when known."""
        cfg = self.train_config()
        if not cfg:
            return None
        d = cfg["data"]
        return {"fractions": list(d["fractions"]), "split_salt": d["split_salt"], "source_from": d["source_from"]}

    def train_config(self) -> dict | None:
        return None

    def describe(self) -> dict:
        return {"kind": self.kind, "path": self.path, "preprocess": self.spec.to_dict(), "calibration": self.calibration}
