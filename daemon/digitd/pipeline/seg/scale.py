"""The page's scale in pixels per millimetre: from its dpi, or from its content."""

from __future__ import annotations

import cv2
import numpy as np

from digitd.pipeline.seg.components import label_components

__all__ = ["estimate_scale", "measure_stroke_width"]

MM_PER_INCH = 25.4
# A ballpoint or gel pen line on a scan is about this wide.
_PEN_WIDTH_MM = 0.4
# The taller glyphs on a page (digits, capitals) are about this tall.
_GLYPH_HEIGHT_MM = 6.0
_MIN_PX_PER_MM = 1.5  # 38 dpi: digits about 9 px tall
_MAX_PX_PER_MM = 24.0  # 610 dpi


def measure_stroke_width(ink: np.ndarray) -> float:
    """Typical width of the ink's strokes, in pixels.

    For long thin strokes the area is width times length and the outline runs
    twice the length, so width = 2 * area / outline.

    Parameters
    ----------
    ink : (H, W) uint8 ndarray
        1 for ink.

    Returns
    -------
    width : float
        0.0 for a page without ink.
    """
    area = int(cv2.countNonZero(ink))
    if area == 0:
        return 0.0
    inner = cv2.erode(ink, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)))
    outline = area - int(cv2.countNonZero(inner))
    return 2.0 * area / max(outline, 1)


def estimate_scale(image: np.ndarray, *, dpi: float | None) -> float:
    """Pixels per millimetre of a page.

    With a dpi from the file, that; without, measured from the page: the
    geometric mean of two guesses, the stroke width of its ink (Otsu
    threshold) taken as a pen line of 0.4 mm, and the height of its taller
    glyphs taken as 6 mm. Marks touching the image's edge are left out of
    both: a dark margin where the scanner saw past the paper, the border of
    a box cut out along it, a glyph cut in two.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) uint8 ndarray
        Ink dark on light.
    dpi : float or None

    Returns
    -------
    px_per_mm : float
    """
    if dpi is not None and dpi > 0:
        return float(dpi) / MM_PER_INCH
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    if cv2.countNonZero(ink) > 0.5 * ink.size:
        return 300.0 / MM_PER_INCH
    n, labels, stats = label_components(ink)
    inner = _away_from_edges(stats, ink.shape)
    # A crop tight around its digits has nothing else: then they are what there is.
    if 1 < inner.sum() < n:
        stats = stats[inner]
        inner[0] = False
        ink = inner[labels].astype(np.uint8)
    width = measure_stroke_width(ink)
    if width <= 0:
        return 300.0 / MM_PER_INCH
    by_stroke = width / _PEN_WIDTH_MM
    height = _glyph_height(stats, ink.shape)
    # Pens and print vary in width, writing in size: the two guesses temper each other.
    ppm = np.sqrt(by_stroke * height / _GLYPH_HEIGHT_MM) if height > 0 else by_stroke
    return float(np.clip(ppm, _MIN_PX_PER_MM, _MAX_PX_PER_MM))


def _glyph_height(stats: np.ndarray, shape: tuple[int, ...]) -> float:
    """Height of the taller glyph-shaped marks (75th percentile), in pixels.

    Parameters
    ----------
    stats : (n, 5) int ndarray
        x, y, w, h, area of each component (`label_components`; row 0 the
        background).
    shape : tuple of int
        The image's shape.

    Returns
    -------
    height : float
        0.0 when the page has no glyph-shaped marks.
    """
    w, h = stats[1:, 2], stats[1:, 3]
    # Not a box's wall or a 1 (too thin to say a glyph's height), not a frame
    # around the whole image; a strip cut tight around its digits is mostly digit.
    glyph = (h >= 8) & (w >= np.maximum(2, 0.15 * h)) & (w <= 1.5 * h) & (h <= 0.9 * shape[0])
    if not glyph.any():
        return 0.0
    return float(np.percentile(h[glyph], 75))


def _away_from_edges(stats: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(n,) bool: components that touch no edge of the image (True for the background)."""
    x, y, w, h = (stats[:, i] for i in range(4))
    rows, cols = shape[:2]
    inner = (x > 0) & (y > 0) & (x + w < cols) & (y + h < rows)
    inner[0] = True
    return inner
