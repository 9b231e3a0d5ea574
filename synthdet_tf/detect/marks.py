"""Open invisible watermarks that reference generator code embeds (invisible-watermark's "dwtDct").

Where each mark comes from (repository: path):
- CompVis/stable-diffusion: scripts/txt2img.py. `put_watermark` embeds the bytes "StableDiffusionV1"
  (136 bits) in the uint8 BGR image before saving. Stable Diffusion 1.x.
- Stability-AI/stablediffusion: scripts/txt2img.py. The same, with the bytes "SDV2" (32 bits). 2.x.
- Stability-AI/generative-models: sgm/inference/helpers.py (`WatermarkEmbedder`, `WATERMARK_MESSAGE =
  0b1011...0110` = 0xB3EC907BB19E, 48 bits) embeds in float32 BGR in [0, 255]; scripts/demo/detect.py is
  Stability's own reader (uint8 via cv2.imread; "likely" above 35 of 48 bits). SDXL.
- huggingface/diffusers: src/diffusers/pipelines/stable_diffusion_xl/watermark.py. The same 48 bits, in
  float, but hands RGB to a library that expects BGR.
- black-forest-labs/flux: src/flux/util.py. Another 48-bit literal, 0b0010...1110; `bin(x)[2:]` drops its
  two leading zeros, so 46 bits are embedded. Float BGR in [0, 255], like SDXL. FLUX.1.
- ShieldMnt/invisible-watermark (PyPI invisible-watermark 0.1.5 and 0.2.0, identical here):
  imwatermark/maxDct.py, the algorithm re-implemented below.

Why a re-implementation: importing the package pulls torch (its __init__ imports the RivaGAN
model) and it needs OpenCV; this needs numpy and PyWavelets only. OpenCV's colour conversion is
reproduced exactly (its fixed-point 8-bit formulas; its float path with fused multiply-adds, as its
SIMD code runs on x86-64), and `embed` matches the library bit for bit on uint8 and float32 images
(checked against OpenCV 4.14 and 5.1; docs/marks.md gives the command).

What the algorithm really does (the names say DCT; the code quantises wavelet coefficients): only the
U channel of cv2's YUV; a one-level haar DWT; 4x4 blocks of the approximation band in raster order;
in each block, the largest-magnitude coefficient but the first is moved to 36k+9 (bit 0) or 36k+27
(bit 1); block i carries bit i mod n; the reader votes over every block carrying a bit.

Float embedders matter: cv2 adds 0.5, not 128, to U for float images, so a float-embedded mark read as
uint8 (Stability's detect.py) has every coefficient shifted by 255 and loses the sign of the negative
ones. Each mark is read the way its embedder wrote it, and the chance figures count every way tried.

Two votes per way: the library's (a bit is 1 where over half its blocks say 1), and a vote centred on
the image's own mean. Quantising can push the chosen coefficient below a neighbour, and the reader then
reads the neighbour, so the share of blocks voting 1 drifts with the image for both bit values (planted
on photos, lossless: about 0.92 for 1-bits and 0.35 for 0-bits; after JPEG q95: 0.41 and 0.33). A line
at the image's mean vote falls between the two where the fixed 1/2 often does not; on an unmarked image
it still splits the bits at random. Both are tried, and counted as tries.
"""

import dataclasses
import functools
import io
import math
import warnings

import numpy as np
import pywt
from PIL import Image

from synthdet_tf.data import pillow_io  # noqa: F401  registers HEIF / JPEG XL openers

SCALE = 36  # imwatermark's default scale for the U channel
MIN_PIXELS = 256 * 256  # imwatermark refuses to embed in anything smaller: nothing to read there
MAX_SIDE = 4096  # bounds the cost (about 0.1 s per megapixel); larger files are skipped, with the reason
# A mark is listed when its bit agreement has at most this chance of arising on an unmarked image (binomial
# tail at the worst bias, times the ways and votes tried); it decides at DECIDE_P. Real-photo maxima: docs/marks.md.
LIST_P, DECIDE_P = 1e-6, 1e-9


def _text_bits(text: str) -> tuple[int, ...]:
    return tuple(int(b) for b in np.unpackbits(np.frombuffer(text.encode("utf-8"), np.uint8)))


