"""What every detector shares: the input, the normalisation and the logit head."""

import keras

from synthdet_tf.preprocess import Normalize


@keras.saving.register_keras_serializable(package="synthdet")
class NPRResidual(keras.layers.Layer):
    """x - up(down(x)), nearest neighbour, factor 2 (Tan et al., CVPR 2024).

    Leaves only what neighbouring pixels do not share, which is where the
    upsampling layers of generators leave their traces.
    """

    def call(self, x):
        small = x[:, ::2, ::2, :]
        up = keras.ops.repeat(keras.ops.repeat(small, 2, axis=1), 2, axis=2)
        return x - up[:, : keras.ops.shape(x)[1], : keras.ops.shape(x)[2], :]

    def compute_output_shape(self, input_shape):
        return input_shape


def model_input(model_cfg, image_size: int):
    """(uint8 input, normalised float features ready for the backbone)."""
    if image_size % 2 and model_cfg.get("npr", False):
        raise ValueError(f"The NPR residual needs an even image_size, got {image_size}")
    inputs = keras.Input((image_size, image_size, 3), dtype="uint8", name="image")
    x = Normalize(model_cfg.backbone, name="normalize")(inputs)
    if model_cfg.get("npr", False):
        x = NPRResidual(name="npr_residual")(x)
    return inputs, x


def logit_head(features, model_cfg):
    """Pooled features -> one float32 logit per image, whatever the precision policy."""
    x = keras.layers.Dropout(model_cfg.get("dropout", 0.0), name="head_dropout")(features)
    logits = keras.layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.layers.Reshape((), dtype="float32", name="logit_flat")(logits)
