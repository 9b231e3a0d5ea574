"""Where the evidence is: Grad-CAM on the model's last convolutional feature map.

Grad-CAM (Selvaraju et al., 2017) weighs each channel of the last 4-D feature
map by the mean gradient of the score flowing into it, sums, keeps the
positive part and scales it to [0, 1]. The score is the FAKE logit for images
called FAKE and its negative for images called REAL, so the map shows what
pushed the model towards the verdict it gave.

Works on a Keras model (a training workdir or .keras file) and, through their
`explain_images` signature, on SavedModels exported with it (v2 on).
"""

import keras
import tensorflow as tf


def cam_layer(model) -> keras.layers.Layer:
    """The last layer whose output is a 4-D feature map (a nested backbone counts as one layer)."""
    for layer in reversed(model.layers):
        shape = getattr(layer, "output", None)
        if shape is not None and len(layer.output.shape) == 4 and layer.name not in ("image", "normalize", "npr_residual"):
            return layer
    raise ValueError("The model has no 4-D feature map to explain")


def cam_model(model) -> keras.Model:
    """(feature map, logit) for uint8 images."""
    return keras.Model(model.input, [cam_layer(model).output, model.output])


def grad_cam(two_outputs, images, threshold_logit: float = 0.0):
    """float32 [B, S, S] in [0, 1] for uint8 images [B, S, S, 3]; also returns the logits [B]."""
    with tf.GradientTape() as tape:
        features, logits = two_outputs(images, training=False)
        logits = tf.reshape(tf.cast(logits, tf.float32), [-1])
        # Explain the verdict given: FAKE pushes the logit up, REAL down.
        sign = tf.where(logits >= threshold_logit, 1.0, -1.0)
        score = tf.reduce_sum(sign * logits)
    grads = tf.cast(tape.gradient(score, features), tf.float32)  # gradient of the tensor itself, then cast
    features = tf.cast(features, tf.float32)
    weights = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
    cam = cam / (tf.reduce_max(cam, axis=[1, 2], keepdims=True) + 1e-8)
    size = tf.shape(images)[1:3]
    return tf.image.resize(cam[..., None], size, method="bilinear")[..., 0], logits


def logit_of(probability: float, temperature: float = 1.0) -> float:
    """The logit at which sigmoid(logit / temperature) equals `probability`."""
    import math

    p = min(max(probability, 1e-7), 1 - 1e-7)
    return temperature * math.log(p / (1 - p))
