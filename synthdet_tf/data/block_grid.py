"""How strongly an image shows JPEG's 8x8 block grid: a trace of JPEG compression in its past.

The ratio compares the mean absolute difference between neighbouring pixels
across the 8-px block boundaries (columns/rows 7|8 mod 8) with the mean across
every other neighbour pair. A decoded JPEG (not resized since, grid aligned to
the top-left) reads above 1; a photo never JPEG-compressed reads near 1.0.
Resizing or cropping off the grid also brings it to 1.0, so the ratio can show
JPEG history but not prove its absence.
"""

import numpy as np


def _ratio(diff: np.ndarray) -> float:
    """diff: absolute differences along one axis, that axis last (index i is pixel i+1 minus pixel i)."""
    n = diff.shape[-1]
    on = np.arange(n) % 8 == 7  # pixel 8k+7 vs 8k+8: across a block boundary
    if not on.any() or on.all():
        return float("nan")
    across, inside = diff[..., on].mean(), diff[..., ~on].mean()
    return float(across / inside) if inside > 0 else float("nan")


def block_grid_ratio(rgb: np.ndarray) -> float:
    """Mean of the horizontal and vertical boundary/interior difference ratios of an image's luma."""
    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) if rgb.ndim == 3 else rgb.astype(np.float32)
    if min(luma.shape) < 16:
        return float("nan")
    horizontal = _ratio(np.abs(np.diff(luma, axis=1)))
    vertical = _ratio(np.abs(np.diff(luma, axis=0)).T)
    return float(np.nanmean([horizontal, vertical]))
