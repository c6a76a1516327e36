"""HOG features of stacks of normalized digits.

FIRST CUT, to be replaced by the recognition work (issue 3) with a
vectorized implementation.
"""

from __future__ import annotations

import numpy as np
from skimage.feature import hog

__all__ = ["extract_hog"]


def extract_hog(digits: np.ndarray) -> np.ndarray:
    """HOG of each 28x28 digit.

    Parameters
    ----------
    digits : (N, 28, 28) float32 ndarray

    Returns
    -------
    features : (N, F) float32 ndarray
    """
    if len(digits) == 0:
        return np.zeros((0, 324), dtype=np.float32)
    return np.stack(
        [hog(d, orientations=9, pixels_per_cell=(7, 7), cells_per_block=(2, 2)) for d in digits]
    ).astype(np.float32)
