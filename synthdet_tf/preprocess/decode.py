"""Encoded image bytes -> RGB uint8 [H, W, 3], in-graph.

`tf.io.decode_image` sniffs the content, so a `.png` that holds a JPEG or WebP
decodes correctly (the dev data has 18 such files). Conventions, measured
against Pillow on TF 2.21:
- JPEG (incl. grayscale and CMYK), PNG, GIF, WebP and 24/32-bit BMP decode
  here; palette and 1-bit BMP do not decode correctly in TF and go through
  Pillow in the training pipeline (`synthdet_tf.data.pillow_io`).
- GIF: the first frame (`expand_animations=False` also keeps the rank static).
- 16-bit PNG: value >> 8. Grayscale and palette: expanded to RGB.
- Alpha is dropped, not composited: the detector must see the stored pixels,
  not a background we invent.
- JPEG uses the accurate integer IDCT. TF's default (INTEGER_FAST) differs
  from libjpeg's reference output by up to 11 levels, in exactly the high
  frequencies a detector looks at; the accurate one matches Pillow bit for bit.
- EXIF orientation is ignored, as the pixel data is what carries the evidence.
"""

import tensorflow as tf


def decode_image(contents: tf.Tensor) -> tf.Tensor:
    """Decodes one encoded image (scalar string tensor) to uint8 [H, W, 3]."""
    def jpeg():
        return tf.io.decode_jpeg(contents, channels=3, dct_method="INTEGER_ACCURATE")

    def other():
        return tf.io.decode_image(contents, channels=3, dtype=tf.uint8, expand_animations=False)

    image = tf.cond(tf.io.is_jpeg(contents), jpeg, other)
    image.set_shape([None, None, 3])
    return image
