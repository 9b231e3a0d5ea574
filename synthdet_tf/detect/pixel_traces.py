"""Traces earlier processing leaves in the pixels: a second JPEG compression, an earlier JPEG, a resize.

All read the luminance plane only, and all are evidence, not proof: each
paragraph says what it measures and when it cannot see (too small an image,
a history that leaves no trace).

Double compression. A JPEG's luminance DCT coefficients, recomputed from the
decoded pixels (8x8 blocks on the file's own grid, level-shifted, orthonormal
DCT-II, which is JPEG's) and divided by the file's own quantisation step, land
on integers. Their histogram (folded at zero) is smooth, close to a Laplacian,
after one compression. A first compression with a coarser step q1 than the
file's step q2 leaves only the bins near multiples of q1/q2 filled: a comb of
peaks and gaps (Popescu & Farid 2004; Lukas & Fridrich 2003). Each bin with
enough counts around it is compared with the geometric mean of its two
neighbours (exact for a Laplacian); the score is the share of bins that
differ from it by more than a factor of two and three Poisson standard
deviations, over nine low-frequency AC positions. Near 0 after one
compression; a comb drives it towards 1. Blind when the first compression was
finer than the second, or used the same table (requantising is then almost
idempotent), and when the image is too small to fill the histograms.

An earlier JPEG under a lossless file. Decoded JPEG pixels keep their DCT
coefficients on the lattice of the old quantisation steps (plus the rounding
of the pixels, a few tenths). For each of the 10 lowest-frequency positions
(DCT as above), every candidate step s from 2 to 24 is tried: the phase
concentration |mean(exp(2 pi i x / s))| over the coefficients with |x| > s/2
(zeros say nothing), less its no-lattice level 2/sqrt(n). A never-compressed
image reads about 0 (the dev set's never-compressed PNGs: 0.13 at most), a
decoded JPEG 0.9 at q50, 0.8 at q85, 0.7 at q90, 0.45 at q93; the score is the
median over the positions of the best step's reading. Blind from about q95
(the low-frequency steps are 1 there), and after any resize, crop off the
grid, or tone change since the JPEG.

Resizing. Interpolation makes every output pixel a fixed blend of input
pixels, with weights that repeat with the ratio of the sizes, so the strength
of the second derivative repeats too: averaged down the columns (and along
the rows) it has a sharp spectral peak (Gallagher 2005: period 3 for a 1.5x
upscale). The score is the highest spectral peak over its local median,
ignoring the lowest frequencies (image content) and, for a lossy file or an
image with a JPEG grid, the block grid's harmonics (k/8, which cover WebP's
k/4), which hides a 2x or 4x resize there. Unresized synthetic photos read 3
to 4 (the dev set: 90% under 6); their bilinear, bicubic and Lanczos upscales
by 1.1x to 3x read 13 to 36, except 2x: Pillow samples at pixel centres, so
every pixel of a 2x upscale gets the same weights, mirrored, and no period.
Shrinking (with its wide antialiasing filter) leaves little of this, and
strongly periodic content (brick, fabric, halftone) can read as a resize.
"""

import numpy as np

# Zigzag positions 1..9: the low-frequency AC coefficients, the ones with counts enough to show a comb.
DCT_POSITIONS = ((0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0))
MAX_DCT_SIDE = 1024  # 16,384 blocks: counts enough, and bounded time on a 50 MP photo
MIN_BIN_COUNT = 20  # a bin is judged only with this many counts in it or expected there
MIN_JUDGED_BINS = 12
DOUBLE_THRESHOLD = 0.25  # the dev set's JPEGs are bimodal, with the trough between 0.15 and 0.3
LATTICE_POSITIONS = ((0, 0),) + DCT_POSITIONS
LATTICE_STEPS = np.arange(2, 25, dtype=np.float32)
LATTICE_SAMPLES = 1000  # coefficients per position: the lattice shows long before this many
LATTICE_THRESHOLD = 0.3  # never-compressed PNGs of the dev set: 0.13 at most; a decoded q93 JPEG 0.45
RESAMPLE_SIDE = 1024
RESAMPLE_THRESHOLD = 10.0  # 2% of the dev set's files read this much or more
_LOCAL_WINDOW = 16


def _dct_matrix(n: int = 8) -> np.ndarray:
    k, x = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


_DCT8 = _dct_matrix()


