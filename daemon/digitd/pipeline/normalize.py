"""Turn digit crops into 28x28 images in the MNIST convention.

FIRST CUT, to be replaced by the recognition work (issue 3).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

__all__ = ["normalize_digits"]


def normalize_digits(crops: Sequence[np.ndarray]) -> np.ndarray:
    """Normalize crops of single digits.

    Parameters
    ----------
    crops : sequence of (h, w) uint8 ndarray
        Ink dark on light.

    Returns
    -------
    digits : (N, 28, 28) float32 ndarray
        Ink bright (1.0) on black (0.0), fitted in 20x20, centred by mass.
    """
    out = np.zeros((len(crops), 28, 28), dtype=np.float32)
    for i, crop in enumerate(crops):
        ink = 1.0 - crop.astype(np.float32) / 255.0
        h, w = ink.shape
        s = 20.0 / max(h, w)
        nh, nw = max(1, round(h * s)), max(1, round(w * s))
        small = cv2.resize(ink, (nw, nh), interpolation=cv2.INTER_AREA)
        y0, x0 = (28 - nh) // 2, (28 - nw) // 2
        out[i, y0 : y0 + nh, x0 : x0 + nw] = small
        total = out[i].sum()
        if total > 0:
            yy, xx = np.mgrid[0:28, 0:28]
            cy, cx = (yy * out[i]).sum() / total, (xx * out[i]).sum() / total
            m = np.float32([[1, 0, 13.5 - cx], [0, 1, 13.5 - cy]])
            out[i] = cv2.warpAffine(out[i], m, (28, 28))
    return out
