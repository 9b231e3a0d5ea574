"""Encoded file contents -> the model's input views: the one definition `Detector`
(`synthdet-detect`) and the Beam scan (`synthdet-scan`) both import.

A file is checked with `pillow_io.probe` (bad files raise `BadImageError` with
the reason), decoded the way training decoded it, and put through the model's
input policy; with `crops` > 1 an image at least `image_size` on both sides
gives up to that many native-resolution crops whose scores the caller averages.
"""

import math

import numpy as np

from synthdet_tf.data.pillow_io import DEFAULT_MAX_PIXELS, decode_rgb, probe


def crop_boxes(height: int, width: int, size: int, k: int) -> list[tuple[int, int]]:
    """Top-left corners of k size x size crops spread over the image, nearest the centre first."""
    n = math.ceil(math.sqrt(k))
    tops = np.linspace(0, height - size, n).round().astype(int) if n > 1 else [(height - size) // 2]
    lefts = np.linspace(0, width - size, n).round().astype(int) if n > 1 else [(width - size) // 2]
    grid = sorted({(int(t), int(l)) for t in tops for l in lefts},
                  key=lambda b: (b[0] + size / 2 - height / 2) ** 2 + (b[1] + size / 2 - width / 2) ** 2)
    return grid[:k]


def model_views(contents: bytes, spec, crops: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS,
                info=None) -> np.ndarray:
    """uint8 [V, S, S, 3] for one file's bytes: the policy's one view, or up to `crops` native crops.

    `crops` None or 0 means the model's own tiling (`spec.crops`); `info`, the file's `probe`
    when the caller has it already (a file is probed once).
    """
    import tensorflow as tf

    from synthdet_tf.preprocess import eval_transform

    crops = int(crops or getattr(spec, "crops", 1))
    info = info or probe(contents, max_pixels=max_pixels)  # raises BadImageError with the reason
    if crops > 1 and min(info.width, info.height) >= spec.image_size:
        return image_views(decode_as_trained(contents, info.needs_pillow), spec, crops)
    if info.needs_pillow:
        return image_views(decode_rgb("", contents), spec, 1)
    return eval_transform(tf.constant(contents), spec).numpy()[None]


def shared_views(contents: bytes, specs, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[np.ndarray]:
    """`model_views(contents, spec)` for each spec, the file probed once and, where it can be, decoded once.

    A fused detector's two streams both need the file. A JPEG is decoded at a
    reduced DCT scale for a resizing policy (`decode_min_side`) but at native
    size for crops, so each spec decodes it its own way; any other file is
    decoded the same way by both, and decoding a large PNG twice is a
    noticeable share of a fused detector's time.
    """
    if contents[:3] == b"\xff\xd8\xff":  # tf.io.is_jpeg's test; model_views checks the file
        return [model_views(contents, spec, max_pixels=max_pixels) for spec in specs]
    info = probe(contents, max_pixels=max_pixels)  # raises BadImageError with the reason
    image = decode_as_trained(contents, info.needs_pillow)
    return [image_views(image, spec, int(getattr(spec, "crops", 1))) for spec in specs]


def decode_as_trained(contents: bytes, needs_pillow: bool) -> np.ndarray:
    """uint8 [H, W, 3] at native size, decoded as training decoded it (TF's decoder unless the format needs Pillow)."""
    if needs_pillow:
        return decode_rgb("", contents)
    import tensorflow as tf

    from synthdet_tf.preprocess import decode_image

    return decode_image(tf.constant(contents)).numpy()


def logits_per_file(backend, views: list) -> list[np.ndarray]:
    """Each file's views' logits, the model run once over all of them: [uint8 [V_i, S, S, 3]] -> [float32 [V_i]]."""
    logits = backend.logits(np.concatenate(views))
    bounds = np.cumsum([0] + [len(v) for v in views])
    return [logits[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def image_views(image: np.ndarray, spec, crops: int) -> np.ndarray:
    """uint8 [V, S, S, 3] views of a decoded uint8 [H, W, 3] image (as `model_views`)."""
    import tensorflow as tf

    from synthdet_tf.preprocess import apply_policy

    s = spec.image_size
    if crops > 1 and min(image.shape[:2]) >= s:
        return np.stack([image[t : t + s, l : l + s] for t, l in crop_boxes(image.shape[0], image.shape[1], s, crops)])
    return apply_policy(tf.constant(image), spec.policy, s, training=False).numpy()[None]


def pool_logits(view_logits) -> float:
    """One logit per file from its views' logits: their mean.

    A local model's crop logit is already the mean of its patches' logits, so
    the file's logit is the mean over every patch scored. Mean-of-probabilities
    and max were measured against it on the external check (docs/generalization.md).
    """
    return float(np.mean(view_logits))


def read_bytes(path: str) -> bytes:
    """A file's contents from any filesystem TensorFlow reads (local, gs://, s3:// with plugins)."""
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "rb") as f:
        return f.read()