def _central_crop(plane: np.ndarray, side: int, multiple: int = 1) -> np.ndarray:
    h, w = plane.shape
    top = (max(0, h - side) // 2) // multiple * multiple
    left = (max(0, w - side) // 2) // multiple * multiple
    return plane[top : top + side, left : left + side]


def block_dct(luma: np.ndarray) -> np.ndarray:
    """[n_blocks, 8, 8] orthonormal DCT of the 8x8 blocks on the top-left-anchored grid, level-shifted by 128."""
    plane = _central_crop(luma, MAX_DCT_SIDE, 8)
    h, w = (plane.shape[0] // 8) * 8, (plane.shape[1] // 8) * 8
    blocks = plane[:h, :w].astype(np.float32).reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)
    # The orthonormal 8x8 DCT-II as two matrix products (scipy.fft.dctn's result, without loading scipy on the
    # detect path).
    return _DCT8 @ (blocks - 128.0) @ _DCT8.T


def _comb_bins(values: np.ndarray) -> tuple[int, int]:
    """(bins judged, bins off the smooth curve) in the folded histogram of rounded values."""
    # Bin 200 collects the far tail; it is cut off, as its pile-up would read as a peak.
    counts = np.bincount(np.minimum(np.abs(np.rint(values)).astype(np.int64), 200)).astype(np.float64)[:200]
    if counts.size < 4:
        return 0, 0
    here, left, right = counts[2:-1], counts[1:-2], counts[3:]  # bins 2.. : bin 1's neighbour is the zero spike
    expected = np.sqrt(left * right)
    judged = np.maximum(here, expected) >= MIN_BIN_COUNT
    ratio_off = (here > 2 * expected) | (here < expected / 2)
    significant = np.abs(here - expected) > 3 * np.sqrt(np.maximum(here, expected))
    return int(judged.sum()), int((judged & ratio_off & significant).sum())


def double_compression(luma: np.ndarray, luma_table) -> dict:
    """Share of comb-like histogram bins of the requantised DCT coefficients (module docstring), in [0, 1]."""
    coefficients = block_dct(luma)
    table = np.asarray(luma_table, np.float64).reshape(8, 8)
    judged = off = 0
    for u, v in DCT_POSITIONS:
        j, o = _comb_bins(coefficients[:, u, v] / table[u, v])
        judged, off = judged + j, off + o
    out = {"score": None, "detected": None, "bins_judged": judged, "blocks": int(coefficients.shape[0]),
           "method": "comb share of |DCT/q| histograms, 9 low AC positions of the luma"}
    if judged < MIN_JUDGED_BINS:
        out["note"] = "too few coefficients to judge"
        return out
    score = off / judged
    return {**out, "score": round(score, 3), "detected": score >= DOUBLE_THRESHOLD}


def _lattice_reading(values: np.ndarray) -> float:
    """Best phase concentration over the candidate steps, less its no-lattice level; 0 without data."""
    values = values[np.abs(values) > 1.0]  # near-zero coefficients are excluded at every step
    values = values[:: max(1, values.size // LATTICE_SAMPLES)].astype(np.float32)
    angle = (2 * np.pi) * values[:, None] / LATTICE_STEPS[None, :]
    used = np.abs(angle) > np.pi  # |x| > s/2
    n = np.maximum(used.sum(axis=0), 1)
    resultant = np.hypot(np.where(used, np.cos(angle), 0).sum(axis=0), np.where(used, np.sin(angle), 0).sum(axis=0))
    concentration = resultant / n - 2 / np.sqrt(n)
    concentration[n < 50] = 0.0
    return float(concentration.max())


def jpeg_lattice(luma: np.ndarray) -> float | None:
    """Median over low-frequency positions of the DCT coefficients' lattice reading (module docstring), >= 0."""
    coefficients = block_dct(luma)
    if coefficients.shape[0] < 50:
        return None
    readings = [_lattice_reading(coefficients[:, u, v]) for u, v in LATTICE_POSITIONS]
    return max(0.0, float(np.median(readings)))


def _peak_ratio(profile: np.ndarray, skip_grid: bool) -> tuple[float, float]:
    """(peak over local median, its period in pixels) of a 1-D profile's magnitude spectrum."""
    n = profile.size
    spectrum = np.abs(np.fft.rfft(profile - profile.mean()))
    freqs = np.arange(spectrum.size) / n
    usable = freqs >= 0.06  # below: the image's own layout
    if skip_grid:
        usable &= np.abs(freqs * 8 - np.rint(freqs * 8)) * n / 8 > 3  # more than 3 bins (leakage) from any k/8
    padded = np.pad(spectrum, _LOCAL_WINDOW, mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * _LOCAL_WINDOW + 1)[: spectrum.size]
    local = np.median(windows, axis=1) + 1e-9
    ratio = np.where(usable, spectrum / local, 0.0)
    k = int(np.argmax(ratio))
    return float(ratio[k]), float(1.0 / freqs[k]) if freqs[k] > 0 else 0.0


def resampling(luma: np.ndarray, skip_grid: bool) -> dict:
    """Periodicity of the second derivative's strength along each axis (module docstring)."""
    plane = _central_crop(luma.astype(np.float32), RESAMPLE_SIDE, 8)
    if min(plane.shape) < 64:
        return {"score": None, "seen": None, "note": "image too small to judge"}
    readings = []
    for axis_plane in (plane, plane.T):
        second = np.abs(axis_plane[:, :-2] - 2 * axis_plane[:, 1:-1] + axis_plane[:, 2:])
        readings.append(_peak_ratio(second.mean(axis=0), skip_grid))
    score, period = max(readings)
    return {"score": round(score, 2), "seen": score >= RESAMPLE_THRESHOLD, "period": round(period, 2),
            "method": "peak/local median of the |2nd derivative| profile spectrum"}