def _int_bits(value: int) -> tuple[int, ...]:
    return tuple(int(b) for b in bin(value)[2:])  # as the references do: leading zeros are dropped


@dataclasses.dataclass(frozen=True)
class Mark:
    key: str
    name: str
    family: str  # as in synthdet_tf/data/families.toml
    bits: tuple[int, ...]
    # How the embedder fed the library: "bgr8" uint8 BGR; "bgrf" float BGR; "rgbf" float RGB taken as BGR.
    ways: tuple[str, ...]

    def chance(self, agree: int) -> float:
        """Chance that an unmarked image agrees with this message in `agree` bits or more, any way or vote."""
        tail = float(_worst_tails(self.bits.count(0), self.bits.count(1))[agree])
        return min(1.0, len(self.ways) * len(VOTES) * tail)

    def threshold(self, p: float) -> int:
        """Fewest agreeing bits with chance at most p."""
        return next(k for k in range(len(self.bits) + 1) if self.chance(k) <= p)


MARKS = (
    Mark("sd1", "Stable Diffusion 1.x invisible watermark (StableDiffusionV1)", "SD 1.x",
         _text_bits("StableDiffusionV1"), ("bgr8",)),
    Mark("sd2", "Stable Diffusion 2.x invisible watermark (SDV2)", "SD 2.x", _text_bits("SDV2"), ("bgr8",)),
    Mark("sdxl", "Stable Diffusion XL invisible watermark (48 bits 0xB3EC907BB19E)", "SDXL",
         _int_bits(0b101100111110110010010000011110111011000110011110), ("bgrf", "rgbf")),
    Mark("flux", "FLUX.1 invisible watermark (46 bits 0x2AFE879CF52E)", "FLUX",
         _int_bits(0b001010101111111010000111100111001111010100101110), ("bgrf",)),
)
BY_KEY = {m.key: m for m in MARKS}


@functools.lru_cache(maxsize=None)
def _worst_tails(zeros: int, ones: int) -> np.ndarray:
    """[k]: the largest P(at least k bits agree) when each bit decodes as 0 with one probability q, any q.

    Unmarked images do not give fair coins: flat chroma puts the coefficients at one level (256 for a grey
    uint8 image, 256 mod 36 = 4), every block votes 0 and the image decodes all zeros, so the worst bias
    is taken. The decoded message is then the zeros of the message: at most 59% agreement here.
    """
    q = np.linspace(0.0, 1.0, 2001)[:, None]

    def pmf(n, p):
        i = np.arange(n + 1)
        return np.array([math.comb(n, j) for j in i], float) * p**i * (1 - p) ** (n - i)

    agree_zeros, agree_ones = pmf(zeros, q), pmf(ones, 1 - q)
    dist = np.zeros((len(q), zeros + ones + 1))
    for i in range(zeros + 1):
        dist[:, i : i + ones + 1] += agree_zeros[:, i : i + 1] * agree_ones
    return np.append(np.cumsum(dist[:, ::-1], axis=1)[:, ::-1].max(axis=0), 0.0)


def _descale(x: np.ndarray) -> np.ndarray:
    return (x + (1 << 13)) >> 14  # OpenCV's CV_DESCALE(x, 14)


def _yuv8(bgr: np.ndarray) -> np.ndarray:
    """cv2.cvtColor(uint8 BGR, COLOR_BGR2YUV), in OpenCV's fixed point (BT.601 constants times 2**14)."""
    b, g, r = (bgr[..., i].astype(np.int32) for i in range(3))
    y = _descale(b * 1868 + g * 9617 + r * 4899)
    u = _descale((b - y) * 8061 + (128 << 14))
    v = _descale((r - y) * 14369 + (128 << 14))
    return np.clip(np.stack([y, u, v], axis=-1), 0, 255).astype(np.uint8)


def _bgr8(yuv: np.ndarray) -> np.ndarray:
    """cv2.cvtColor(uint8 YUV, COLOR_YUV2BGR)."""
    y, u, v = (yuv[..., i].astype(np.int32) for i in range(3))
    u, v = u - 128, v - 128
    b = y + _descale(u * 33292)
    g = y + _descale(u * -6472 + v * -9519)
    r = y + _descale(v * 18678)
    return np.clip(np.stack([b, g, r], axis=-1), 0, 255).astype(np.uint8)


