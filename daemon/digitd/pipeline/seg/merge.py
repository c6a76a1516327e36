"""Rejoin neighbouring pieces of one digit when the recognizer reads them better together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from digitd.pipeline.seg.types import CropScorer, read_crops

__all__ = ["Piece", "merge_fields", "merge_pieces"]


# The joined piece must beat the pair (both read right) by this much, and be read this well.
_GAIN = 0.05
_MIN_SCORE = 0.6


@dataclass(frozen=True, slots=True)
class Piece:
    """A digit candidate in the work image.

    Attributes
    ----------
    box : (x, y, w, h) tuple of int
    mask : (h, w) uint8 ndarray
        1 on its ink.
    """

    box: tuple[int, int, int, int]
    mask: np.ndarray


def _image(piece: Piece) -> np.ndarray:
    return np.where(piece.mask > 0, 0, 255).astype(np.uint8)


def _join(a: Piece, b: Piece) -> Piece:
    x0, y0 = min(a.box[0], b.box[0]), min(a.box[1], b.box[1])
    x1 = max(a.box[0] + a.box[2], b.box[0] + b.box[2])
    y1 = max(a.box[1] + a.box[3], b.box[1] + b.box[3])
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for p in (a, b):
        x, y, w, h = p.box
        mask[y - y0 : y - y0 + h, x - x0 : x - x0 + w] |= p.mask
    return Piece(box=(x0, y0, x1 - x0, y1 - y0), mask=mask)


def _is_fragment(p: Piece, height: float) -> bool:
    return p.box[3] < 0.8 * height or p.box[2] < 0.35 * height


def _candidates(
    pieces: Sequence[Piece], *, digit_height: float, max_gap: float
) -> tuple[list[int], list[Piece]]:
    """Neighbours (index of the left one) that may be two pieces of one digit, and their unions."""
    pairs: list[int] = []
    joined: list[Piece] = []
    for i in range(len(pieces) - 1):
        a, b = pieces[i], pieces[i + 1]
        gap = b.box[0] - (a.box[0] + a.box[2])
        if gap > max_gap or not (_is_fragment(a, digit_height) or _is_fragment(b, digit_height)):
            continue
        union_w = max(a.box[0] + a.box[2], b.box[0] + b.box[2]) - min(a.box[0], b.box[0])
        union_h = max(a.box[1] + a.box[3], b.box[1] + b.box[3]) - min(a.box[1], b.box[1])
        if union_w <= 1.6 * max(union_h, digit_height):
            pairs.append(i)
            joined.append(_join(a, b))  # the joined mask only for candidates
    return pairs, joined


def _decide(
    pieces: list[Piece],
    pairs: list[int],
    joined: list[Piece],
    alone: np.ndarray,
    together: np.ndarray,
) -> list[Piece]:
    # One digit read right against two digits both read right.
    gains = np.array(
        [together[k] - alone[i] * alone[i + 1] for k, i in enumerate(pairs)], np.float64
    )
    taken: set[int] = set()
    replace: dict[int, Piece] = {}
    for k in np.argsort(-gains):
        i = pairs[int(k)]
        if gains[k] < _GAIN or together[k] < _MIN_SCORE or i in taken or i + 1 in taken:
            continue
        taken.update((i, i + 1))
        replace[i] = joined[int(k)]
    result: list[Piece] = []
    for i, p in enumerate(pieces):
        if i in replace:
            result.append(replace[i])
        elif i not in taken:
            result.append(p)
    return result


def merge_fields(
    fields: Sequence[Sequence[Piece]],
    *,
    digit_heights: Sequence[float],
    max_gap: float,
    score_crops: CropScorer | None,
) -> list[list[Piece]]:
    """``merge_pieces`` for every field of a page, with one recognizer call for all.

    Parameters
    ----------
    fields : sequence of sequence of Piece
        Each field's candidates, left to right.
    digit_heights : sequence of float
        Typical digit height of each field, in pixels.
    max_gap : float
        Widest horizontal gap between two pieces of one digit, in pixels.
    score_crops : callable or None
        Recognizer confidence of crops; None joins nothing.

    Returns
    -------
    fields : list of list of Piece
        Each field's pieces, left to right.

    Raises
    ------
    ValueError
        ``digit_heights`` does not hold one height per field.
    """
    if len(fields) != len(digit_heights):
        raise ValueError(
            f"expected one digit height per field, got {len(fields)} fields "
            f"and {len(digit_heights)} heights"
        )
    out = [list(f) for f in fields]
    if score_crops is None:
        return out
    plans = [
        _candidates(f, digit_height=float(h), max_gap=max_gap) if len(f) >= 2 else ([], [])
        for f, h in zip(out, digit_heights, strict=True)
    ]
    # Only the pieces of candidate pairs, and their unions, are read.
    crops: list[np.ndarray] = []
    reads: list[tuple[list[int], int]] = []
    for f, (pairs, joined) in zip(out, plans, strict=True):
        members = sorted({j for i in pairs for j in (i, i + 1)})
        reads.append((members, len(crops)))
        crops += [_image(f[j]) for j in members] + [_image(p) for p in joined]
    if not crops:
        return out
    scores = read_crops(score_crops, crops)[:, 0]  # confidences only
    merged: list[list[Piece]] = []
    for f, (pairs, joined), (members, start) in zip(out, plans, reads, strict=True):
        if not pairs:
            merged.append(f)
            continue
        alone = np.zeros(len(f), np.float64)
        alone[members] = scores[start : start + len(members)]
        together = scores[start + len(members) : start + len(members) + len(joined)]
        merged.append(_decide(f, pairs, joined, alone, together))
    return merged


def merge_pieces(
    pieces: Sequence[Piece], *, digit_height: float, max_gap: float, score_crops: CropScorer | None
) -> list[Piece]:
    """Join neighbours that are two pieces of one digit (a 4 or 5 drawn in two strokes).

    Only neighbours at most ``max_gap`` apart, of which one looks like a
    fragment (short or narrow) and whose union is not much wider than tall, are
    tried; they are joined when the recognizer's confidence in the union beats
    its confidence in both pieces being digits (the product).

    Parameters
    ----------
    pieces : sequence of Piece
        A field's candidates, left to right.
    digit_height : float
        Typical digit height of the field, in pixels.
    max_gap : float
        Widest horizontal gap between two pieces of one digit, in pixels.
    score_crops : callable or None
        Recognizer confidence of crops; None joins nothing.

    Returns
    -------
    pieces : list of Piece
        Left to right.
    """
    (merged,) = merge_fields(
        [pieces], digit_heights=[digit_height], max_gap=max_gap, score_crops=score_crops
    )
    return merged
