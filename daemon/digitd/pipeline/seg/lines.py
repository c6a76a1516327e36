"""Remove printed form lines (rules, boxes, combs) and keep the writing on them."""

from __future__ import annotations

import cv2
import numpy as np

from digitd.pipeline.seg.components import label_components

__all__ = ["find_form_lines", "remove_form_lines"]


def _kernel(width: int, height: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (max(1, width), max(1, height)))


def _thin_runs(
    ink: np.ndarray, *, length: int, max_thickness: float, horizontal: bool
) -> np.ndarray:
    """Straight runs of ink at least ``length`` long and at most ``max_thickness`` thick.

    A run needs ink on 85% of a ``length`` window, within a band one pixel
    either side, so a dashed, badly thresholded or slightly tilted line counts.
    """
    across = _kernel(1, 3) if horizontal else _kernel(3, 1)
    along = _kernel(length, 1) if horizontal else _kernel(1, length)
    band = cv2.dilate(ink, across)
    size = (length, 1) if horizontal else (1, length)
    cover = cv2.blur(band.astype(np.float32), size, borderType=cv2.BORDER_CONSTANT)
    centres = (cover >= 0.85).astype(np.uint8)
    gaps = _kernel(5, 1) if horizontal else _kernel(1, 5)
    region = cv2.dilate(centres, along) & cv2.morphologyEx(band, cv2.MORPH_CLOSE, gaps)
    n, labels, stats = label_components(region)
    if n <= 1:
        return region & ink
    extent = stats[1:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT]
    area = stats[1:, cv2.CC_STAT_AREA]
    thickness = area / np.maximum(extent, 1) - 2.0  # the band added a pixel either side
    keep = np.zeros(n, np.uint8)
    keep[1:] = (extent >= 0.9 * length) & (thickness <= max_thickness)
    return keep[labels] & ink


