"""Encoded image bytes -> RGB uint8 [H, W, 3], in-graph.

`tf.io.decode_image` sniffs the content, so a `.png` that holds a JPEG or WebP
decodes correctly (the dev data has 18 such files). Conventions, measured
against Pillow on TF 2.21:
- JPEG (incl. grayscale and CMYK), PNG, GIF, WebP and 24/32-bit BMP decode
  here; palette and 1-bit BMP do not decode correctly in TF and go through
  Pillow in the training pipeline (`synthdet_tf.data.pillow_io`).
- GIF: the first frame (`expand_animations=False` also keeps the rank static).
  TF still decodes every frame to return it, so the training pipeline sends
  animated GIFs through Pillow, which returns the same first frame.
- 16-bit PNG: value >> 8. Grayscale and palette: expanded to RGB.
- Alpha is dropped, not composited: the detector must see the stored pixels,
  not a background we invent.
- JPEG uses the accurate integer IDCT. TF's default (INTEGER_FAST) differs
  from libjpeg's reference output by up to 11 levels, in exactly the high
  frequencies a detector looks at; the accurate one matches Pillow bit for bit.
- EXIF orientation is ignored, as the pixel data is what carries the evidence.
- With `min_side`, a JPEG whose shorter side is at least 2x `min_side` is
  decoded at 1/2, 1/4 or 1/8 scale in the DCT domain (libjpeg's scaled IDCT),
  never below `min_side`. Only the resizing policies ask for it: they
  downscale anyway, and this makes large photos several times cheaper.
"""

import tensorflow as tf


_DCT_RATIOS = (1, 2, 4, 8)


def _jpeg_ratio_index(contents, min_side):
    """Index into _DCT_RATIOS of the largest ratio keeping the shorter side >= min_side."""
    shorter = tf.reduce_min(tf.image.extract_jpeg_shape(contents)[:2])
    return tf.add_n([tf.cast(shorter // r >= min_side, tf.int32) for r in _DCT_RATIOS[1:]])


def decode_image(contents: tf.Tensor, min_side: int | None = None) -> tf.Tensor:
    """Decodes one encoded image (scalar string tensor) to uint8 [H, W, 3]."""

    def jpeg():
        if min_side is None:
            return tf.io.decode_jpeg(contents, channels=3, dct_method="INTEGER_ACCURATE")
        branches = [
            lambda r=r: tf.io.decode_jpeg(contents, channels=3, ratio=r, dct_method="INTEGER_ACCURATE")
            for r in _DCT_RATIOS
        ]
        return tf.switch_case(_jpeg_ratio_index(contents, min_side), branches)

    def other():
        return tf.io.decode_image(contents, channels=3, dtype=tf.uint8, expand_animations=False)

    image = tf.cond(tf.io.is_jpeg(contents), jpeg, other)
    image.set_shape([None, None, 3])
    return image
