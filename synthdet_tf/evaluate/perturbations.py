"""Perturbations for robustness sweeps and the shortcut audit.

Each is a function uint8 [H, W, 3] -> uint8 [H', W', 3] on the decoded image
as stored, applied alike to REAL and FAKE before the model's input policy, so
the model sees what it would see had the file been re-saved or resized
before it reached us.
"""

import dataclasses

import tensorflow as tf

from synthdet_tf.data import augment
from synthdet_tf.data.augment import gaussian_blur
from synthdet_tf.preprocess.policy import to_uint8


def jpeg(quality: int):
    """Saved as JPEG at `quality` and decoded the way synthdet decodes files."""

    def fn(image):
        encoded = tf.image.encode_jpeg(image, quality=quality, chroma_downsampling=True)
        return tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE")

    return fn


def downscale(factor: float):
    """Both sides times `factor` (antialiased bilinear)."""
    return lambda image: augment.downscale(image, factor)


def longer_side(size: int):
    """Scaled so the longer side is `size` px (never enlarged): the study's 240 px test images."""

    def fn(image):
        shape = tf.cast(tf.shape(image)[:2], tf.float32)
        scale = tf.minimum(size / tf.reduce_max(shape), 1.0)
        new = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), 1)
        return to_uint8(tf.image.resize(image, new, method="bilinear", antialias=True))

    return fn


def blur(sigma: float):
    return lambda image: gaussian_blur(image, tf.constant(sigma, tf.float32), sigma)


def uniform_format(size: int, quality: int = 95):
    """The shortcut audit: every image resized to size x size and saved as JPEG at `quality`.

    After it, file format, JPEG history and image size no longer tell the
    classes apart; only content and generator traces that survive a q95 JPEG do.
    """
    resize = lambda image: to_uint8(tf.image.resize(image, [size, size], method="bilinear", antialias=True))  # noqa: E731
    return lambda image: jpeg(quality)(resize(image))


@dataclasses.dataclass(frozen=True)
class Perturbation:
    family: str  # "jpeg", "downscale", "blur", "study_240px"
    strength: float  # quality, factor, sigma or pixels; the x axis of the plot
    label: str

    def fn(self):
        return {
            "jpeg": lambda: jpeg(int(self.strength)),
            "downscale": lambda: downscale(self.strength),
            "blur": lambda: blur(self.strength),
            "study_240px": lambda: longer_side(int(self.strength)),
        }[self.family]()


SWEEP = (
    Perturbation("jpeg", 95, "JPEG q95"),
    Perturbation("jpeg", 75, "JPEG q75"),
    Perturbation("jpeg", 50, "JPEG q50"),
    Perturbation("downscale", 0.75, "downscale x0.75"),
    Perturbation("downscale", 0.5, "downscale x0.5"),
    Perturbation("study_240px", 240, "longer side 240 px (study's test size)"),
    Perturbation("blur", 1.0, "blur sigma 1"),
    Perturbation("blur", 2.0, "blur sigma 2"),
)
