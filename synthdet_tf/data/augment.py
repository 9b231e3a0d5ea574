"""Training-time augmentation, applied alike to both classes.

Each transform has its own probability and range (config `data.augment`):
downscale-then-upscale, Gaussian blur, JPEG re-encode, WebP re-encode,
horizontal flip, in that order, mimicking an image that was resized, softened and compressed on its way
to a social network (the robustness users ask about most). Blur and JPEG at
p = 0.1 to 0.5 are what CNNDetection (Wang et al., 2020) found to generalise.

All randomness is stateless and driven by a per-element seed, so a seeded
pipeline produces the same images in the same order on every run.
"""

import io
import math

import numpy as np
import tensorflow as tf
from PIL import Image

from synthdet_tf.preprocess.policy import to_uint8


def _uniform(seed, low, high):
    return tf.random.stateless_uniform([], seed=seed, minval=float(low), maxval=float(high))


def _maybe(p, seed, image, fn, fn_seed):
    if p <= 0:
        return image
    if p >= 1:
        return fn(image, fn_seed)
    return tf.cond(_uniform(seed, 0.0, 1.0) < p, lambda: fn(image, fn_seed), lambda: image)


def gaussian_blur(image, sigma, max_sigma):
    """Separable Gaussian blur of a uint8 [H, W, 3] image, reflect-padded.

    The kernel has a fixed radius (3 * max_sigma) so the graph is static; its
    weights follow the drawn sigma.
    """
    radius = max(1, int(math.ceil(3.0 * max_sigma)))
    x = tf.range(-radius, radius + 1, dtype=tf.float32)
    weights = tf.exp(-0.5 * tf.square(x / tf.maximum(sigma, 1e-3)))
    weights /= tf.reduce_sum(weights)
    img = tf.cast(image, tf.float32)[None]
    # REFLECT padding must be smaller than the side: tiny images get less.
    h, w = tf.shape(img)[1], tf.shape(img)[2]
    pad_h, pad_w = tf.minimum(radius, h - 1), tf.minimum(radius, w - 1)
    img = tf.pad(img, [[0, 0], [pad_h, pad_h], [pad_w, pad_w], [0, 0]], mode="REFLECT")
    kernel_v = tf.tile(tf.reshape(weights, [-1, 1, 1, 1]), [1, 1, 3, 1])
    kernel_h = tf.tile(tf.reshape(weights, [1, -1, 1, 1]), [1, 1, 3, 1])
    # Crop the kernel to the padding available when the image is tiny.
    kernel_v = kernel_v[radius - pad_h : radius + pad_h + 1]
    kernel_h = kernel_h[:, radius - pad_w : radius + pad_w + 1]
    kernel_v /= tf.reduce_sum(kernel_v[:, :, :1])
    kernel_h /= tf.reduce_sum(kernel_h[:, :, :1])
    img = tf.nn.depthwise_conv2d(img, kernel_v, [1, 1, 1, 1], "VALID")
    img = tf.nn.depthwise_conv2d(img, kernel_h, [1, 1, 1, 1], "VALID")
    return to_uint8(img[0])


def jpeg_reencode(image, quality):
    return tf.image.adjust_jpeg_quality(image, tf.cast(quality, tf.int32))


def _webp_numpy(image, quality):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="WEBP", quality=int(quality), method=0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8)


def webp_reencode(image, quality):
    """Lossy WebP round trip through Pillow (TensorFlow has no WebP encoder).

    Generators' outputs reach the web as WebP as often as JPEG; a codec seen
    only on one class becomes a shortcut, so both classes get it alike.
    """
    out = tf.numpy_function(_webp_numpy, [image, tf.cast(quality, tf.int32)], tf.uint8, stateful=False)
    return tf.ensure_shape(out, image.shape) if image.shape.is_fully_defined() else tf.reshape(out, tf.shape(image))


def down_up(image, scale):
    """Downscale by `scale` (antialiased) and back: loses high frequencies."""
    return to_uint8(tf.image.resize(downscale(image, scale), tf.shape(image)[:2], method="bilinear"))


