"""The crop grid a crop model scores: n x n native-resolution crops spread evenly over the image.

One definition in TensorFlow, used inside the exported SavedModel; the
Python side (`synthdet_tf.detect.views.crop_boxes`) draws the same boxes
(a test checks), so `synthdet-detect`, the served model and a phone that
tiles the image by the sidecar's numbers all score the same pixels.

- `crops` = n * n (4, 9, 16, ...): tops at round(linspace(0, H - S, n)),
  lefts likewise (round half to even), so the corners are always covered;
  n = 1 is the centre crop.
- An image smaller than S on a side gets the policy's one view (centre crop
  of the reflect-padded image), repeated n * n times so batches keep one shape;
  the mean over identical views is that view's score.
"""

import math

import tensorflow as tf

from synthdet_tf.preprocess.policy import apply_policy


def grid_side(crops: int) -> int:
    """n for crops = n * n; a crop count that is not a square has no grid."""
    n = math.isqrt(int(crops))
    if n * n != int(crops) or n < 1:
        raise ValueError(f"A crop grid needs a square number of crops (1, 4, 9, 16, ...), got {crops}")
    return n


def _offsets(length, size, n):
    if n == 1:
        return tf.reshape((length - size) // 2, [1])
    return tf.cast(tf.round(tf.linspace(tf.constant(0.0, tf.float64), tf.cast(length - size, tf.float64), n)), tf.int32)


def grid_crops(image, size: int, crops: int, policy: str = "random_crop"):
    """uint8 [H, W, 3] -> uint8 [crops, size, size, 3] (see the module docstring)."""
    n = grid_side(crops)
    shape = tf.shape(image)

    def grid():
        tops, lefts = _offsets(shape[0], size, n), _offsets(shape[1], size, n)
        return tf.stack([tf.slice(image, [tops[i], lefts[j], 0], [size, size, 3]) for i in range(n) for j in range(n)])

    def single():
        view = apply_policy(image, policy, size, training=False)
        return tf.tile(view[None], [n * n, 1, 1, 1])

    out = tf.cond(tf.reduce_min(shape[:2]) >= size, grid, single)
    return tf.ensure_shape(out, [n * n, size, size, 3])