def _shrink(ink: np.ndarray, factor: int) -> np.ndarray:
    """Ink at 1/factor resolution, a pixel inked when any pixel under it is."""
    if factor == 1:
        return ink
    h, w = ink.shape
    size = (max(1, w // factor), max(1, h // factor))
    small = cv2.resize(
        ink[: size[1] * factor, : size[0] * factor], size, interpolation=cv2.INTER_AREA
    )
    return (small > 0).astype(np.uint8)


def _grow(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A low-resolution mask back at full resolution (nearest neighbour, padded)."""
    h, w = shape
    factor_h = h // mask.shape[0] if mask.shape[0] else 1
    factor_w = w // mask.shape[1] if mask.shape[1] else 1
    big = cv2.resize(
        mask,
        (mask.shape[1] * factor_w, mask.shape[0] * factor_h),
        interpolation=cv2.INTER_NEAREST,
    )
    out = np.zeros(shape, np.uint8)
    out[: big.shape[0], : big.shape[1]] = big[:h, :w]
    return out


def find_form_lines(
    ink: np.ndarray, *, px_per_mm: float, min_length_mm: float, max_thickness_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of printed horizontal and vertical lines.

    Horizontal lines are long thin runs. Vertical runs count as lines only
    when they are long (table rules) or join two horizontal lines (box walls),
    so that a handwritten 1 standing on an underline is not taken for one.
    The search runs at about 4 pixels per millimetre.

    Parameters
    ----------
    ink : (H, W) uint8 ndarray
        1 for ink.
    px_per_mm : float
    min_length_mm : float
        Shortest horizontal line.
    max_thickness_mm : float
        Thickest printed line.

    Returns
    -------
    horizontal, vertical : (H, W) uint8 ndarray
        1 where a line runs (a little wider than the line itself; intersect
        with the ink).
    """
    factor = max(1, round(px_per_mm / 4.0))
    small = _shrink(ink, factor)
    ppm = px_per_mm / factor
    max_thick = max(2.0, max_thickness_mm * ppm + 1.0)
    length = max(8, round(min_length_mm * ppm))
    horizontal = _thin_runs(small, length=length, max_thickness=max_thick, horizontal=True)
    wall = max(6, round(0.4 * min_length_mm * ppm))
    vertical = _thin_runs(small, length=wall, max_thickness=max_thick, horizontal=False)
    n, labels, stats = label_components(vertical, areas=False)
    if n > 1:
        reach = max(2, round(0.8 * ppm))  # a broken wall may stop short of its lines
        near_h = cv2.dilate(horizontal, _kernel(5, 2 * reach + 1))
        ys = stats[1:, cv2.CC_STAT_TOP]
        xs = stats[1:, cv2.CC_STAT_LEFT] + stats[1:, cv2.CC_STAT_WIDTH] // 2
        hs = stats[1:, cv2.CC_STAT_HEIGHT]
        h_img = small.shape[0]
        top_ok = near_h[np.clip(ys - 1, 0, h_img - 1), xs] > 0
        bottom_ok = near_h[np.clip(ys + hs, 0, h_img - 1), xs] > 0
        long_rule = hs >= 2.5 * length
        keep = np.zeros(n, np.uint8)
        keep[1:] = (top_ok & bottom_ok) | long_rule
        vertical = keep[labels]
    ticks = _find_ticks(small, horizontal, length=length, max_thickness=max_thick)
    vertical |= ticks
    return _grow(horizontal, ink.shape), _grow(vertical, ink.shape)


def _find_ticks(
    small: np.ndarray, horizontal: np.ndarray, *, length: int, max_thickness: float
) -> np.ndarray:
    """Comb ticks: whole short thin strokes standing on, or hanging from, a line."""
    reach = max(2, round(max_thickness) + 1)
    near_h = cv2.dilate(horizontal, _kernel(3, 2 * reach + 1))
    rest = small & (1 - cv2.dilate(horizontal, _kernel(1, 3)))
    n, labels, stats = label_components(rest)
    if n <= 1:
        return np.zeros_like(small)
    x, y, w, h = (stats[1:, i] for i in range(4))
    rows, cols = small.shape
    xs = np.clip(x + w // 2, 0, cols - 1)
    touches = (near_h[np.clip(y + h, 0, rows - 1), xs] > 0) | (
        near_h[np.clip(y - 1, 0, rows - 1), xs] > 0
    )
    tick = touches & (w <= max_thickness + 1) & (h >= 2) & (h <= length // 4)
    for i in np.flatnonzero(tick):
        # A stroke that carries on across the line is writing, not a tick.
        if _crosses(small, horizontal, int(x[i]), int(w[i]), int(y[i]), int(h[i])):
            tick[i] = False
    keep = np.zeros(n, np.uint8)
    keep[1:] = tick
    return keep[labels]


def _crosses(small: np.ndarray, horizontal: np.ndarray, x: int, w: int, y: int, h: int) -> bool:
    """Whether ink continues on the far side of the line a short stroke touches."""
    rows = small.shape[0]
    x0, x1 = max(0, x - 1), x + w + 1
    for start, step in ((y + h, 1), (y - 1, -1)):
        r = start
        # Find the line within a few rows, walk through it, then look just beyond.
        while 0 <= r < rows and abs(r - start) < 4 and not horizontal[r, x0:x1].any():
            r += step
        if not (0 <= r < rows) or not horizontal[r, x0:x1].any():
            continue
        while 0 <= r < rows and horizontal[r, x0:x1].any():
            r += step
        beyond = small[max(0, min(r, r + 2 * step)) : max(r, r + 2 * step) + 1, x0:x1]
        if beyond.any():
            return True
    return False


def remove_form_lines(
    ink: np.ndarray, *, px_per_mm: float, min_length_mm: float, max_thickness_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Erase printed lines, then restore the strokes that cross them.

    A pixel of a horizontal line is given back when ink continues above and
    below it (a stroke crossing the line); likewise left and right for a
    vertical line. A digit sitting on an underline loses only the line.

    Parameters
    ----------
    ink : (H, W) uint8 ndarray
        1 for ink.
    px_per_mm : float
    min_length_mm, max_thickness_mm : float
        See `find_form_lines`.

    Returns
    -------
    clean : (H, W) uint8 ndarray
        1 for ink that is not a printed line.
    lines : (H, W) uint8 ndarray
        1 on the removed line pixels (before restoring crossings).
    """
    horizontal, vertical = find_form_lines(
        ink, px_per_mm=px_per_mm, min_length_mm=min_length_mm, max_thickness_mm=max_thickness_mm
    )
    # Anti-aliased fringes and the stair steps of a slightly tilted line belong to it too.
    reach = max(1, round(0.25 * px_per_mm))
    horizontal = cv2.dilate(horizontal, _kernel(3, 2 * reach + 1)) & ink
    vertical = cv2.dilate(vertical, _kernel(2 * reach + 1, 3)) & ink
    lines = horizontal | vertical
    clean = ink & (1 - lines)
    span = int(np.ceil(max(2.0, max_thickness_mm * px_per_mm))) + 2 * reach + 3
    across_h = cv2.morphologyEx(clean, cv2.MORPH_CLOSE, _kernel(1, span)) & horizontal
    across_v = cv2.morphologyEx(clean, cv2.MORPH_CLOSE, _kernel(span, 1)) & vertical
    return clean | across_h | across_v, lines
