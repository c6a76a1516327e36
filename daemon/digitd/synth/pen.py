"""Redraw a small digit image as a pen stroke at handwriting size."""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

from digitd.model.marks_training import depth_past_pen

__all__ = ["render_digit"]


def render_digit(
    digit: np.ndarray,
    *,
    height_px: float,
    pen_px: float,
    rng: np.random.Generator,
    slant: float = 0.0,
) -> np.ndarray:
    """Scale a digit image to ``height_px`` and redraw its strokes with a pen.

    The digit is enlarged, reduced to its centre line, and the centre line is
    inked with a round pen ``pen_px`` wide and soft edges, so a 20-pixel MNIST
    digit becomes a 6 mm ballpoint digit instead of a blurry marker blob. The
    strokes are thinned by one depth, so parts much wider than a stroke (a
    loop the writer's marker filled in) keep their ink and the digit keeps its
    identity.

    Parameters
    ----------
    digit : (h, w) uint8 ndarray
        Ink dark (0) on light (255), e.g. a 28x28 MNIST digit.
    height_px : float
        Height of the drawn digit's ink.
    pen_px : float
        Width of the pen line.
    rng : numpy.random.Generator
        Pressure variation along the stroke.
    slant : float
        Horizontal shear (x shift per unit of height, positive leans right).

    Returns
    -------
    alpha : (H, W) float32 ndarray
        Ink coverage in [0, 1], tight around the ink plus the pen's margin.
        Empty (0, 0) when the image holds no ink.
    """
    ink = 255.0 - digit.astype(np.float32)
    rows = np.flatnonzero(ink.max(axis=1) > 60)
    cols = np.flatnonzero(ink.max(axis=0) > 60)
    if len(rows) == 0:
        return np.zeros((0, 0), np.float32)
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = max(0.5, height_px / ink.shape[0])
    margin = int(np.ceil(pen_px)) + 2
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    big = cv2.resize(ink, size, interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0)
    if slant:
        h, w = big.shape
        shear = np.float32([[1, -slant, slant * h / 2], [0, 1, 0]])
        extra = int(abs(slant) * h) + 1
        big = cv2.copyMakeBorder(big, 0, 0, extra, extra, cv2.BORDER_CONSTANT, value=0)
        big = cv2.warpAffine(big, shear, (w + 2 * extra, h))
    # A low threshold keeps the faint joins of the scan whole: a pen does not skip.
    shape = (big > 50).astype(np.uint8)
    centre = skeletonize(shape.astype(bool)).astype(np.uint8)
    if not centre.any():
        return np.zeros((0, 0), np.float32)
    distance = cv2.distanceTransform(1 - centre, cv2.DIST_L2, 3)
    alpha = np.clip(pen_px / 2.0 + 0.5 - distance, 0.0, 1.0).astype(np.float32)
    # Thin every stroke by the same depth, down to the pen: where the digit is
    # much wider than its usual stroke (a loop the marker filled), ink stays,
    # so an 8 with a filled loop does not become a 3 or a 9 a 4.
    # Only inside the digit's own ink: when its stroke is already no wider than the
    # pen the thinning depth is under half a pixel and the paper around would be inked.
    thinned = np.clip(depth_past_pen(shape, centre, pen_px) + 0.5, 0.0, 1.0) * shape
    alpha = np.maximum(alpha, thinned.astype(np.float32))
    # A child generator, so the caller's stream does not depend on the digit's size.
    local = np.random.default_rng(int(rng.integers(2**32)))
    pressure = cv2.GaussianBlur(
        local.uniform(0.8, 1.0, size=alpha.shape).astype(np.float32), (0, 0), max(1.0, pen_px)
    )
    alpha *= np.clip(pressure * 1.1, 0.0, 1.0)
    rows = np.flatnonzero(alpha.max(axis=1) > 0.05)
    cols = np.flatnonzero(alpha.max(axis=0) > 0.05)
    return alpha[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
