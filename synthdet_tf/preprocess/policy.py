"""Input policy: how an image of any size becomes S x S.

The study resized 512 px train and 240 px test images to one size, which may
destroy (or invent) the pixel-level traces a detector relies on, so the policy
is a config value and a measured choice:

- `resize`: S x S, aspect ratio not kept (what the study did). Antialiased, so
  downscaling does not alias.
- `center_crop` / `random_crop`: native resolution, no resampling at all;
  images smaller than S are reflect-padded first. `random_crop` is a centre
  crop outside training.
- `resize_shorter_then_crop`: shorter side to S (aspect kept), then a random
  (training) or centre (otherwise) S x S crop.

Output is uint8 so augmentation (JPEG re-encoding) and caching work on it and
every consumer rounds the same way.
"""

import tensorflow as tf

POLICIES = ("resize", "center_crop", "random_crop", "resize_shorter_then_crop")
# Policies whose output depends on a random draw when training.
RANDOM_POLICIES = ("random_crop", "resize_shorter_then_crop")


def decode_min_side(policy: str, size: int) -> int | None:
    """How far decoding may shrink an image for this policy (see decode_image)."""
    return size if check_policy(policy) in ("resize", "resize_shorter_then_crop") else None


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValueError(f"Unknown input policy {policy!r}; choose one of {POLICIES}")
    return policy


def is_deterministic(policy: str, training: bool) -> bool:
    """True when the policy's output depends on the image alone."""
    return not (training and check_policy(policy) in RANDOM_POLICIES)


def to_uint8(image):
    """Rounds float pixels to uint8 (saturating), the one rounding rule of synthdet."""
    return tf.saturate_cast(tf.round(image), tf.uint8)


def _reflect_indices(length, size):
    """Indices that reflect-pad an axis of `length` to at least `size`, centred.

    Unlike tf.pad(mode="REFLECT") this pads by any amount, which a 32 px
    image padded to 224 needs: the reflection repeats with period 2(n - 1).
    """
    total = tf.maximum(size, length)
    before = (total - length) // 2
    positions = tf.range(total) - before
    period = tf.maximum(2 * (length - 1), 1)
    folded = tf.math.floormod(positions, period)
    return tf.minimum(tf.where(folded < length, folded, period - folded), length - 1)


def reflect_pad_to(image, size):
    """Reflect-pads an [H, W, C] image so both sides are at least `size`."""
    shape = tf.shape(image)
    image = tf.gather(image, _reflect_indices(shape[0], size), axis=0)
    return tf.gather(image, _reflect_indices(shape[1], size), axis=1)


def _center_crop(image, size):
    shape = tf.shape(image)
    top = (shape[0] - size) // 2
    left = (shape[1] - size) // 2
    return image[top : top + size, left : left + size]


def _crop(image, size, training, seed):
    if training:
        if seed is None:
            raise ValueError("A random crop needs a seed (shape [2] int tensor)")
        return tf.image.stateless_random_crop(image, [size, size, 3], seed=seed)
    return _center_crop(image, size)


def _resize(image, shape):
    """Bilinear resize, antialiased only when a side shrinks.

    For pure upscaling the antialiased kernel gives the same values (to 5e-5)
    at about three times the cost, which matters for 32 px inputs.
    """
    shrinks = tf.reduce_any(tf.shape(image)[:2] > shape)
    resized = tf.cond(
        shrinks,
        lambda: tf.image.resize(image, shape, method="bilinear", antialias=True),
        lambda: tf.image.resize(image, shape, method="bilinear"),
    )
    return to_uint8(resized)


def _resize_shorter(image, size):
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = size / tf.reduce_min(shape)
    new_shape = tf.maximum(tf.cast(tf.math.ceil(shape * scale), tf.int32), size)
    return _resize(image, new_shape)


def apply_policy(image, policy: str, size: int, *, training: bool, seed=None):
    """uint8 [H, W, 3] -> uint8 [size, size, 3] under `policy`.

    `seed` (int tensor of shape [2]) drives the random crop when training.
    """
    check_policy(policy)
    if policy == "resize":
        out = _resize(image, tf.constant([size, size]))
    elif policy == "center_crop":
        out = _center_crop(reflect_pad_to(image, size), size)
    elif policy == "random_crop":
        out = _crop(reflect_pad_to(image, size), size, training, seed)
    else:
        out = _crop(_resize_shorter(image, size), size, training, seed)
    out = tf.ensure_shape(out, [size, size, 3])
    return out
