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
    second_cell : int
        When not 0, also append a second, coarser HOG from the same
        gradients: square cells of this many pixels in blocks of 2x2 cells.
    """

    orientations: int = 9
    cell: int = 4
    block: int = 3
    block_norm: BlockNorm = "L1-sqrt"
    soft_bins: bool = False
    second_cell: int = 0


def hog_length(shape: tuple[int, int], params: HogParams) -> int:
    """Length of the HOG vector of one image of ``shape``."""
    cells_y, cells_x = shape[0] // params.cell, shape[1] // params.cell
    blocks = max(cells_y - params.block + 1, 0) * max(cells_x - params.block + 1, 0)
    length = blocks * params.block**2 * params.orientations
    if params.second_cell:
        coarse_y, coarse_x = shape[0] // params.second_cell, shape[1] // params.second_cell
        coarse_blocks = max(coarse_y - 1, 0) * max(coarse_x - 1, 0)
        length += coarse_blocks * 4 * params.orientations
    return length


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
    np.subtract(digits[:, 2:, :], digits[:, :-2, :], out=g_row[:, 1:-1, :])
    np.subtract(digits[:, :, 2:], digits[:, :, :-2], out=g_col[:, :, 1:-1])
    magnitude = np.hypot(g_row, g_col)
    # Orientation in bin units, 0 <= position < nbins (0-180 degrees, unsigned).
    position = np.arctan2(g_row, g_col)
    position *= nbins / np.pi
    position[position < 0] += nbins
    position[position >= nbins] -= nbins  # exactly 180 degrees is 0
    if params.soft_bins:
        position -= 0.5
        position[position < 0] += nbins
        lower = np.minimum(position.astype(np.intp), nbins - 1)
        upper_weight = magnitude * (position - lower)
        upper = lower + 1
        upper[upper == nbins] = 0
        votes = [(lower, magnitude - upper_weight), (upper, upper_weight)]
    else:
        votes = [(np.minimum(position.astype(np.intp), nbins - 1), magnitude)]
    hist = _cell_histograms(votes, n, h, w, c, nbins)
    features = _block_features(hist, b, params.block_norm)
    if params.second_cell:
        coarse = _cell_histograms(votes, n, h, w, params.second_cell, nbins)
        features = np.hstack([features, _block_features(coarse, 2, params.block_norm)])
    return features


def _cell_histograms(
    votes: list[tuple[np.ndarray, np.ndarray]], n: int, h: int, w: int, c: int, nbins: int
) -> np.ndarray:
    """(n, h // c, w // c, nbins) float32 mean magnitude per cell and orientation bin.

    ``votes`` holds (bin, weight) pairs of (n, h, w) arrays, summed together.
    """
    cells_y, cells_x = h // c, w // c
    # Slot of every pixel's cell in one flat histogram of all images; pixels
    # beyond the last whole cell go to a spare "no cell" row and column.
    cell_y = np.minimum(np.arange(h) // c, cells_y)
    cell_x = np.minimum(np.arange(w) // c, cells_x)
    cell_of = ((cell_y[:, None] * (cells_x + 1) + cell_x[None, :]) * nbins).astype(np.intp)
    n_slots = (cells_y + 1) * (cells_x + 1) * nbins
    base = (np.arange(n, dtype=np.intp) * n_slots)[:, None, None] + cell_of[None, :, :]
    hist = np.zeros(n * n_slots)
    for bins, weights in votes:
        hist += np.bincount((base + bins).ravel(), weights.ravel(), minlength=n * n_slots)
    hist = hist.reshape(n, cells_y + 1, cells_x + 1, nbins)[:, :cells_y, :cells_x]
    return (hist / (c * c)).astype(np.float32)


def _block_features(hist: np.ndarray, b: int, method: BlockNorm) -> np.ndarray:
    """Normalized overlapping b x b blocks of (n, cells_y, cells_x, nbins) cell histograms."""
    # (n, blocks_y, blocks_x, nbins, b, b) -> (n, blocks_y, blocks_x, b, b, nbins)
    blocks = sliding_window_view(hist, (b, b), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
    return _normalize_blocks(blocks, method).reshape(len(hist), -1)


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
