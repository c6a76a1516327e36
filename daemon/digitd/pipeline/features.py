"""HOG features of whole stacks of normalized digits, vectorized.

The same histogram of oriented gradients as ``skimage.feature.hog`` (central
differences, unsigned orientations in equal bins, magnitude sums averaged per
cell, overlapping blocks normalized one by one), computed for an (N, h, w)
stack at once with one ``bincount`` instead of a loop over images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["HogParams", "extract_hog", "hog_length"]

BlockNorm = Literal["L1", "L1-sqrt", "L2", "L2-Hys"]
_EPS = 1e-5
_NORMS = ("L1", "L1-sqrt", "L2", "L2-Hys")


@dataclass(frozen=True, slots=True)
class HogParams:
    """HOG layout, stored in the model so that recognition matches training.

    Attributes
    ----------
    orientations : int
        Bins over 0-180 degrees.
    cell : int
        Side of a square cell in pixels.
    block : int
        Side of a square block in cells.
    block_norm : {'L1', 'L1-sqrt', 'L2', 'L2-Hys'}
    soft_bins : bool
        Share each gradient between the two nearest orientation bins
        (linear interpolation) instead of scikit-image's hard binning.
    """

    orientations: int = 9
    cell: int = 4
    block: int = 3
    block_norm: BlockNorm = "L1-sqrt"
    soft_bins: bool = False


def hog_length(shape: tuple[int, int], params: HogParams) -> int:
    """Length of the HOG vector of one image of ``shape``."""
    cells_y, cells_x = shape[0] // params.cell, shape[1] // params.cell
    blocks = max(cells_y - params.block + 1, 0) * max(cells_x - params.block + 1, 0)
    return blocks * params.block**2 * params.orientations


def extract_hog(digits: np.ndarray, params: HogParams | None = None) -> np.ndarray:
    """HOG feature vector of every image in a stack.

    Parameters
    ----------
    digits : (N, h, w) float ndarray
        Grey images (normalized digits: ink 1.0 on 0.0).
    params : HogParams, optional
        Layout; default 9 orientations, 4x4-pixel cells, 3x3-cell blocks, L1-sqrt.

    Returns
    -------
    features : (N, F) float32 ndarray
        F = ``hog_length((h, w), params)``; per image, the blocks in row-major
        order, each as (block rows, block columns, orientations), like
        ``skimage.feature.hog(..., feature_vector=True)``.

    Raises
    ------
    ValueError
        ``digits`` is not a 3-D stack, or an image is smaller than one block.
    """
    params = params or HogParams()
    if params.block_norm not in _NORMS:
        raise ValueError(
            f"block_norm {params.block_norm!r} is not one of 'L1', 'L1-sqrt', 'L2', 'L2-Hys'"
        )
    digits = np.asarray(digits, dtype=np.float32)
    if digits.ndim != 3:
        raise ValueError(f"digits must be an (N, h, w) stack, got shape {digits.shape}")
    n, h, w = digits.shape
    c, b, nbins = params.cell, params.block, params.orientations
    cells_y, cells_x = h // c, w // c
    if cells_y < b or cells_x < b:
        raise ValueError(
            f"images of {h}x{w} pixels are smaller than one block of {b}x{b} cells of "
            f"{c} pixels: they must be at least {b * c}x{b * c}"
        )
    if n == 0:
        return np.zeros((0, hog_length((h, w), params)), dtype=np.float32)
    g_row = np.zeros_like(digits)
    g_col = np.zeros_like(digits)
    g_row[:, 1:-1, :] = digits[:, 2:, :] - digits[:, :-2, :]
    g_col[:, :, 1:-1] = digits[:, :, 2:] - digits[:, :, :-2]
    magnitude = np.hypot(g_row, g_col)
    angle = np.rad2deg(np.arctan2(g_row, g_col)) % 180.0
    if params.soft_bins:
        position = angle * (nbins / 180.0) - 0.5
        lower = np.floor(position)
        upper_share = (position - lower).astype(np.float32)
        lower_bin = lower.astype(np.intp) % nbins
        bins = np.concatenate([lower_bin, (lower_bin + 1) % nbins])
        magnitude = np.concatenate([magnitude * (1.0 - upper_share), magnitude * upper_share])
    else:
        bins = np.minimum((angle * (nbins / 180.0)).astype(np.intp), nbins - 1)
    # Cell of every pixel; pixels beyond the last whole cell are dropped.
    cell_y = np.minimum(np.arange(h) // c, cells_y)  # cells_y = "no cell"
    cell_x = np.minimum(np.arange(w) // c, cells_x)
    cell_of = (cell_y[:, None] * (cells_x + 1) + cell_x[None, :]).ravel()
    n_slots = (cells_y + 1) * (cells_x + 1) * nbins
    votes = len(bins) // n  # 1 or 2 stacks of votes
    owner = np.tile(np.arange(n), votes)
    slot = (cell_of[None, :] * nbins + bins.reshape(len(bins), -1)) + (owner * n_slots)[:, None]
    hist = np.bincount(slot.ravel(), weights=magnitude.ravel(), minlength=n * n_slots)
    hist = hist.reshape(n, cells_y + 1, cells_x + 1, nbins)[:, :cells_y, :cells_x]
    hist = (hist / (c * c)).astype(np.float32)
    # (n, blocks_y, blocks_x, nbins, b, b) -> (n, blocks_y, blocks_x, b, b, nbins)
    blocks = sliding_window_view(hist, (b, b), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
    return _normalize_blocks(blocks, params.block_norm).reshape(n, -1)


def _normalize_blocks(blocks: np.ndarray, method: BlockNorm) -> np.ndarray:
    axes = (3, 4, 5)
    if method == "L1":
        return blocks / (np.abs(blocks).sum(axis=axes, keepdims=True) + _EPS)
    if method == "L1-sqrt":
        return np.sqrt(blocks / (np.abs(blocks).sum(axis=axes, keepdims=True) + _EPS))
    if method == "L2":
        return blocks / np.sqrt((blocks**2).sum(axis=axes, keepdims=True) + _EPS**2)
    if method == "L2-Hys":
        out = blocks / np.sqrt((blocks**2).sum(axis=axes, keepdims=True) + _EPS**2)
        out = np.minimum(out, 0.2)
        return out / np.sqrt((out**2).sum(axis=axes, keepdims=True) + _EPS**2)
    raise ValueError(f"block_norm {method!r} is not one of 'L1', 'L1-sqrt', 'L2', 'L2-Hys'")
