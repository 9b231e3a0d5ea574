"""Detector models: uint8 RGB in, one float32 logit out (FAKE = 1).

    model = build_model(config.model, image_size=224)

Every model is Normalize(backbone) -> [NPR residual] -> backbone -> pooled
features -> dropout -> Dense(1, float32). Probabilities come from a sigmoid
outside the model (metrics, exported signatures), so int8 exports keep
their resolution.
"""

from synthdet_tf.models.registry import MODELS, build_model

__all__ = ["MODELS", "build_model"]
