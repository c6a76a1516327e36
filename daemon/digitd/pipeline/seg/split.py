"""Split marks too wide for one digit at the cut the recognizer likes best."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

__all__ = ["find_cuts", "split_touching"]

Scorer = Callable[[Sequence[np.ndarray]], np.ndarray]

# Above this width (in digit widths) a mark is cut even if the recognizer hesitates.
_FORCE_RATIO = 2.0
# How much better than the (width-discounted) whole mark a cut must score to be taken.
_MARGIN = 0.02
# Two touching digits are rarely narrower than this many digit heights.
_MIN_ASPECT = 0.85
# Pieces shorter than this share of the digit height are flags and arms, not digits.
_MIN_PIECE_HEIGHT = 0.6


def _local_minima(values: np.ndarray) -> np.ndarray:
    left = np.r_[np.inf, values[:-1]]
    right = np.r_[values[1:], np.inf]
    return np.flatnonzero((values <= left) & (values <= right))


def find_cuts(mask: np.ndarray, *, min_piece: int) -> np.ndarray:
    """Candidate columns at which to cut two touching digits apart.

    Candidates are minima of the column ink counts and valleys of the upper
    and lower contours (where the outline dips between two digits), at least
    ``min_piece`` columns from either side; the best two of each kind.

    Parameters
    ----------
    mask : (h, w) uint8 ndarray
        1 for ink.
    min_piece : int
        Narrowest piece allowed, in pixels.

    Returns
    -------
    cuts : (K,) int64 ndarray
        Column indices, at most a few.
    """
    h, w = mask.shape
    if w < 2 * min_piece:
        return np.zeros(0, np.int64)
    counts = mask.sum(axis=0).astype(np.float64)
    has_ink = counts > 0
    top = np.where(has_ink, mask.argmax(axis=0), h).astype(np.float64)
    bottom = np.where(has_ink, h - 1 - mask[::-1].argmax(axis=0), -1).astype(np.float64)
    inside = (np.arange(w) >= min_piece) & (np.arange(w) <= w - min_piece)
    centre = 0.5 * np.abs(np.arange(w) / w - 0.5)
    # Each source ranks its own candidates: little ink cut; deep dips of the
    # upper and lower outlines (where two round digits meet, ink is dense).
    sources = (
        (_local_minima(counts), counts / max(1.0, counts.max()) + centre),
        (_local_minima(-top), -top / h + centre),
        (_local_minima(bottom), bottom / h + centre),
    )
    picked: list[int] = []
    for found, cost in sources:
        found = found[inside[found]]
        for c in found[np.argsort(cost[found], kind="stable")][:2]:
            if all(abs(int(c) - p) > 2 for p in picked):
                picked.append(int(c))
    return np.asarray(picked, np.int64)


def _trim(mask: np.ndarray, x0: int) -> tuple[int, int, int, int] | None:
    """Tight (x, y, w, h) of the ink in ``mask`` (uint8), offset by ``x0`` columns."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0:
        return None
    return (x0 + x, y, w, h)


def _to_image(mask: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return np.where(mask[y : y + h, x : x + w] > 0, 0, 255).astype(np.uint8)


def split_touching(
    mask: np.ndarray,
    *,
    digit_height: float,
    digit_width: float,
    split_ratio: float,
    score_crops: Scorer | None,
    depth: int = 3,
) -> list[tuple[int, int, int, int]]:
    """Cut a mark into single digits where it is too wide for one.

    A mark wider than ``split_ratio`` typical digit widths is tried at each
    candidate cut; the recognizer's confidence in the two pieces (their
    product) must beat its confidence in the whole mark. A mark more than
    twice as wide as a digit is cut at its best candidate regardless.

    Parameters
    ----------
    mask : (h, w) uint8 ndarray
        1 for the mark's ink; the mark fills the array.
    digit_height : float
        Typical height of a digit in this field, in pixels.
    digit_width : float
        Typical width of one digit in this field, in pixels.
    split_ratio : float
        Marks wider than this many ``digit_width`` are tried for a cut.
    score_crops : callable or None
        Recognizer confidence of crops (ink 0 on 255); None cuts only the
        marks more than twice a digit's width, at the cheapest cut.
    depth : int
        Most rounds of cutting (a mark of four touching digits needs two).

    Returns
    -------
    boxes : list of (x, y, w, h)
        Pieces within ``mask``, left to right; the whole mark when not cut.
    """
    whole = _trim(mask, 0)
    if whole is None:
        return []
    width = whole[2]
    forced = width > _FORCE_RATIO * digit_width
    if depth <= 0 or width <= split_ratio * digit_width or width < _MIN_ASPECT * digit_height:
        return [whole]
    if score_crops is None and not forced:
        return [whole]
    cuts = find_cuts(mask, min_piece=max(2, int(0.2 * digit_height)))
    if len(cuts) == 0:
        return [whole]
    pieces: list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]] = []
    for c in cuts:
        left = _trim(mask[:, :c], 0)
        right = _trim(mask[:, c:], int(c))
        # Both halves of two touching digits stand about a digit tall.
        if (
            left is not None
            and right is not None
            and min(left[3], right[3]) >= _MIN_PIECE_HEIGHT * digit_height
        ):
            pieces.append((left, right))
    if not pieces:
        return [whole]
    if score_crops is None:
        # Blind: two digits of about equal width meet near the middle.
        best = min(pieces, key=lambda lr: abs(lr[1][0] - mask.shape[1] / 2.0))
    else:
        crops = [_to_image(mask, whole)]
        for left, right in pieces:
            crops += [_to_image(mask, left), _to_image(mask, right)]
        scores = np.asarray(score_crops(crops), dtype=np.float64)
        pair = scores[1::2] * scores[2::2]  # both pieces read right
        k = int(np.argmax(pair))
        # The wider the mark, the less the recognizer's liking for it as one digit counts.
        excess = (width / digit_width - split_ratio) / (_FORCE_RATIO - split_ratio)
        whole_score = scores[0] * float(np.clip(1.0 - 0.5 * excess, 0.5, 1.0))
        if not forced and pair[k] < whole_score + _MARGIN:
            return [whole]
        best = pieces[k]
    out: list[tuple[int, int, int, int]] = []
    for x, y, w, h in best:
        sub = np.zeros_like(mask)
        sub[y : y + h, x : x + w] = mask[y : y + h, x : x + w]
        inner = split_touching(
            sub[:, x : x + w],
            digit_height=digit_height,
            digit_width=digit_width,
            split_ratio=split_ratio,
            score_crops=score_crops,
            depth=depth - 1,
        )
        out += [(bx + x, by, bw, bh) for bx, by, bw, bh in inner]
    return out