def _recode(image, entry, seeds, encode):
    """With probability entry.p, a round trip through `encode` at a quality drawn from entry.quality."""
    low, high = entry.quality
    return _maybe(entry.p, seeds[0], image, lambda im, s: encode(im, tf.floor(_uniform(s, low, high + 1))), seeds[1])


def augment(image, seed, cfg):
    """Augments one uint8 [H, W, 3] image; `cfg` is config `data.augment`."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=8)
    rescale, blur = cfg.rescale, cfg.blur
    image = _maybe(rescale.p, seeds[0], image, lambda im, s: down_up(im, _uniform(s, *rescale.scale)), seeds[1])
    image = _maybe(
        blur.p, seeds[2], image, lambda im, s: gaussian_blur(im, _uniform(s, *blur.sigma), blur.sigma[1]), seeds[3]
    )
    image = _recode(image, cfg.jpeg, seeds[4:6], jpeg_reencode)
    webp = cfg.get("webp")  # configs written before WebP have none
    if webp is not None:
        image = _recode(image, webp, tf.random.experimental.stateless_split(seeds[7], num=2), webp_reencode)
    return _maybe(cfg.hflip, seeds[6], image, lambda im, s: tf.reverse(im, axis=[1]), seeds[7])


def _aligned_window(image, side, seed):
    """A random side x side window (or the whole image when smaller) whose corner sits on the 16 px grid.

    Re-encoding a window that starts on the JPEG/MCU grid gives the same
    pixels as re-encoding the whole image and cutting the window out (but
    for a few border pixels, where chroma upsampling reads across the edge),
    at a fraction of the cost on camera-sized images.
    """
    shape = tf.shape(image)
    h, w = tf.minimum(shape[0], side), tf.minimum(shape[1], side)
    max_top, max_left = (shape[0] - h) // 16, (shape[1] - w) // 16
    draws = tf.random.stateless_uniform([2], seed=seed, minval=0, maxval=2**30, dtype=tf.int32)
    top, left = 16 * (draws[0] % (max_top + 1)), 16 * (draws[1] % (max_left + 1))
    return image[top : top + h, left : left + w]


def center_window(image, side: int):
    """The central side x side window of a large image (whole when smaller), its corner on the 16 px grid.

    Native-crop training keeps this much of each image in memory instead of
    the whole camera frame; crops and the processing chain draw from it.
    """
    shape = tf.shape(image)
    h, w = tf.minimum(shape[0], side), tf.minimum(shape[1], side)
    top, left = 16 * ((shape[0] - h) // 32), 16 * ((shape[1] - w) // 32)
    return image[top : top + h, left : left + w]


def downscale(image, scale):
    """Both sides times `scale` (antialiased bilinear), at least 1 px."""
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    small = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), 1)
    return to_uint8(tf.image.resize(image, small, method="bilinear", antialias=True))


def process_whole(image, seed, cfg, crop_size: int):
    """The processing chain a file may have had before it reached us, drawn alike for both classes.

    uint8 [H, W, 3] -> uint8 [H', W', 3], before the native crop: a mild
    downscale, then a JPEG or a WebP re-encode, each with its probability
    (config `data.process`). Real photos then carry no codec, quality or size
    the fakes lack, and the reverse. Works on a grid-aligned window large
    enough for one crop after the smallest downscale.
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=7)
    min_scale = float(min(cfg.downscale.scale)) if cfg.downscale.p > 0 else 1.0
    side = 16 * int(math.ceil((crop_size / min_scale + 16) / 16))
    image = _aligned_window(image, side, seeds[0])
    image = _maybe(cfg.downscale.p, seeds[1], image, lambda im, s: downscale(im, _uniform(s, *cfg.downscale.scale)), seeds[2])
    image = _recode(image, cfg.jpeg, seeds[3:5], jpeg_reencode)
    return _recode(image, cfg.webp, seeds[5:7], webp_reencode)
