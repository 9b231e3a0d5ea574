"""TFLite variants of a float32 model, all with plain RGB input and a logit output.

| variant | weights | activations | input | output |
|---|---|---|---|---|
| tflite_float32 | float32 | float32 | uint8 [1, S, S, 3] RGB | float32 logit [1] |
| tflite_float16 | float16 | float32 | uint8 [1, S, S, 3] RGB | float32 logit [1] |
| tflite_dynamic | int8 | float32 (int8 matmuls) | uint8 [1, S, S, 3] RGB | float32 logit [1] |
| tflite_int8 | int8 | int8 | uint8 [1, S, S, 3] RGB (scale 1, zero point 0) | float32 logit [1] |

The normalisation is inside every model (the first layer), so an app hands
over the S x S pixels as they are, after resizing or cropping as the sidecar
JSON's `preprocess.policy` says. The output is the logit, dequantized: an int8
sigmoid output would move in 1/256 steps and saturate, so the app applies
sigmoid(logit / temperature) in float and compares with the threshold.
"""

import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

VARIANTS = ("tflite_float32", "tflite_float16", "tflite_dynamic", "tflite_int8")
MIN_REPRESENTATIVE = 200


def _float_input_model(model):
    """The same model and weights, taking float32 pixels in [0, 255] (for int8 calibration)."""
    inputs = keras.Input(model.input_shape[1:], dtype="float32", name="image")
    clone = keras.models.clone_model(model, input_tensors=inputs)
    clone.set_weights(model.get_weights())
    return clone


def _converter(model, workdir):
    """A converter over Keras 3's own SavedModel export of `model`.

    That route freezes the Keras 3 variables into the flatbuffer. (Converting
    a tf.function over the model left every weight as a READ_VARIABLE op: a
    180 kB file that returned NaN.) `from_keras_model` does the same but
    prints every captured tensor.
    """
    path = os.path.join(workdir, "keras_export")
    model.export(path, format="tf_saved_model", verbose=False)
    return tf.lite.TFLiteConverter.from_saved_model(path)


def convert(model, variant: str, representative: np.ndarray | None = None) -> bytes:
    """TFLite flatbuffer bytes; `representative` uint8 [N, S, S, 3] (N >= 200) for int8."""
    if variant not in VARIANTS:
        raise ValueError(f"Unknown TFLite variant {variant!r}; choose from {VARIANTS}")
    with tempfile.TemporaryDirectory(prefix="synthdet_tflite_") as tmp:
        return _convert(model, variant, representative, tmp)


def _convert(model, variant, representative, tmp):
    if variant == "tflite_int8":
        if representative is None or len(representative) < MIN_REPRESENTATIVE:
            n = 0 if representative is None else len(representative)
            raise ValueError(f"int8 needs at least {MIN_REPRESENTATIVE} representative training images, got {n}")
        converter = _converter(_float_input_model(model), tmp)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([im[None].astype(np.float32)] for im in representative)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.float32
        return converter.convert()
    converter = _converter(model, tmp)
    if variant in ("tflite_float16", "tflite_dynamic"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "tflite_float16":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()
