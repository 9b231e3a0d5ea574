"""The normalisation as a Keras layer: the first layer of every synthdet model.

Models take uint8-range RGB images [B, S, S, 3] (any numeric dtype); this
layer applies the backbone's normalisation in float32, whatever the mixed
precision policy, so a served or mobile model receives plain pixels.
"""

import keras

from synthdet_tf.preprocess.normalize import normalize, scheme_of


@keras.saving.register_keras_serializable(package="synthdet")
class Normalize(keras.layers.Layer):
    def __init__(self, backbone: str, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        scheme_of(backbone)  # unknown backbones fail here, with the list of known ones
        self.backbone = backbone

    def call(self, images):
        return normalize(images, self.backbone)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "backbone": self.backbone}
