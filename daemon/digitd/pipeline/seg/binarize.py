"""From scanned pixels to an ink mask that survives paper, light and colour."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["binarize_page", "select_ink_channel"]

# A pixel is coloured when its channels spread more than this (0-255 scale).
_CHROMA_MIN = 40.0
# How much a red/purple cast (R above G) lightens a pixel in the ink channel.
_RED_CAST_WEIGHT = 2.0
_RED_CAST_FREE = 20


def select_ink_channel(image: np.ndarray, *, separate_colour: bool = True) -> np.ndarray:
    """The grey channel in which writing ink is darkest against the paper.

    Writing ink is black or dark blue: both are dark in the red and green
    channels, while tinted paper, security patterns and red or purple stamps
    are light in at least one of them. So for a colour scan the ink channel is
    ``max(R, G)``, lightened further where red stands above green (stamps).

    Parameters
    ----------
    image : (H, W) or (H, W, 3) uint8 ndarray
        Grey or RGB page.
    separate_colour : bool
        When False, a colour page is converted to plain luminance.

    Returns
    -------
    grey : (H, W) uint8 ndarray
        Ink dark on light. A grey input is returned as is (not copied).

    Raises
    ------
    ValueError
        The image is not 2-D grey or 3-channel RGB uint8.
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(
            f"expected a (H, W) or (H, W, 3) uint8 image, got {image.shape} {image.dtype}"
        )
    if image.ndim == 2:
        return image
    if image.shape[2] != 3:
        raise ValueError(f"expected 3 colour channels, got {image.shape[2]}")
    if not separate_colour or not _is_colourful(image):
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    red = image[:, :, 0]
    green = image[:, :, 1]
    base = cv2.max(red, green)
    cast = cv2.subtract(red, green)
    cast = cv2.subtract(cast, _RED_CAST_FREE)  # a scalar: no page-sized array of it
    return cv2.addWeighted(base, 1.0, cast, _RED_CAST_WEIGHT, 0.0)


def _is_colourful(image: np.ndarray) -> bool:
    sample = np.ascontiguousarray(image[::8, ::8])
    red, green, blue = sample[:, :, 0], sample[:, :, 1], sample[:, :, 2]
    spread = cv2.max(cv2.max(red, green), blue) - cv2.min(cv2.min(red, green), blue)
    return float(np.percentile(spread, 99)) > _CHROMA_MIN


def _median_of_counts(counts: np.ndarray) -> float:
    """``np.median`` of the values whose histogram (value -> count) is ``counts``."""
    total = int(counts.sum())
    cumulative = np.cumsum(counts)
    # The middle order statistics (one for an odd count, two for an even one).
    low = int(np.searchsorted(cumulative, (total - 1) // 2, side="right"))
    high = int(np.searchsorted(cumulative, total // 2, side="right"))
    return (low + high) / 2.0


def _estimate_background(grey: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """Paper brightness under every pixel, ink removed by a max filter at low resolution."""
    h, w = grey.shape
    factor = max(1, int(px_per_mm / 2.0))  # about 2 px per mm
    # A whole number of blocks lets OpenCV average them on its fast path.
    rows, cols = max(1, h // factor), max(1, w // factor)
    small = cv2.resize(
        grey[: rows * factor, : cols * factor], (cols, rows), interpolation=cv2.INTER_AREA
    )
    size = max(3, round(8.0 * px_per_mm / factor) | 1)  # 8 mm wide blots vanish
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    paper = cv2.dilate(small, kernel)
    paper = cv2.blur(paper, (size, size))
    return cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)


def binarize_page(grey: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """Separate ink from paper with a locally normalized threshold.

    The paper's brightness is estimated under every pixel and divided out,
    which flattens uneven light and tinted paper; the threshold is then
    Otsu's, held below the paper's own texture noise so that a blank or
    textured page yields no ink.

    Parameters
    ----------
    grey : (H, W) uint8 ndarray
        Ink dark on light (see `select_ink_channel`).
    px_per_mm : float
        Scale of the page, pixels per millimetre.

    Returns
    -------
    ink : (H, W) uint8 ndarray
        1 where there is ink, 0 elsewhere.

    Raises
    ------
    ValueError
        ``grey`` is not a 2-D uint8 array, or ``px_per_mm`` is not positive.
    """
    if grey.dtype != np.uint8 or grey.ndim != 2:
        raise ValueError(f"expected a (H, W) uint8 image, got {grey.shape} {grey.dtype}")
    if not px_per_mm > 0:
        raise ValueError(f"px_per_mm must be positive, got {px_per_mm}")
    paper = _estimate_background(grey, px_per_mm=px_per_mm)
    norm = cv2.divide(grey, cv2.max(paper, 1), scale=255.0)
    sample = norm[::4, ::4]
    # The median paper level and the median deviation above it, from one
    # histogram (exactly np.median's values, without sorting the sample).
    counts = np.bincount(sample.ravel(), minlength=256)
    level = _median_of_counts(counts)
    light = counts.copy()
    light[: int(np.ceil(level))] = 0
    noise = 1.4826 * (_median_of_counts(light) - level)
    otsu, _ = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    limit = min(level - 5.0 * noise - 4.0, 0.85 * level)
    threshold = min(float(otsu), limit)
    threshold = max(threshold, 0.35 * level)
    _, ink = cv2.threshold(norm, threshold, 1, cv2.THRESH_BINARY_INV)
    return ink
