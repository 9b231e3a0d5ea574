"""Validation files re-made the way files reach us, written out as files so their history reads as in the wild.

The abstention rule (evaluate/abstention.py) is fitted per file history, on the
validation split only. As the validation split stands, its histories follow its
sources (the dev set's fakes are mostly lossless, its real photos camera JPEGs),
so a kind of file seen in one class only says nothing about how well the pixel
score separates the classes there. Each chain below is drawn alike for both
classes from the operations training's own chain uses (`data.augment`'s
antialiased `downscale`, TensorFlow's JPEG encoder as in `jpeg_reencode`,
Pillow's WebP as in `webp_reencode`, lossless PNG), with the quality and scale
ranges of the model's own training config, so a re-encoded or resized file of
either class appears in validation before any rule trusts the pixels on it.
"""

import dataclasses
import hashlib
import io

import numpy as np
from PIL import Image

# Each chain: the steps applied in order to the decoded image; the last step is the file's encoding.
CHAINS = {
    "as_is": (),
    "jpeg": ("jpeg",),
    "webp": ("webp",),
    "resized_png": ("downscale", "png"),
    "resized_jpeg": ("downscale", "jpeg"),
    "png_from_jpeg": ("jpeg", "png"),
}
EXTENSIONS = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}


@dataclasses.dataclass(frozen=True)
class Ranges:
    """Where a chain's draws come from: the training config's `data.process` when it has one, else `data.augment`."""

    scale: tuple = (0.5, 0.9)
    jpeg_quality: tuple = (30, 100)
    webp_quality: tuple = (30, 100)

    @classmethod
    def from_train_config(cls, cfg: dict | None) -> "Ranges":
        data = (cfg or {}).get("data") or {}
        chain, aug = data.get("process") or {}, data.get("augment") or {}

        def pick(chain_key, augment_key, field, default):
            return tuple((chain.get(chain_key) or aug.get(augment_key) or {}).get(field) or default)

        return cls(scale=pick("downscale", "rescale", "scale", cls.scale),
                   jpeg_quality=pick("jpeg", "jpeg", "quality", cls.jpeg_quality),
                   webp_quality=pick("webp", "webp", "quality", cls.webp_quality))


def _rng(relpath: str, chain: str, seed: int) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{chain}:{relpath}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _downscale(image: np.ndarray, scale: float) -> np.ndarray:
    from synthdet_tf.data.augment import downscale

    return downscale(image, scale).numpy()


def _encode(image: np.ndarray, step: str, quality: int) -> bytes:
    import tensorflow as tf

    if step == "jpeg":
        return tf.io.encode_jpeg(image, quality=int(quality)).numpy()
    if step == "png":
        return tf.io.encode_png(image).numpy()
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="WEBP", quality=int(quality), method=0)
    return out.getvalue()


def _decode(contents: bytes) -> np.ndarray:
    from synthdet_tf.data.pillow_io import decode_rgb

    return decode_rgb("", contents)


def remake(contents: bytes, chain: str, relpath: str, ranges: Ranges = Ranges(), seed: int = 0) -> tuple[bytes, str, dict]:
    """(the re-made file's bytes, its extension, what was drawn) for one file through one chain.

    The draws are a pure function of (seed, chain, relpath), so a re-run makes the same files.
    """
    steps = CHAINS[chain]
    if not steps:
        return contents, "", {}
    rng, drawn = _rng(relpath, chain, seed), {}
    image, encoded = _decode(contents), None
    for step in steps:
        if encoded is not None:
            image = _decode(encoded)
        if step == "downscale":
            drawn["scale"] = round(float(rng.uniform(*ranges.scale)), 3)
            image, encoded = _downscale(image, drawn["scale"]), None
            continue
        low, high = ranges.jpeg_quality if step == "jpeg" else ranges.webp_quality
        quality = int(rng.integers(int(low), int(high) + 1)) if step != "png" else 0
        if step != "png":
            drawn[f"{step}_quality"] = quality
        encoded = _encode(image, step, quality)
    return encoded, EXTENSIONS[steps[-1]], drawn