def _fma(a: np.ndarray, k: float, c) -> np.ndarray:
    """float32 a*k + c rounded once, as OpenCV's SIMD float path computes it (exact products in float64)."""
    return (a.astype(np.float64) * np.float64(np.float32(k)) + np.asarray(c, np.float64)).astype(np.float32)


def _yuvf(bgr: np.ndarray) -> np.ndarray:
    """cv2.cvtColor(float32 BGR, COLOR_BGR2YUV): the chroma offset is 0.5 for float images."""
    b, g, r = bgr[..., 0], bgr[..., 1], bgr[..., 2]
    y = _fma(b, 0.114, _fma(g, 0.587, r * np.float32(0.299)))
    return np.stack([y, _fma(b - y, 0.492, 0.5), _fma(r - y, 0.877, 0.5)], axis=-1)


def _bgrf(yuv: np.ndarray) -> np.ndarray:
    y, u, v = yuv[..., 0], yuv[..., 1] - np.float32(0.5), yuv[..., 2] - np.float32(0.5)
    return np.stack([_fma(u, 2.032, y), _fma(v, -0.581, _fma(u, -0.395, y)), _fma(v, 1.140, y)], axis=-1)


def _blocks(ca: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """4x4 blocks of the approximation band in the library's raster order, and each one's chosen index."""
    h, w = ca.shape[0] // 4 * 4, ca.shape[1] // 4 * 4
    blocks = ca[:h, :w].reshape(h // 4, 4, w // 4, 4).swapaxes(1, 2).reshape(-1, 16)
    return blocks, np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1  # first maximum, as np.argmax per block


def _u_band(rgb: np.ndarray, way: str) -> np.ndarray:
    """The approximation band the embedder quantised, from an 8-bit RGB array."""
    rows, cols = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    rgb = rgb[:rows, :cols]
    if way == "bgr8":
        u = _yuv8(rgb[..., ::-1])[..., 1]
    else:  # float embedders: chroma offset 0.5; under "rgbf" the library took red for blue
        blue, red = (rgb[..., 2], rgb[..., 0]) if way == "bgrf" else (rgb[..., 0], rgb[..., 2])
        blue, red, green = (c.astype(np.float64) for c in (blue, red, rgb[..., 1]))
        u = (blue - (0.114 * blue + 0.587 * green + 0.299 * red)) * 0.492 + 0.5
    return pywt.dwt2(u, "haar")[0]


def _block_bits(rgb: np.ndarray, way: str) -> np.ndarray:
    blocks, pos = _blocks(_u_band(rgb, way))
    return np.mod(np.abs(blocks[np.arange(len(blocks)), pos]), SCALE) > 0.5 * SCALE


def _vote(block_bits: np.ndarray, n: int, centred: bool = False) -> np.ndarray:
    """The library's decode (the mean vote of every block carrying a bit, `* 255 > 127`), or centred."""
    slot = np.arange(len(block_bits)) % n
    mean = np.bincount(slot, weights=block_bits, minlength=n) / np.bincount(slot, minlength=n)
    return mean > block_bits.mean() if centred else mean * 255 > 127


VOTES = (False, True)  # library, centred


def agreements(rgb: np.ndarray) -> dict[str, int]:
    """Mark key -> most message bits any of its ways and votes decodes, for an 8-bit RGB array >= 256x256 px."""
    by_way = {}
    found = {}
    for mark in MARKS:
        best = 0
        for way in mark.ways:
            if way not in by_way:
                by_way[way] = _block_bits(rgb, way)
            for centred in VOTES:
                bits = _vote(by_way[way], len(mark.bits), centred)
                best = max(best, int(np.sum(bits == np.array(mark.bits, bool))))
        found[mark.key] = best
    return found


def marks_in(rgb: np.ndarray) -> list[dict]:
    """The marks whose agreement in an 8-bit RGB array clears LIST_P, strongest evidence first."""
    return listed(agreements(rgb))


def listed(agree_by_key: dict[str, int]) -> list[dict]:
    """`agreements` -> the entries `read_marks` returns."""
    found = []
    for key, agree in agree_by_key.items():
        mark, n = BY_KEY[key], len(BY_KEY[key].bits)
        if agree >= mark.threshold(LIST_P):
            found.append({"mark": mark.name, "family": mark.family, "bits_agree": round(agree / n, 3),
                          "bits": f"{agree}/{n}", "chance": mark.chance(agree),
                          "decides": agree >= mark.threshold(DECIDE_P)})
    return sorted(found, key=lambda f: f["chance"])


def load_rgb(contents: bytes) -> tuple[np.ndarray | None, str | None]:
    """(8-bit RGB array, None) for a file worth reading, else (None, why not). Sizes are checked before decoding."""
    try:
        with Image.open(io.BytesIO(contents)) as image:
            w, h = image.size
            if max(w, h) > MAX_SIDE:
                return None, f"not read for watermarks: larger than {MAX_SIDE} px a side ({w}x{h})"
            if w * h < MIN_PIXELS:
                return None, f"not read for watermarks: smaller than 256x256 px ({w}x{h}), where none is embedded"
            # No EXIF transpose: the mark lives in the stored pixel grid.
            with warnings.catch_warnings():  # Pillow's note on palette transparency: dropped either way
                warnings.simplefilter("ignore")
                return np.asarray(image.convert("RGB")), None
    except Exception as e:  # not an image Pillow opens: the pixel path reports that
        return None, f"not read for watermarks: {type(e).__name__}"


def check_marks(contents: bytes) -> tuple[list[dict], str | None]:
    """(marks found, why the file was not read or None). Never raises for a bad file."""
    rgb, why = load_rgb(contents)
    return ([], why) if rgb is None else (marks_in(rgb), None)


def read_marks(contents: bytes) -> list[dict]:
    """Each open watermark found in an image file: {"mark", "family", "bits_agree", "bits", "chance", "decides"}."""
    return check_marks(contents)[0]


def embed(image: np.ndarray, bits, scale: float = SCALE) -> np.ndarray:
    """What WatermarkEncoder.encode(image, "dwtDct") returns, for a uint8 or float32 BGR array.

    For tests and the robustness lab: marks are planted here, never in served results.
    """
    yuv = _yuv8(image) if image.dtype == np.uint8 else _yuvf(image)
    rows, cols = image.shape[0] // 4 * 4, image.shape[1] // 4 * 4
    ca, (ch, cv, cd) = pywt.dwt2(yuv[:rows, :cols, 1], "haar")
    blocks, pos = _blocks(ca)
    at = np.arange(len(blocks))
    bits = np.asarray(bits, np.int64)[at % len(bits)]
    val = blocks[at, pos]
    level = (np.abs(val) // scale + ca.dtype.type(0.25) + (0.5 * bits).astype(ca.dtype)) * scale
    blocks[at, pos] = np.where(val >= 0, level, -level)
    h, w = ca.shape[0] // 4 * 4, ca.shape[1] // 4 * 4
    ca[:h, :w] = blocks.reshape(h // 4, w // 4, 4, 4).swapaxes(1, 2).reshape(h, w)
    with np.errstate(invalid="ignore", over="ignore"):  # the library's cast, wrap-around included
        # The library passes (cV, cH) where pywt expects (cH, cV); copied, since it changes the pixels.
        yuv[:rows, :cols, 1] = pywt.idwt2((ca, (cv, ch, cd)), "haar")
    return _bgr8(yuv) if image.dtype == np.uint8 else _bgrf(yuv)


def plant(rgb: np.ndarray, key: str, way: str | None = None) -> np.ndarray:
    """An 8-bit RGB array carrying mark `key` as its reference code would save it (float ways truncate to uint8)."""
    mark = BY_KEY[key]
    way = way or mark.ways[0]
    fed = rgb if way == "rgbf" else rgb[..., ::-1]
    if way == "bgr8":
        out = embed(np.ascontiguousarray(fed), mark.bits)
    else:
        out = np.clip(embed(fed.astype(np.float32), mark.bits), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out if way == "rgbf" else out[..., ::-1])
