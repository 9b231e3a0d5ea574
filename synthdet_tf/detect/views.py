"""Encoded file contents -> the model's input views: the one definition `Detector`
(`synthdet-detect`), the fused detector, the app and the Beam scan (`synthdet-scan`) import.

A file's headers are checked with `pillow_io.probe` and its pixels by decoding
them the way training decoded them (bad files raise `BadImageError` with the
reason, at whichever step finds it), then put through the model's input
policy; with `crops` > 1 an image at least `image_size` on both sides gives
up to that many native-resolution crops whose scores the caller averages.

A file is decoded once per scale its views need (`decode_views`): a JPEG at a
reduced DCT scale for a resizing policy's one view, at native size for crops;
any other file, and a JPEG too small to shrink, once for every view.
"""

import math
import re

import numpy as np

from synthdet_tf.data.pillow_io import DEFAULT_MAX_PIXELS, BadImageError, decode_rgb, probe


def crop_boxes(height: int, width: int, size: int, k: int) -> list[tuple[int, int]]:
    """Top-left corners of k size x size crops spread over the image, nearest the centre first."""
    n = math.ceil(math.sqrt(k))
    tops = np.linspace(0, height - size, n).round().astype(int) if n > 1 else [(height - size) // 2]
    lefts = np.linspace(0, width - size, n).round().astype(int) if n > 1 else [(width - size) // 2]
    grid = sorted({(int(t), int(l)) for t in tops for l in lefts},
                  key=lambda b: (b[0] + size / 2 - height / 2) ** 2 + (b[1] + size / 2 - width / 2) ** 2)
    return grid[:k]


def view_boxes(height: int, width: int, spec, crops: int) -> list[tuple[int, int]]:
    """The native crops `image_views` cuts (top-left corners, in its order), or [] when it gives the policy's one view."""
    s = spec.image_size
    return crop_boxes(height, width, s, crops) if crops > 1 and min(height, width) >= s else []


def image_views(image: np.ndarray, spec, crops: int) -> np.ndarray:
    """uint8 [V, S, S, 3] views of a decoded uint8 [H, W, 3] image: its native crops, or the policy's one view."""
    import tensorflow as tf

    from synthdet_tf.preprocess import apply_policy

    s = spec.image_size
    boxes = view_boxes(image.shape[0], image.shape[1], spec, crops)
    if boxes:
        return np.stack([image[t : t + s, l : l + s] for t, l in boxes])
    return apply_policy(tf.constant(image), spec.policy, s, training=False).numpy()[None]


def model_views(contents: bytes, spec, crops: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS,
                info=None) -> np.ndarray:
    """uint8 [V, S, S, 3] for one file's bytes: the policy's one view, or up to `crops` native crops.

    `crops` None or 0 means the model's own tiling (`spec.crops`); `info`, the file's `probe`
    when the caller has it already (a file is probed once). The probe reads headers only: the
    decode reads every byte and raises `BadImageError` on a truncated file (`decode_as_trained`).
    """
    info = info or probe(contents, max_pixels=max_pixels, verify=False)  # raises BadImageError with the reason
    return decode_views(contents, info, [(spec, crops)])[0][0]


def shared_views(contents: bytes, specs, max_pixels: int = DEFAULT_MAX_PIXELS, info=None) -> list[np.ndarray]:
    """`model_views(contents, spec)` for each spec, the file probed once and decoded once per scale (`decode_views`)."""
    info = info or probe(contents, max_pixels=max_pixels, verify=False)  # the decode checks the rest (model_views)
    return decode_views(contents, info, [(spec, None) for spec in specs])[0]


def decode_views(contents: bytes, info, wanted, keep_image: bool = False) -> tuple[list[np.ndarray], np.ndarray | None]:
    """([uint8 [V, S, S, 3] per (spec, crops) in `wanted`], the native decode if `keep_image` else None).

    `info` is the file's `probe`. The views come from as few decodes as the
    scales allow: a resizing policy's one view of a JPEG is cut from a reduced
    DCT-scale decode, as training read it (`preprocess.decode_image`), while
    crops need native pixels, so a JPEG large enough to shrink is decoded twice;
    any other file once. Decoding the reduced scale first tells which case it
    is without repeating `decode_image`'s rule: a decode that came out at
    native size serves the crops too.
    """
    from synthdet_tf.preprocess.policy import decode_min_side

    native_shape = (info.height, info.width)
    wanted = [(spec, int(crops or getattr(spec, "crops", 1))) for spec, crops in wanted]
    sides = [None if view_boxes(*native_shape, spec, crops) else decode_min_side(spec.policy, spec.image_size)
             for spec, crops in wanted]
    decoded = {}

    def image(side):
        if side not in decoded:
            native = next((im for im in decoded.values() if im.shape[:2] == native_shape), None)
            decoded[side] = native if side is None and native is not None else decode_as_trained(contents, info.needs_pillow, side)
        return decoded[side]

    for side in sorted(set(sides), key=lambda s: s is None):  # reduced scales first (see above)
        image(side)
    views = [image_views(image(side), spec, crops) for (spec, crops), side in zip(wanted, sides)]
    return views, image(None) if keep_image else None


def decode_as_trained(contents: bytes, needs_pillow: bool, min_side: int | None = None) -> np.ndarray:
    """uint8 [H, W, 3] decoded as training decoded it (TF's decoder unless the format needs Pillow).

    `min_side`: a JPEG may come out at a reduced DCT scale (`preprocess.decode_image`). Decoding reads
    the whole file, so a truncated or corrupt one raises `BadImageError` here, as `probe(verify=True)` would.
    """
    import tensorflow as tf

    from synthdet_tf.preprocess import decode_image

    try:
        if needs_pillow:
            return decode_rgb("", contents)
        return decode_image(tf.constant(contents), min_side).numpy()
    except (tf.errors.InvalidArgumentError, OSError, SyntaxError) as e:  # SyntaxError: Pillow's broken-header error
        why = re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:\w+\]", "", str(e)).splitlines()[0] if str(e) else ""
        raise BadImageError(f"truncated or corrupt ({type(e).__name__}: {why})") from None


def logits_per_file(backend, views: list) -> list[np.ndarray]:
    """Each file's views' logits, the model run once over all of them: [uint8 [V_i, S, S, 3]] -> [float32 [V_i]]."""
    logits = backend.logits(np.concatenate(views))
    bounds = np.cumsum([0] + [len(v) for v in views])
    return [logits[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def file_views(backend, contents: bytes, info, crops: int | None = None, keep_image: bool = False):
    """(what `backend` scores for one file, its native decode if `keep_image` else None), from one probe `info`.

    A view-scoring backend gets uint8 [V, S, S, 3] (`decode_views`); a fused one
    (`scores_files`) gets a list holding its own `views_of` the file, as it gives
    one logit per file. `crops` applies to a view-scoring backend only.
    """
    if getattr(backend, "scores_files", False):
        views, image = backend.views_of(contents, info, keep_image=keep_image)
        return [views], image
    views, image = decode_views(contents, info, [(backend.spec, crops)], keep_image)
    return views[0], image


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
