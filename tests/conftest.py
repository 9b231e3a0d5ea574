"""Tiny generated images and folders, and the shared dev data when present."""

import io
import pathlib

import numpy as np
import pytest
from PIL import Image

SHARED_DEV = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "dev"


def random_rgb(h=40, w=50, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def smooth_rgb(h=40, w=50, seed=0):
    """A smooth image (JPEG-friendly, so lossy round trips stay close)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    chans = [127 + 100 * np.sin(x / rng.uniform(4, 9) + y / rng.uniform(4, 9) + k) for k in range(3)]
    return np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)


def encode(array_or_image, fmt, **kwargs) -> bytes:
    image = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def noisy_real_smooth_fake(folder, n: int, sides: tuple, noise: float) -> None:
    """n noisy JPEG REAL and n smooth PNG FAKE images, sides drawn from [low, high), under folder/real and folder/fake."""
    rng = np.random.default_rng(0)
    for i in range(n):
        h, w = int(rng.integers(*sides)), int(rng.integers(*sides))
        noisy = np.clip(smooth_rgb(h, w, seed=i).astype(int) + rng.normal(0, noise, (h, w, 3)), 0, 255).astype(np.uint8)
        for rel, data in ((f"real/r{i:03d}.jpg", encode(noisy, "JPEG", quality=85)), (f"fake/f{i:03d}.png", encode(smooth_rgb(h, w, seed=500 + i), "PNG"))):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)


def good_cases(seed=0) -> dict:
    """name -> encoded bytes, one per format and odd colour mode synthdet must read."""
    rgb = Image.fromarray(smooth_rgb(seed=seed))
    frames = [rgb.convert("P"), Image.fromarray(255 - np.asarray(rgb)).convert("P")]
    anim = io.BytesIO()
    frames[0].save(anim, "GIF", save_all=True, append_images=frames[1:])
    gray16 = (np.arange(40 * 50).reshape(40, 50) * 30).astype(np.uint16)
    return {
        "rgb.jpg": encode(rgb, "JPEG", quality=95),
        "rgb.png": encode(rgb, "PNG"),
        "rgb.webp": encode(rgb, "WEBP", lossless=True),
        "rgb.bmp": encode(rgb, "BMP"),
        "first_frame.gif": encode(rgb.convert("P"), "GIF"),
        "animated.gif": anim.getvalue(),
        "gray.jpg": encode(rgb.convert("L"), "JPEG", quality=95),
        "cmyk.jpg": encode(rgb.convert("CMYK"), "JPEG", quality=95),
        "palette.png": encode(rgb.convert("P"), "PNG"),
        "rgba.png": encode(rgb.convert("RGBA"), "PNG"),
        "gray16.png": encode(Image.fromarray(gray16), "PNG"),
        "palette.bmp": encode(rgb.convert("P"), "BMP"),
        "bilevel.bmp": encode(rgb.convert("1"), "BMP"),
        "jpeg_named.png": encode(rgb, "JPEG", quality=95),  # wrong extension
        "webp_named.jpg": encode(rgb, "WEBP", lossless=True),  # wrong extension
    }


def bad_cases() -> dict:
    """name -> (bytes, expected reason prefix)."""
    jpeg = encode(random_rgb(200, 200), "JPEG")
    bomb = encode(Image.new("1", (8100, 8100)), "PNG")  # 65.6 MP, a few KB on disk
    return {
        "empty.jpg": (b"", "empty file"),
        "text.jpg": (b"this is not an image\n", "not an image"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "truncated or corrupt"),
        "bomb.png": (bomb, "too many pixels"),
        "image.pcx": (encode(random_rgb(), "PCX"), "unsupported format"),
    }


def write_folder(root: pathlib.Path, files: dict) -> pathlib.Path:
    """files: relpath -> bytes. Returns root."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture
def tiny_folder(tmp_path):
    """12 REAL (noisy JPEG) and 12 FAKE (smooth PNG) images of mixed sizes, in two sources each."""
    files = {}
    for i in range(12):
        h, w = 24 + 4 * (i % 3), 30 + 6 * (i % 4)
        files[f"real/cam{i % 2}__r{i}.jpg"] = encode(random_rgb(h, w, seed=i), "JPEG", quality=90)
        files[f"fake/gen{i % 2}__f{i}.png"] = encode(smooth_rgb(h, w, seed=100 + i), "PNG")
    return write_folder(tmp_path / "tiny", files)


@pytest.fixture
def data_config():
    from synthdet_configs.tiny import get_config

    return get_config().data


@pytest.fixture
def shared_dev():
    if not (SHARED_DEV / "MANIFEST.csv").exists():
        pytest.skip(f"shared dev data not found at {SHARED_DEV} (tests on real data need ../shared/data/dev)")
    return SHARED_DEV.resolve()
