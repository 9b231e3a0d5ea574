"""Checking and (where TensorFlow cannot) decoding image files with Pillow.

`probe` is the gate every file passes at discovery, so training never meets a
bad file: it identifies the format from the content, refuses images above a
pixel limit *before* decoding them (a decompression bomb is a few KB on disk),
and optionally decodes fully to catch truncation.

`decode_rgb` is the training pipeline's decoder for the few files TF 2.21
decodes wrongly (palette and 1-bit BMP) or wastefully (animated GIF: TF decodes
every frame to return the first; 201 frames of 500 px took 0.54 s against
0.004 s for one). It follows the conventions of `synthdet_tf.preprocess.decode`
(first frame, 16-bit >> 8, alpha dropped), so the pixels are the same.
"""

import dataclasses
import io
import os
import warnings

import numpy as np
from PIL import Image

def _register_plugins() -> tuple[str, ...]:
    """Pillow plugins for phone and new web formats; returns the formats they add."""
    added = []
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()  # HEIC / HEIF: iPhones' default
        added.append("HEIF")
    except ImportError:
        pass
    try:
        import pillow_jxl  # noqa: F401  registers JPEG XL

        added.append("JXL")
    except ImportError:
        pass
    return tuple(added)


# TensorFlow decodes these in the graph (training, the exported model's image_bytes signature)...
TF_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")
# ... and only Pillow these (TIFF: first page; 16-bit >> 8), so they always take the Pillow path.
PILLOW_FORMATS = ("TIFF", "AVIF") + _register_plugins()
SUPPORTED_FORMATS = TF_FORMATS + PILLOW_FORMATS
DEFAULT_MAX_PIXELS = 64_000_000


class BadImageError(ValueError):
    """A file that cannot be used, with the reason in the message."""


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    format: str
    mode: str
    width: int
    height: int
    n_frames: int
    num_bytes: int
    needs_pillow: bool  # decode with Pillow: TF gets this file wrong or decodes it wastefully
    jpeg_quality: int | None = None  # IJG-equivalent quality estimated from the quantisation tables


# The IJG (libjpeg) luminance table at quality 50; any order, only its sum is used.
_IJG_LUMA_SUM = sum((
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
))


def jpeg_quality(image) -> int | None:
    """The libjpeg quality that gives this JPEG's luminance table (approximate for other encoders)."""
    tables = getattr(image, "quantization", None)
    if not tables or 0 not in tables:
        return None
    if max(tables[0]) == 1:
        return 100
    scale = 100.0 * sum(tables[0]) / _IJG_LUMA_SUM  # libjpeg: scale = 5000/q (q < 50) or 200 - 2q
    quality = 5000.0 / scale if scale > 100 else (200.0 - scale) / 2.0
    return int(round(min(100.0, max(1.0, quality))))


def _bmp_bits_per_pixel(header: bytes) -> int:
    if len(header) < 30:
        return 0
    dib_size = int.from_bytes(header[14:18], "little")
    offset = 24 if dib_size == 12 else 28  # OS/2 BITMAPCOREHEADER vs BITMAPINFOHEADER+
    return int.from_bytes(header[offset : offset + 2], "little")


def _needs_pillow(header: bytes, fmt: str, n_frames: int) -> bool:
    if fmt in PILLOW_FORMATS:
        return True
    if fmt == "GIF":
        return n_frames > 1
    return fmt == "BMP" and _bmp_bits_per_pixel(header) not in (24, 32)


def probe(path, max_pixels: int = DEFAULT_MAX_PIXELS, verify: bool = True) -> ImageInfo:
    """Reads a file's header (and with `verify`, decodes it); raises BadImageError.

    `path` is a file path, or the file's contents as `bytes` (a Beam worker reads them).
    """
    if isinstance(path, bytes):
        num_bytes, header, source = len(path), path[:30], io.BytesIO(path)
    else:
        num_bytes = os.path.getsize(path)
        with open(path, "rb") as f:
            header = f.read(30)
        source = path
    if num_bytes == 0:
        raise BadImageError("empty file (0 bytes)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
        except Image.DecompressionBombError as e:
            raise BadImageError(f"too many pixels (Pillow refuses it: {e})") from None
        except Exception as e:  # Pillow raises many types for unreadable files.
            raise BadImageError(f"not an image Pillow can identify ({type(e).__name__})") from None
        with image:
            # MPO (a camera's JPEG with a second picture appended) is a JPEG to every decoder.
            fmt = "JPEG" if image.format == "MPO" else image.format or "unknown"
            if fmt not in SUPPORTED_FORMATS:
                raise BadImageError(f"unsupported format {fmt} (supported: {', '.join(SUPPORTED_FORMATS)})")
            width, height = image.size
            if width * height > max_pixels:
                raise BadImageError(
                    f"too many pixels: {width}x{height} = {width * height:,} > limit {max_pixels:,}"
                )
            if width == 0 or height == 0:
                raise BadImageError(f"empty image ({width}x{height})")
            n_frames = 1 if image.format == "MPO" else getattr(image, "n_frames", 1)  # MPO: the 2nd picture is no frame
            info = ImageInfo(
                format=fmt,
                mode=image.mode,
                width=width,
                height=height,
                n_frames=n_frames,
                num_bytes=num_bytes,
                needs_pillow=_needs_pillow(header, fmt, n_frames),
                jpeg_quality=jpeg_quality(image) if fmt == "JPEG" else None,
            )
            if verify:
                if fmt == "JPEG":
                    # Decoding at 1/8 scale still reads every entropy-coded byte,
                    # so truncation is caught at a fraction of the cost.
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                try:
                    image.load()
                except Exception as e:
                    raise BadImageError(f"truncated or corrupt ({type(e).__name__}: {e})") from None
    return info


def decode_rgb(path, contents: bytes | None = None) -> np.ndarray:
    """Decodes a file (or its `contents`) to uint8 [H, W, 3] with Pillow, as TF would decode it."""
    if isinstance(path, bytes):  # from tf.numpy_function
        path = path.decode()
    with Image.open(io.BytesIO(contents) if contents is not None else path) as image:
        image.seek(0)
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            array = np.asarray(image).astype(np.uint32) >> 8
            array = np.clip(array, 0, 255).astype(np.uint8)
            return np.repeat(array[..., None], 3, axis=-1)
        if image.mode == "P" and "transparency" in image.info:
            image = image.convert("RGBA")  # same colours; Pillow warns on P -> RGB here
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
