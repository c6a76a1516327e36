"""Connected components into digit candidates, candidates into fields."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitd.pipeline.seg.components import (
    label_components,
    label_extents,
    label_points,
    outline_solidity,
)

__all__ = [
    "Marks",
    "WallRow",
    "erase_wall_rows",
    "find_box_cells",
    "find_marks",
    "find_wall_rows",
    "find_wall_stubs",
    "group_fields",
    "join_fragments",
]

# Pages with more marks than this (photographs, noise) skip the pairwise joins,
# whose memory grows with the square of the count.
_MAX_PAIRWISE = 2500
# Small marks under this share of a run's median height count as x-height letters.
_LETTER_SHARE = 0.8
# A mark of a run under this share of its tallest neighbour, and lower-topped, is an
# x-height letter among capitals (printed x-heights are about 0.5 to 0.65 of the
# capitals); handwritten digits of one field vary less than that.
_X_HEIGHT_SHARE = 0.68
# x-height letters are about as wide as tall or wider (a c e m n o s u v w x z);
# narrower small marks are strokes (comb-box ticks, the stem of an i, a comma).
_LETTER_MIN_ASPECT = 0.45
# Small marks this alike (height, top and bottom within this share of their
# height), three or more to a row, are print: a legend, a serial number, a label.
_PRINT_ROW_TOLERANCE = 0.12
# A row of alike glyphs at least the digit height limit tall and under this many
# times it is print standing over writing (a serial number over a date); taller
# print is a heading, far from handwriting.
_STACKED_MAX_HEIGHT = 1.6
# A lone mark at least this many heights wide is writing, not a number.
_LONE_MAX_ASPECT = 2.0
# A mark under the digit height limit standing in a field's line, at least this
# share of its neighbours' height, is a digit written small (a short 0).
_SMALL_DIGIT_SHARE = 0.55
# Two digit-tall pieces the bridge joined side by side are parted as two digits
# when the shorter is at least this share of the taller and their tops and
# bottoms are level within the rest.
_PAIR_HEIGHT_SHARE = 0.75
# ... and each at least this many times the digit height limit (4 mm for 3 mm):
# taller than body print, whose letters the bridge also joins (the l and i of a
# bold title).
_PAIR_MIN_HEIGHT = 1.33
# A box's end wall left by line removal is a straight stroke at most this share of
# its height wide (a pen stroke, or a printed rule a little slanted).
_WALL_MAX_ASPECT = 0.3
# A disc's outline is convex to this much of its hull (a bold 8's about 0.85).
_DISC_SOLIDITY = 0.93
# A punch hole is round (width over height within this and its inverse) and
# wider than this many mm (holes are 5.5 to 6.5 mm); a disc as tall as a digit
# that is smaller or less round is a 0 a broad pen filled in.
_HOLE_MIN_ASPECT = 0.85
_HOLE_MIN_MM = 4.0
# Walls of a row of boxes found by their own regularity come at least this many to a row.
_WALL_ROW = 4
# A mark under the digit height limit standing in a box cell of a date or comb
# row is a digit candidate when at least this share of the cell's height (a
# short 1 in the last box); printed guides (D, M, Y) and specks are smaller.
_CELL_DIGIT_SHARE = 0.4


@dataclass(frozen=True, slots=True)
class Marks:
    """Groups of ink on the clean page: broken strokes already joined.

    Attributes
    ----------
    labels : (H, W) int32 ndarray
        Group number of every pixel of the clean page's neighbourhood; a
        group's pixels are ``(labels == g) & ink``.
    ink : (H, W) uint8 ndarray
        The kept ink (specks, holes, shadows and big clutter removed).
    boxes : (G, 4) int64 ndarray
        x, y, w, h of each mark, tight on its ink.
    members : tuple of tuple of int
        The labels (in ``labels``) that make up each mark.
    print_row : (G,) bool ndarray or None
        Marks that are one of a row of alike small printed glyphs (a legend
        over date boxes, a serial number): never joined to a digit as its
        piece. None when no mark is.
    clutter : (K, 4) int64 ndarray or None
        x, y, w, h of the writing dropped as too long or too big for a digit
        (cursive words, signatures): evidence that marks beside it are
        letters or signature pieces.
    """

    labels: np.ndarray
    ink: np.ndarray
    boxes: np.ndarray
    members: tuple[tuple[int, ...], ...]
    print_row: np.ndarray | None = None
    clutter: np.ndarray | None = None

    def is_print_row(self) -> np.ndarray:
        """(G,) bool ndarray, True for the marks of rows of small print."""
        if self.print_row is None:
            return np.zeros(len(self.boxes), bool)
        return self.print_row

    def mask_of(self, i: int) -> np.ndarray:
        """(h, w) uint8 mask, 1 on the ink of mark ``i`` within its box."""
        x, y, w, h = (int(v) for v in self.boxes[i])
        labels = self.labels[y : y + h, x : x + w]
        ids = self.members[i]
        inside = labels == ids[0] if len(ids) == 1 else np.isin(labels, ids)
        return (inside & (self.ink[y : y + h, x : x + w] > 0)).astype(np.uint8)


def _at_edge(stats: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(n,) bool: components (x, y, w, h rows of ``stats``) within a pixel of the image's edge."""
    rows, cols = shape
    x, y, w, h = (stats[:, i] for i in range(4))
    return (x <= 1) | (y <= 1) | (x + w >= cols - 1) | (y + h >= rows - 1)


def _drop_noise(
    ink: np.ndarray,
    *,
    px_per_mm: float,
    speck_mm: float,
    min_height_mm: float,
    max_height_mm: float,
    max_aspect: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Ink without specks, punch holes, edge shadows, and marks too big or long for digits.

    Returns
    -------
    kept : (H, W) uint8 ndarray
        The ink left.
    labels : (H, W) int32 ndarray
        Component labels of ``ink``; the kept components keep theirs.
    stats : (n, 5) int64 ndarray
        x, y, w, h, area of each label (row 0 the background).
    keep : (n,) bool ndarray
        True for the kept components.
    points : ((P,) int32 ndarray, (P,) int32 ndarray, (P,) int32 ndarray)
        Row, column and label of every ink pixel (`label_points`).
    """
    n, labels, stats, points = label_points(ink)
    if n <= 1:
        return ink, labels, stats, np.zeros(n, bool), points
    w, h, area = (stats[1:, i] for i in range(2, 5))
    speck = speck_mm * px_per_mm
    max_h = max_height_mm * px_per_mm
    fill = area / np.maximum(w * h, 1)
    aspect = w / np.maximum(h, 1)
    tiny = (w < speck) & (h < speck) | (area < 0.15 * speck * speck)
    # A punch hole is a solid disc 5.5 to 6.5 mm wide (fill about 0.78), and a
    # logo's disc with a letter cut out is not much less (0.64 and up); a bold
    # 0 or 9 is a ring whose fill reaches 0.55. A bold 8 fills as much, but its
    # waist pinches an outline that a disc keeps convex. A 0 that a broad pen
    # filled in is a disc too, but smaller than a hole and as tall as a digit;
    # a disc shorter than a digit is a bold printed letter (the o of a bank's
    # name) or a blot, and goes.
    digit_tall = h >= min_height_mm * px_per_mm
    hole = (
        (fill > 0.6)
        & (aspect > 0.7)
        & (aspect < 1.4)
        & (np.minimum(w, h) > 2.5 * px_per_mm)
        & (np.maximum(w, h) < 12 * px_per_mm)
        & (
            (aspect > _HOLE_MIN_ASPECT)
            & (aspect < 1.0 / _HOLE_MIN_ASPECT)
            & (np.minimum(w, h) > _HOLE_MIN_MM * px_per_mm)
            | ~digit_tall
        )
    )
    disc = np.flatnonzero(hole)
    hole[disc] = outline_solidity(labels, stats, disc + 1) > _DISC_SOLIDITY
    at_edge = _at_edge(stats[1:], ink.shape)
    shadow = at_edge & ((h > 0.6 * max_h) | (w > 0.6 * max_h) | (fill > 0.6))
    # Solid marks are not writing, but a 0 filled in by a broad pen is an
    # upright ellipse (fill about 0.78) as tall as a digit.
    blob = (fill < 0.85) & (aspect > 0.45) & (aspect <= _HOLE_MIN_ASPECT) & digit_tall
    big = (h > max_h) | (w > 4 * max_h) | (fill > 0.75) & (np.minimum(w, h) > speck * 2) & ~blob
    big |= (w > max_aspect * h) & digit_tall  # signatures, words
    # Hair-thin straight slivers are what is left of broken printed lines: a
    # column a pixel wide, or one with a pixel or two of the rule it met.
    hair = max(1, round(0.15 * px_per_mm))
    thin = (w <= hair) | (area <= 1.2 * hair * h) & (w <= 0.2 * h)
    sliver = thin & (h > speck)
    drop = np.flatnonzero(tiny | hole | shadow | big | sliver) + 1
    keep = np.ones(n, bool)
    keep[0] = False
    keep[drop] = False
    ys, xs, owner = points
    if len(drop) > n // 2:
        kept = np.zeros_like(ink)
        stay = keep[owner]
        kept[ys[stay], xs[stay]] = 1
        return kept, labels, stats, keep, points
    # Few to drop: erase their pixels.
    gone = ~keep[owner]
    kept = ink.copy()
    kept[ys[gone], xs[gone]] = 0
    return kept, labels, stats, keep, points


def _boxes_of(
    n: int, labels: np.ndarray, ys: np.ndarray, xs: np.ndarray, *, gap: int, rows: int
) -> np.ndarray:
    """Boxes of the components of ink dilated ``gap`` rows up and down, from the ink.

    Parameters
    ----------
    n : int
        Number of labels of the dilated ink, background included.
    labels : (H, W) int32 ndarray
        Its labels.
    ys, xs : (P,) int ndarray
        The pixels of the ink before dilating.
    gap : int
    rows : int
        Page height H.

    Returns
    -------
    (n, 5) int64 ndarray
        x, y, w, h, 0 per label as `label_components` gives them for the dilated
        ink (row 0 zeros).
    """
    stats = np.zeros((n, 5), np.int64)
    if n <= 1:
        return stats
    x0, y0, x1, y1 = label_extents(labels[ys, xs], ys, xs, n)
    top = np.maximum(y0[1:].astype(np.int64) - gap, 0)
    bottom = np.minimum(y1[1:].astype(np.int64) + gap, rows - 1)
    stats[1:, 0] = x0[1:]
    stats[1:, 1] = top
    stats[1:, 2] = x1[1:] - x0[1:] + 1
    stats[1:, 3] = bottom - top + 1
    return stats


def _print_rows(stats: np.ndarray, keep: np.ndarray, *, min_h: float) -> np.ndarray:
    """Labels of small kept components that stand in a row of alike glyphs.

    Printed glyphs of one line share their height, top and bottom to a pixel
    or two; three or more such small glyphs within a few heights of each
    other are print (the DDMMYYYY legend over date boxes, a serial number,
    a small label), never the loose piece of a handwritten digit.

    Parameters
    ----------
    stats : (n, 5) int64 ndarray
        Component boxes and areas, row 0 the background.
    keep : (n,) bool ndarray
    min_h : float
        Digit height limit in pixels; only shorter components are tried.

    Returns
    -------
    ids : (k,) int64 ndarray
        Component labels.
    """
    h = stats[:, 3]
    rows = np.union1d(
        _small_print(stats, keep, min_h=min_h), _stacked_print(stats, keep, min_h=min_h)
    )
    if len(rows) == 0:
        return rows
    # Smaller glyphs on the same baseline (the o of "No", a lower-case word) go with it.
    others = np.flatnonzero(keep & (h < min_h))
    others = others[~np.isin(others, rows)]
    if len(others) == 0 or len(others) * len(rows) > _MAX_PAIRWISE**2:
        return rows
    o = stats[others].astype(np.float64)
    r = stats[rows].astype(np.float64)
    r_bottom, r_cx, r_h = r[:, 1] + r[:, 3], r[:, 0] + r[:, 2] / 2.0, r[:, 3]
    r_tol = _PRINT_ROW_TOLERANCE * np.maximum(r_h, 2.0 / _PRINT_ROW_TOLERANCE)
    on_line = (
        (np.abs(o[:, 1, None] + o[:, 3, None] - r_bottom[None, :]) <= r_tol[None, :])
        & (np.abs(o[:, 0, None] + o[:, 2, None] / 2.0 - r_cx[None, :]) <= 4.0 * r_h[None, :])
        & (o[:, 3, None] <= r_h[None, :] + r_tol[None, :])
    ).any(axis=1)
    return np.concatenate([rows, others[on_line]])


def _small_print(stats: np.ndarray, keep: np.ndarray, *, min_h: float) -> np.ndarray:
    """Labels of rows of three or more alike glyphs under the digit height limit."""
    h = stats[:, 3]
    ids = np.flatnonzero(keep & (h < min_h) & (h >= 0.35 * min_h))
    if len(ids) < 3 or len(ids) > _MAX_PAIRWISE:
        return np.zeros(0, np.int64)
    b = stats[ids].astype(np.float64)
    row = _alike_glyphs(b, reach=8.0).sum(axis=1) >= 2
    # Handwritten digits cut flat by a removed underline can be as alike; they
    # stand in one line with whole digits, which a line of print above does not.
    tall = np.flatnonzero(keep & (h >= min_h))
    if row.any() and len(tall) > 0 and len(tall) * len(ids) <= _MAX_PAIRWISE**2:
        row &= ~_level_beside(b, stats[tall].astype(np.float64)).any(axis=1)
    return ids[row]


def _alike_glyphs(b: np.ndarray, *, reach: float) -> np.ndarray:
    """(n, n) bool: pairs of glyphs alike to print accuracy, within ``reach`` heights.

    ``b`` is (n, 4+) float64 ``(x, y, w, h, ...)``; height, top and bottom agree
    within ``_PRINT_ROW_TOLERANCE`` of the height (2 px at least). A glyph is
    not its own pair.
    """
    hh = b[:, 3]
    top, bottom = b[:, 1], b[:, 1] + b[:, 3]
    cx = b[:, 0] + b[:, 2] / 2.0
    tol = _PRINT_ROW_TOLERANCE * np.maximum(hh[:, None], 2.0 / _PRINT_ROW_TOLERANCE)
    alike = (
        (np.abs(hh[:, None] - hh[None, :]) <= tol)
        & (np.abs(top[:, None] - top[None, :]) <= tol)
        & (np.abs(bottom[:, None] - bottom[None, :]) <= tol)
        & (np.abs(cx[:, None] - cx[None, :]) <= reach * hh[:, None])
    )
    np.fill_diagonal(alike, False)
    return alike


def _level_beside(b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(n, m) bool: marks ``t`` level with glyphs ``b`` (sharing half a glyph's
    height) and within 4 glyph heights of it sideways; both (k, 4+) float64 boxes."""
    hh = b[:, 3]
    top, bottom = b[:, 1], b[:, 1] + b[:, 3]
    level = np.minimum(bottom[:, None], t[None, :, 1] + t[None, :, 3]) - np.maximum(
        top[:, None], t[None, :, 1]
    )
    cx, t_cx = b[:, 0] + b[:, 2] / 2.0, t[:, 0] + t[:, 2] / 2.0
    return (level > 0.5 * hh[:, None]) & (np.abs(cx[:, None] - t_cx[None, :]) <= 4 * hh[:, None])


def _stacked_print(stats: np.ndarray, keep: np.ndarray, *, min_h: float) -> np.ndarray:
    """Labels of a row of digit-tall print standing just over other writing.

    A serial number printed a little taller than the digit height limit over a
    handwritten date would be bridged into its digits. Print is told from
    handwriting by its regularity: three or more glyphs of one height, top and
    bottom to print accuracy, with no other digit-tall mark level beside them
    (handwritten digits of one line are never all that alike). Only such rows
    with writing under them, close enough to be bridged or joined, are taken.

    Parameters
    ----------
    stats : (n, 5) int64 ndarray
        Component boxes and areas, row 0 the background.
    keep : (n,) bool ndarray
    min_h : float
        Digit height limit in pixels.

    Returns
    -------
    ids : (k,) int64 ndarray
        Component labels.
    """
    h = stats[:, 3]
    ids = np.flatnonzero(keep & (h >= min_h) & (h < _STACKED_MAX_HEIGHT * min_h))
    if len(ids) < 3 or len(ids) > _MAX_PAIRWISE:
        return np.zeros(0, np.int64)
    b = stats[ids].astype(np.float64)
    bottom = b[:, 1] + b[:, 3]
    alike = _alike_glyphs(b, reach=4.0)
    row = alike.sum(axis=1) >= 2
    if not row.any():
        return np.zeros(0, np.int64)
    # Every digit-tall mark level beside a glyph of the row is one of its kind.
    tall = np.flatnonzero(keep & (h >= min_h))
    if len(tall) * len(ids) > _MAX_PAIRWISE**2:
        return np.zeros(0, np.int64)
    beside = _level_beside(b, stats[tall].astype(np.float64))
    one_of = np.zeros_like(beside)
    pos = np.searchsorted(tall, ids)
    one_of[:, pos] = alike | np.eye(len(ids), dtype=bool)
    row &= ~(beside & ~one_of).any(axis=1)
    # Writing under a glyph of the row, within a digit height of its foot.
    low = np.flatnonzero(keep & (h >= 0.35 * min_h))
    low = low[~np.isin(low, ids[row])]
    if not row.any() or len(low) == 0 or len(low) * len(ids) > _MAX_PAIRWISE**2:
        return np.zeros(0, np.int64)
    o = stats[low].astype(np.float64)
    x0, x1 = b[:, 0], b[:, 0] + b[:, 2]
    over_x = np.minimum(x1[:, None], o[None, :, 0] + o[None, :, 2]) - np.maximum(
        x0[:, None], o[None, :, 0]
    )
    gap = o[None, :, 1] - bottom[:, None]
    under = ((over_x > 0.3 * b[:, 2, None]) & (gap >= 0) & (gap <= 0.75 * min_h)).any(axis=1)
    under &= row
    if not under.any():
        return np.zeros(0, np.int64)
    # The whole row goes with the glyphs that stand over writing.
    taken = row & (alike[:, under].any(axis=1) | under)
    return ids[taken]


def _unbridge_side_by_side(
    labels: np.ndarray,
    boxes: np.ndarray,
    n: int,
    ys: np.ndarray,
    xs: np.ndarray,
    owner: np.ndarray,
    ink_stats: np.ndarray,
    *,
    min_h: float,
) -> tuple[int, np.ndarray]:
    """Part again the digit-tall pieces that the vertical bridge joined side by side.

    The bridge joins pieces above or below each other (the floating bar of
    a 5, a digit's foot cut off by an underline). Two neighbouring digits
    whose strokes come within the bridge's reach where their columns meet
    (the foot of a leaning 1 under the tail of a 3) are joined by it too;
    two pieces each as tall as a digit, standing level with each other and
    sharing few columns, are two digits. Such a group is parted in two (the
    tall pieces above one another stay together), and every smaller piece
    goes with the nearer tall one. A group of three or more tall pieces side
    by side is joined-up writing (the letters of a word) and stays whole, and
    so do pieces unlike in height or level (a word's capitals, ascenders and
    descenders). ``labels`` is updated in place on the ink; parted marks get
    new labels from ``n`` up.

    Parameters
    ----------
    labels : (H, W) int32 ndarray
        Labels of the bridged ink, 1 to n - 1.
    boxes : (n - 1, 4) int64 ndarray
        Box of each label.
    n : int
    ys, xs, owner : (P,) int ndarray
        Bridged ink pixels and the ink component each belongs to.
    ink_stats : (m, 5) int64 ndarray
        Boxes and areas of the ink components.
    min_h : float
        Digit height limit in pixels.

    Returns
    -------
    n : int
        Labels now in use, background included.
    boxes : (n - 1, 4) int64 ndarray
    """
    if len(ys) == 0:
        return n, boxes
    # The bridged group of each ink component (all its pixels share one).
    group_of = np.zeros(len(ink_stats), np.int64)
    group_of[owner] = labels[ys, xs]
    comp = np.flatnonzero(group_of)
    grp = group_of[comp]
    tall = ink_stats[comp, 3] >= _PAIR_MIN_HEIGHT * min_h
    counts = np.bincount(grp[tall], minlength=n)
    crowded = np.flatnonzero(counts >= 2)
    if len(crowded) == 0:
        return n, boxes
    new_boxes: list[np.ndarray] = []
    pixel_comp: dict[int, int] = {}
    for g in crowded:
        parts = comp[grp == g]
        b = ink_stats[parts, :4].astype(np.int64)
        is_tall = b[:, 3] >= _PAIR_MIN_HEIGHT * min_h
        t = np.flatnonzero(is_tall)
        tb = b[t]
        level = np.minimum(tb[:, 1] + tb[:, 3], tb[:, 1, None] + tb[:, 3, None]) - np.maximum(
            tb[:, 1], tb[:, 1, None]
        )
        shared = np.minimum(tb[:, 0] + tb[:, 2], tb[:, 0, None] + tb[:, 2, None]) - np.maximum(
            tb[:, 0], tb[:, 0, None]
        )
        top, bottom = tb[:, 1], tb[:, 1] + tb[:, 3]
        taller = np.maximum(tb[:, 3], tb[:, 3, None])
        # Level and alike in height, as the digits of one field are (a word's
        # letters rise and fall: capitals, ascenders, descenders).
        alike = (
            (np.minimum(tb[:, 3], tb[:, 3, None]) >= _PAIR_HEIGHT_SHARE * taller)
            & (np.abs(top - top[:, None]) <= (1 - _PAIR_HEIGHT_SHARE) * taller)
            & (np.abs(bottom - bottom[:, None]) <= (1 - _PAIR_HEIGHT_SHARE) * taller)
        )
        beside = (
            (level > 0.5 * np.minimum(tb[:, 3], tb[:, 3, None]))
            & (shared <= 0.5 * np.minimum(tb[:, 2], tb[:, 2, None]))
            & alike
        )
        cluster = np.arange(len(t))
        for i in range(len(t)):
            for j in range(i + 1, len(t)):
                if not beside[i, j]:
                    cluster[cluster == cluster[j]] = cluster[i]
        # Two digits whose strokes meet; three or more tall pieces in one
        # bridged group are joined-up writing, left whole.
        if len(np.unique(cluster)) != 2:
            continue
        # Smaller pieces go with the nearest tall piece.
        owner_of = np.empty(len(parts), np.int64)
        owner_of[t] = cluster
        for k in np.flatnonzero(~is_tall):
            dx = np.maximum(
                0, np.maximum(tb[:, 0] - (b[k, 0] + b[k, 2]), b[k, 0] - (tb[:, 0] + tb[:, 2]))
            )
            dy = np.maximum(
                0, np.maximum(tb[:, 1] - (b[k, 1] + b[k, 3]), b[k, 1] - (tb[:, 1] + tb[:, 3]))
            )
            owner_of[k] = cluster[int(np.argmin(dx + dy))]
        for c in np.unique(owner_of):
            cb = b[owner_of == c]
            x0, y0 = cb[:, 0].min(), cb[:, 1].min()
            box = np.array(
                [x0, y0, (cb[:, 0] + cb[:, 2]).max() - x0, (cb[:, 1] + cb[:, 3]).max() - y0]
            )
            if c == owner_of[t[0]]:
                boxes[g - 1] = box
                continue
            for part in parts[owner_of == c]:
                pixel_comp[int(part)] = n + len(new_boxes)
            new_boxes.append(box)
    if not new_boxes:
        return n, boxes
    move = np.zeros(len(ink_stats), np.int64)
    move[list(pixel_comp)] = list(pixel_comp.values())
    at = move[owner] > 0
    labels[ys[at], xs[at]] = move[owner[at]]
    return n + len(new_boxes), np.concatenate([boxes, np.array(new_boxes, np.int64)])


def find_marks(
    ink: np.ndarray,
    *,
    px_per_mm: float,
    speck_mm: float,
    min_height_mm: float,
    max_height_mm: float,
    max_aspect: float,
    merge_gap_mm: float,
) -> Marks:
    """Clean the ink and join the pieces of broken digits.

    Pieces closer than ``merge_gap_mm`` above or below each other become one
    mark: the floating top bar of a 5, a 4 or 7 drawn in two strokes.

    Parameters
    ----------
    ink : (H, W) uint8 ndarray
        1 for ink, form lines already removed.
    px_per_mm : float
    speck_mm : float
        Marks smaller than this both ways are dust.
    min_height_mm, max_height_mm : float
        Height range of a digit; taller marks are not digits.
    max_aspect : float
        Digit-tall marks wider than this many heights (signatures, words) go.
    merge_gap_mm : float
        Largest vertical gap bridged between pieces of one digit.

    Returns
    -------
    Marks
    """
    kept, _ink_labels, ink_stats, keep, (ys, xs, owner) = _drop_noise(
        ink,
        px_per_mm=px_per_mm,
        speck_mm=speck_mm,
        min_height_mm=min_height_mm,
        max_height_mm=max_height_mm,
        max_aspect=max_aspect,
    )
    # Writing dropped for its size or length (words, signatures), not dust or holes.
    st = ink_stats[1:]
    gone = ~keep[1:] & (np.maximum(st[:, 2], st[:, 3]) >= min_height_mm * px_per_mm)
    gone &= st[:, 4] < 0.5 * st[:, 2] * st[:, 3]
    # A dark margin or a box's border around the whole image is not writing, and
    # every field lies inside it.
    rows, cols = ink.shape
    gone &= ~(_at_edge(st, ink.shape) & ((st[:, 2] >= 0.8 * cols) | (st[:, 3] >= 0.8 * rows)))
    clutter = st[gone, :4].astype(np.int64) if gone.any() else None
    # Rows of small print are kept out of the bridging, so a legend or serial
    # number just above handwritten digits does not become part of them.
    printed = _print_rows(ink_stats, keep, min_h=min_height_mm * px_per_mm)
    # New label of each printed glyph (0: not printed); the glyphs are not bridged.
    relabel = np.zeros(len(ink_stats), np.int64)
    bridged = kept
    if len(printed):
        relabel[printed] = -1
        bridged = kept.copy()
        unbridged = relabel[owner] < 0
        bridged[ys[unbridged], xs[unbridged]] = 0
    gap = max(1, round(merge_gap_mm * px_per_mm / 2.0))
    bridge = cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * gap + 1))
    joined = cv2.dilate(bridged, bridge)
    n, labels = cv2.connectedComponents(joined, connectivity=8, ltype=cv2.CV_32S)
    # Every joined component grows from bridged ink: its box is theirs, `gap` taller
    # above and below within the page.
    on = bridged[ys, xs] > 0 if len(ys) else np.zeros(0, bool)
    stats = _boxes_of(n, labels, ys[on], xs[on], gap=gap, rows=joined.shape[0])
    boxes = stats[1:, :4].astype(np.int64).copy()
    boxes[:, 1] += gap
    boxes[:, 3] -= 2 * gap
    boxes[:, 2:] = np.maximum(boxes[:, 2:], 1)
    n, boxes = _unbridge_side_by_side(
        labels, boxes, n, ys[on], xs[on], owner[on], ink_stats, min_h=min_height_mm * px_per_mm
    )
    if len(printed) == 0:
        members = tuple((i + 1,) for i in range(len(boxes)))
        return Marks(labels=labels, ink=kept, boxes=boxes, members=members, clutter=clutter)
    # Each printed glyph is a mark of its own, under a new label.
    relabel[printed] = n + np.arange(len(printed))
    glyph = relabel[owner] > 0
    labels[ys[glyph], xs[glyph]] = relabel[owner[glyph]]
    boxes = np.concatenate([boxes, ink_stats[printed, :4].astype(np.int64)])
    members = tuple((i + 1,) for i in range(len(boxes)))
    print_row = np.zeros(len(boxes), bool)
    print_row[n - 1 :] = True
    return Marks(
        labels=labels,
        ink=kept,
        boxes=boxes,
        members=members,
        print_row=print_row,
        clutter=clutter,
    )


def find_wall_stubs(
    marks: Marks, horizontal: np.ndarray, *, px_per_mm: float, min_height_mm: float
) -> np.ndarray:
    """Marks that are the end wall of a printed box that line removal left.

    A box's outer wall joins its top and bottom rules at their ends: both rules
    stop at it, on the same side, and run on from it on the other side. A
    digit standing in a box, even one spanning the box from rule to rule,
    has the rules running past it on both sides. So a tall thin stroke whose
    top and bottom both meet a removed horizontal line that ends there is a
    wall, whatever its thickness (a bold printed frame, a box drawn with a
    pen).

    Parameters
    ----------
    marks : Marks
    horizontal : (H, W) uint8 ndarray
        1 on the removed pixels of horizontal lines (`remove_form_lines`).
    px_per_mm : float
    min_height_mm : float
        Digit height limit; walls are at least this tall.

    Returns
    -------
    walls : (G,) bool ndarray
    """
    boxes = marks.boxes
    walls = np.zeros(len(boxes), bool)
    if len(boxes) == 0:
        return walls
    rows, cols = horizontal.shape
    reach = max(2, round(0.5 * px_per_mm))
    run = max(3, round(2.0 * px_per_mm))
    candidates = np.flatnonzero(
        (boxes[:, 3] >= min_height_mm * px_per_mm)
        & (boxes[:, 2] <= _WALL_MAX_ASPECT * boxes[:, 3])
        & ~marks.is_print_row()
    )

    def sides(x0: int, x1: int, y: int) -> tuple[bool, bool, bool]:
        """Line pixels at the end (x0..x1), and running on to the left, to the right."""
        band = horizontal[max(0, y - reach) : min(rows, y + reach + 1)]
        if band.size == 0:
            return False, False, False
        at = bool(band[:, max(0, x0 - reach) : min(cols, x1 + reach)].any())
        left = band[:, max(0, x0 - reach - run) : max(0, x0 - reach)]
        right = band[:, min(cols, x1 + reach) : min(cols, x1 + reach + run)]
        # Running on: ink in most of the columns next to the end.
        on_left = left.shape[1] > 0 and left.any(axis=0).mean() > 0.6
        on_right = right.shape[1] > 0 and right.any(axis=0).mean() > 0.6
        return at, bool(on_left), bool(on_right)

    for g in candidates:
        x, y, w, h = (int(v) for v in boxes[g])
        top = sides(x, x + w, y)
        bottom = sides(x, x + w, y + h - 1)
        if not (top[0] and bottom[0]):
            continue
        # One-sided at both ends, on the same side: the box's corner.
        if (top[1] != top[2]) and top[1:] == bottom[1:]:
            walls[g] = True
    return walls


@dataclass(frozen=True, slots=True)
class WallRow:
    """The walls of one row of printed boxes, by their own regularity.

    Attributes
    ----------
    top, bottom : int
        Rows of the walls' ends (``bottom`` exclusive).
    centres : (K,) float64 ndarray
        Column of every wall from the first found to the last, those hidden
        in a digit that touches them placed by the pitch.
    width : int
        Width of the widest wall found, in pixels.
    """

    top: int
    bottom: int
    centres: np.ndarray
    width: int


def find_wall_rows(marks: Marks, *, px_per_mm: float, min_height_mm: float) -> list[WallRow]:
    """Rows of printed boxes whose rules were not found, by their walls.

    A light, thin box printed behind a date may binarize with a rule broken
    into dots; line removal then finds no box, and the walls stay as tall
    thin marks among the digits (or joined to the digits that touch them).
    Printed walls give themselves away together: at least ``_WALL_ROW``
    walls with the same top and the same bottom (within 0.25 mm), evenly
    spaced (every step a whole number of one pitch of 3 to 12 mm: a wall
    lost to the scan leaves a longer step), and none shorter than a mark
    standing between them. At least two of them stand alone as thin
    strokes and set the pitch; the others may be hidden in a digit that
    touches them, in a mark exactly as tall as the walls whose left or
    right side lies on the pitch. Handwritten ones do not keep their tops
    and feet that level.

    Parameters
    ----------
    marks : Marks
    px_per_mm : float
    min_height_mm : float
        Digit height limit; walls are at least this tall.

    Returns
    -------
    list of WallRow
    """
    boxes = marks.boxes.astype(np.float64)
    if len(boxes) < _WALL_ROW:
        return []
    x, y, w, h = boxes.T
    thin = (h >= min_height_mm * px_per_mm) & (w <= _WALL_MAX_ASPECT * h) & (w <= px_per_mm)
    cand = np.flatnonzero(thin)
    # Print is level to a pixel or two, and the page was deskewed.
    tol = max(2.0, 0.25 * px_per_mm)
    cx = x + w / 2.0
    used = np.zeros(len(boxes), bool)
    rows: list[WallRow] = []
    for i in cand:
        if used[i]:
            continue
        same_ends = (np.abs(y - y[i]) <= tol) & (np.abs(y + h - y[i] - h[i]) <= tol)
        level = cand[same_ends[cand]]
        if len(level) < 2:
            continue
        xs = np.sort(cx[level])
        steps = np.diff(xs)
        if steps.min() < 3.0 * px_per_mm:
            continue
        count = np.maximum(np.round(steps / steps.min()), 1)
        pitch = float(steps.sum() / count.sum())
        cells = steps / pitch
        if pitch > 12.0 * px_per_mm or np.any(np.abs(cells - np.round(cells)) > 0.15):
            continue
        hidden = _walls_in_digits(
            boxes, np.flatnonzero(same_ends & ~thin), xs[0], pitch, float(np.median(w[level]))
        )
        walls = np.sort(np.concatenate([xs, hidden]))
        if len(walls) < _WALL_ROW:
            continue
        # Nothing between the walls stands taller than they do.
        top, bottom = float(np.median(y[level])), float(np.median(y[level] + h[level]))
        between = (cx > walls[0]) & (cx < walls[-1]) & ~np.isin(np.arange(len(boxes)), level)
        between &= (y < bottom) & (y + h > top)
        if np.any(h[between] > bottom - top + tol):
            continue
        used[level] = True
        first = xs[0] + pitch * round((walls[0] - xs[0]) / pitch)
        centres = first + pitch * np.arange(round((walls[-1] - first) / pitch) + 1)
        rows.append(WallRow(round(top), round(bottom), centres, int(w[level].max())))
    return rows


def _walls_in_digits(
    boxes: np.ndarray, level: np.ndarray, anchor: float, pitch: float, wall_width: float
) -> np.ndarray:
    """Columns of the walls hidden in the marks ``level``: (K,) float64.

    A digit that touches its box's wall is one mark with it, exactly as
    tall as the wall, whose left or right side is the wall: that side,
    half a wall inside, lies on the walls' pitch from ``anchor`` to within
    a wall's width (two pixels at least). A digit filling its box hides
    both; a mark with neither side there hides none.
    """
    x, w = boxes[level, 0], boxes[level, 2]
    sides = np.stack([x + wall_width / 2.0, x + w - wall_width / 2.0], axis=1)
    off = (sides - anchor) / pitch
    on_pitch = np.abs(off - np.round(off)) * pitch <= max(2.0, wall_width)
    return sides[on_pitch]


def erase_wall_rows(ink: np.ndarray, rows: list[WallRow]) -> np.ndarray:
    """``ink`` without the walls of ``rows``: a copy, (H, W) uint8.

    Each wall is erased as a column a pixel wider than the widest wall
    found on either side, from its top to its bottom; a digit touching it
    loses that column only.
    """
    out = ink.copy()
    for row in rows:
        half = row.width // 2 + 1
        for c in np.round(row.centres).astype(int):
            out[max(0, row.top - 1) : row.bottom + 1, max(0, c - half) : c + half + 1] = 0
    return out


def _line_boxes(mask: np.ndarray) -> np.ndarray:
    """x, y, w, h of the 8-connected components of a mask of a few thin vertical lines.

    Only the inked columns are labelled, side by side, with one blank column
    where the page had a gap between them, so the components and their boxes
    are those of the whole mask; on an A4 page, whose walls fill a few
    hundred of its columns, this costs a fifth of labelling the page.

    Parameters
    ----------
    mask : (H, W) uint8 ndarray
        Nonzero on the lines.

    Returns
    -------
    (K, 4) int64 ndarray
        One row per component: the rows of ``label_components(mask)[2][1:, :4]``,
        in the same order (the squeezing keeps the order of the columns).
    """
    cols = np.flatnonzero(mask.any(axis=0))
    if len(cols) == 0:
        return np.zeros((0, 4), np.int64)
    at = np.concatenate([[0], np.cumsum(1 + (np.diff(cols) > 1))])
    squeezed = np.zeros((mask.shape[0], int(at[-1]) + 1), np.uint8)
    squeezed[:, at] = mask[:, cols]
    _, _, stats = label_components(squeezed, areas=False)
    page_col = np.zeros(len(squeezed[0]), np.int64)
    page_col[at] = cols
    x0 = page_col[stats[1:, 0]]
    x1 = page_col[stats[1:, 0] + stats[1:, 2] - 1]
    return np.stack([x0, stats[1:, 1], x1 - x0 + 1, stats[1:, 3]], axis=1)


def find_box_cells(
    horizontal: np.ndarray,
    vertical: np.ndarray,
    rows: list[WallRow],
    *,
    px_per_mm: float,
    min_height_mm: float,
    max_height_mm: float,
) -> np.ndarray:
    """The cells of rows of printed boxes: (K, 4) int64 x, y, w, h inside their walls.

    Two walls that line removal found (``vertical``), each as tall as a
    digit and no taller than the tallest, with the same top and bottom
    (within 0.25 mm) and 3 to 12 mm apart with no such wall between them,
    bound a cell; its top and bottom are the walls' ends less the rules
    (``horizontal``) there. The walls of ``rows`` (`find_wall_rows`) bound
    cells from one wall to the next.

    Parameters
    ----------
    horizontal, vertical : (H, W) uint8 ndarray
        Removed pixels of horizontal and vertical lines (`remove_form_lines`).
    rows : list of WallRow
    px_per_mm : float
    min_height_mm, max_height_mm : float
        Height range of a digit.
    """
    cells: list[tuple[int, int, int, int]] = []
    for row in rows:
        half = row.width / 2.0
        for a, b in zip(row.centres[:-1], row.centres[1:], strict=True):
            x0, x1 = round(a + half) + 1, round(b - half)
            if x1 > x0:
                cells.append((x0, row.top, x1 - x0, row.bottom - row.top))
    x, y, w, h = _line_boxes(vertical).astype(np.float64).T
    wall = (h >= min_height_mm * px_per_mm) & (h <= max_height_mm * px_per_mm)
    wall &= w <= _WALL_MAX_ASPECT * h
    i = np.flatnonzero(wall)
    if 2 <= len(i) <= _MAX_PAIRWISE:
        tol = max(2.0, 0.25 * px_per_mm)
        cx = x[i] + w[i] / 2.0
        step = cx[None, :] - cx[:, None]
        pair = (
            (np.abs(y[i][:, None] - y[i][None, :]) <= tol)
            & (np.abs((y + h)[i][:, None] - (y + h)[i][None, :]) <= tol)
            & (step >= 3.0 * px_per_mm)
            & (step <= 12.0 * px_per_mm)
        )
        # The nearest such wall to the right of each.
        right = np.argmin(np.where(pair, step, np.inf), axis=1)
        rows_h = horizontal.shape[0]
        for a in np.flatnonzero(pair.any(axis=1)):
            b = right[a]
            la, lb = i[a], i[b]
            x0, x1 = int(x[la] + w[la]), int(x[lb])
            if x1 <= x0:
                continue
            top, bottom = int(min(y[la], y[lb])), int(max(y[la] + h[la], y[lb] + h[lb]))
            # The rules run through the cell's middle column: step inside them.
            column = horizontal[top:bottom, (x0 + x1) // 2]
            reach = max(1, (bottom - top) // 4)
            on = np.flatnonzero(column[:reach])
            inner_top = top + (int(on[-1]) + 1 if len(on) else 0)
            on = np.flatnonzero(column[-reach:])
            inner_bottom = bottom - (reach - int(on[0]) if len(on) else 0)
            inner_bottom = min(inner_bottom, rows_h)
            if inner_bottom > inner_top:
                cells.append((x0, inner_top, x1 - x0, inner_bottom - inner_top))
    return np.array(cells, np.int64).reshape(-1, 4)


def _in_cells(boxes: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(G,) bool: marks standing in a box cell, at least ``_CELL_DIGIT_SHARE`` of its height.

    The mark's centre lies in the cell, and its box within the cell widened by
    a fifth of its width and heightened by a tenth of its height (a slanted
    stroke may touch a wall).
    """
    if len(cells) == 0 or len(boxes) == 0:
        return np.zeros(len(boxes), bool)
    b = boxes.astype(np.float64)[:, None, :]
    c = cells.astype(np.float64)[None, :, :]
    cx, cy = b[..., 0] + b[..., 2] / 2.0, b[..., 1] + b[..., 3] / 2.0
    slack_x, slack_y = 0.2 * c[..., 2], 0.1 * c[..., 3]
    inside = (
        (cx >= c[..., 0])
        & (cx <= c[..., 0] + c[..., 2])
        & (cy >= c[..., 1])
        & (cy <= c[..., 1] + c[..., 3])
        & (b[..., 0] >= c[..., 0] - slack_x)
        & (b[..., 0] + b[..., 2] <= c[..., 0] + c[..., 2] + slack_x)
        & (b[..., 1] >= c[..., 1] - slack_y)
        & (b[..., 1] + b[..., 3] <= c[..., 1] + c[..., 3] + slack_y)
        & (b[..., 3] >= _CELL_DIGIT_SHARE * c[..., 3])
    )
    return inside.any(axis=1)


def _merge(marks: Marks, owner: np.ndarray) -> Marks:
    """Marks united by ``owner`` (the mark each one joins, itself if none)."""
    boxes = marks.boxes
    printed = marks.is_print_row()
    new_boxes: list[np.ndarray] = []
    new_members: list[tuple[int, ...]] = []
    new_printed: list[bool] = []
    for g in np.unique(owner):
        parts = np.flatnonzero(owner == g)
        pb = boxes[parts]
        x0, y0 = pb[:, 0].min(), pb[:, 1].min()
        x1, y1 = (pb[:, 0] + pb[:, 2]).max(), (pb[:, 1] + pb[:, 3]).max()
        new_boxes.append(np.array([x0, y0, x1 - x0, y1 - y0]))
        new_members.append(tuple(m for p in parts for m in marks.members[p]))
        new_printed.append(bool(printed[parts].all()))
    return Marks(
        labels=marks.labels,
        ink=marks.ink,
        boxes=np.array(new_boxes, dtype=np.int64).reshape(-1, 4),
        members=tuple(new_members),
        print_row=np.array(new_printed, bool) if marks.print_row is not None else None,
        clutter=marks.clutter,
    )


def _join_overlapping(marks: Marks, *, px_per_mm: float, min_height_mm: float) -> Marks:
    """Join pieces that share most of their columns: a 0 or 4 drawn in two strokes.

    Two marks join when they overlap sideways by half the wider one, are at
    most three quarters of a digit height apart vertically, and together are
    no wider than tall. This also rejoins a loop cut in two where its sides
    ran along the walls of a printed box.
    """
    boxes = marks.boxes
    min_h = min_height_mm * px_per_mm
    parts = np.flatnonzero((boxes[:, 3] >= 0.25 * min_h) & ~marks.is_print_row())
    if len(parts) < 2 or len(parts) > _MAX_PAIRWISE:
        return marks
    b = boxes[parts]
    x0, x1 = b[:, 0], b[:, 0] + b[:, 2]
    y0, y1 = b[:, 1], b[:, 1] + b[:, 3]
    overlap_x = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
    gap_y = np.maximum(y0[:, None], y0[None, :]) - np.minimum(y1[:, None], y1[None, :])
    wider = np.maximum(b[:, 2][:, None], b[:, 2][None, :])
    union_w = np.maximum(x1[:, None], x1[None, :]) - np.minimum(x0[:, None], x0[None, :])
    union_h = np.maximum(y1[:, None], y1[None, :]) - np.minimum(y0[:, None], y0[None, :])
    same = (overlap_x >= 0.5 * wider) & (gap_y <= 0.75 * min_h) & (union_w <= 1.1 * union_h)
    np.fill_diagonal(same, False)
    if not same.any():
        return marks
    owner = np.arange(len(boxes))
    for i, j in zip(*np.nonzero(np.triu(same)), strict=True):
        a, c = owner[parts[i]], owner[parts[j]]
        owner[owner == max(a, c)] = min(a, c)
    return _merge(marks, owner)


def join_fragments(
    marks: Marks, *, px_per_mm: float, min_height_mm: float, max_gap_mm: float = 0.6
) -> Marks:
    """Join small pieces to the digit beside them: the flag of a 5, the arm of a 4.

    A mark shorter than a digit joins the digit-sized mark it nearly touches
    (within ``max_gap_mm`` sideways) when it sits in that digit's upper part;
    marks at the baseline (commas, periods) stay apart.

    Parameters
    ----------
    marks : Marks
    px_per_mm : float
    min_height_mm : float
        Marks shorter than this are pieces.
    max_gap_mm : float

    Returns
    -------
    Marks
        With the pieces joined; the same object when nothing joins.
    """
    marks = _join_overlapping(marks, px_per_mm=px_per_mm, min_height_mm=min_height_mm)
    boxes = marks.boxes
    if len(boxes) < 2:
        return marks
    min_h = min_height_mm * px_per_mm
    gap = max_gap_mm * px_per_mm
    printed = marks.is_print_row()
    big = np.flatnonzero(boxes[:, 3] >= min_h)
    small = np.flatnonzero((boxes[:, 3] < min_h) & (boxes[:, 3] >= 0.1 * min_h) & ~printed)
    if len(big) == 0 or len(small) == 0 or len(big) * len(small) > _MAX_PAIRWISE**2:
        return marks
    b, s = boxes[big], boxes[small]
    sx0, sx1 = s[:, 0, None], (s[:, 0] + s[:, 2])[:, None]
    bx0, bx1 = b[None, :, 0], (b[:, 0] + b[:, 2])[None, :]
    side_gap = np.maximum(bx0 - sx1, sx0 - bx1)
    s_cy = (s[:, 1] + s[:, 3] / 2.0)[:, None]
    # From a little above the digit (the floating bar of a 5 or 7) to 60% down its height.
    upper = (s_cy >= b[None, :, 1] - 0.3 * b[None, :, 3]) & (
        s_cy <= b[None, :, 1] + 0.6 * b[None, :, 3]
    )
    width = np.maximum(sx1, bx1) - np.minimum(sx0, bx0)
    fits = width <= 1.2 * b[None, :, 3]
    ok = (side_gap <= gap) & upper & fits
    cost = np.where(ok, side_gap, np.inf)
    target = np.argmin(cost, axis=1)
    joins = np.isfinite(cost[np.arange(len(small)), target])
    if not joins.any():
        return marks
    owner = np.arange(len(boxes))
    owner[small[joins]] = big[target[joins]]
    return _merge(marks, owner)


def _rows(boxes: np.ndarray, order: np.ndarray) -> list[list[int]]:
    """Digit candidates into rows by vertical overlap, top to bottom."""
    rows: list[list[int]] = []
    bands: list[list[float]] = []
    for i in order[np.argsort(boxes[order, 1] + boxes[order, 3] / 2.0, kind="stable")]:
        top, height = float(boxes[i, 1]), float(boxes[i, 3])
        best, best_overlap = -1, 0.0
        for r, (b_top, b_bottom) in enumerate(bands):
            overlap = min(top + height, b_bottom) - max(top, b_top)
            share = overlap / min(height, b_bottom - b_top)
            if share > 0.5 and share > best_overlap:
                best, best_overlap = r, share
        if best < 0:
            rows.append([int(i)])
            bands.append([top, top + height])
        else:
            rows[best].append(int(i))
            # The band follows the row's typical extent so one tall mark cannot swallow others.
            n = len(rows[best])
            b_top, b_bottom = bands[best]
            bands[best] = [
                b_top + (top - b_top) / n,
                b_bottom + (top + height - b_bottom) / n,
            ]
    rows.sort(key=lambda r: float(np.median(boxes[r, 1])))
    return rows


def _count_letters(
    boxes: np.ndarray,
    run: list[int],
    small_cx: np.ndarray,
    small_cy: np.ndarray,
    small_h: np.ndarray,
    reach: float,
) -> int:
    """How many marks in and around a run look like lower-case letters.

    Small marks in its box or within ``reach`` to either side (x-height
    letters under the digit height), and
    marks of the run clearly shorter than their tallest near neighbour with a
    top lower than its (x-height letters among ascenders and capitals).
    """
    members = boxes[run]
    x0 = members[:, 0].min() - reach
    x1 = (members[:, 0] + members[:, 2]).max() + reach
    # The run's typical band, so one tall mark (a digit joined to something
    # above it) does not widen it over a line of print; x-height letters stand
    # on the baseline, so a mark centred lower (a comma, a period) is not one.
    y0 = float(np.median(members[:, 1]))
    y1 = float(np.median(members[:, 1] + members[:, 3]) - 0.12 * np.median(members[:, 3]))
    inside = (small_cx >= x0) & (small_cx <= x1) & (small_cy >= y0) & (small_cy <= y1)
    # x-height letters stand well under the capitals and digits beside them; a
    # small digit written just under the size limit does not.
    inside &= small_h < _LETTER_SHARE * float(np.median(members[:, 3]))
    count = int(inside.sum())
    if len(run) >= 3:
        heights = members[:, 3].astype(np.float64)
        tops = members[:, 1].astype(np.float64)
        for i in range(len(run)):
            near = slice(max(0, i - 2), i + 3)
            tallest = int(np.argmax(heights[near])) + near.start
            if (
                heights[i] < _X_HEIGHT_SHARE * heights[tallest]
                and tops[i] > tops[tallest] + 0.2 * heights[tallest]
            ):
                count += 1
    return count


def group_fields(
    boxes: np.ndarray,
    *,
    px_per_mm: float,
    min_height_mm: float,
    max_height_mm: float,
    field_gap_mm: float,
    printed: np.ndarray | None = None,
    clutter: np.ndarray | None = None,
    cells: np.ndarray | None = None,
) -> list[list[int]]:
    """Digit candidates into fields in reading order.

    Candidates on one row whose gaps stay under ``field_gap_mm`` form a field.
    A field whose span holds more small marks (the x-height letters of
    printed or written words) than candidates is text, and is dropped.
    Digits written a little under the height limit, standing in a field's
    line, join it.

    Parameters
    ----------
    boxes : (G, 4) int64 ndarray
        Marks as x, y, w, h.
    px_per_mm : float
    min_height_mm, max_height_mm : float
        Height range of a digit.
    field_gap_mm : float
        A wider gap starts a new field.
    printed : (G,) bool ndarray or None
        Marks that are small print (``Marks.print_row``); they never join a
        field as small marks.
    clutter : (K, 4) int64 ndarray or None
        Boxes of writing dropped as words or signatures (``Marks.clutter``):
        one or two marks beside such writing, or a run lying mostly inside
        it, are its letters or pieces and are dropped.
    cells : (C, 4) int64 ndarray or None
        Box cells of date and comb rows (`find_box_cells`): a mark under the
        height limit standing in one, at least ``_CELL_DIGIT_SHARE`` of its
        height, is a digit candidate (a short 1 in the last box of a date).

    Returns
    -------
    fields : list of list of int
        Row indices into ``boxes``, each field left to right, fields in
        reading order (rows top to bottom, then left to right).
    """
    if len(boxes) == 0:
        return []
    h = boxes[:, 3]
    min_h = min_height_mm * px_per_mm
    max_h = max_height_mm * px_per_mm
    is_digit = (h >= min_h) & (h <= max_h)
    if printed is not None:
        is_digit &= ~np.asarray(printed, bool)
    if cells is not None and len(cells):
        short = np.flatnonzero(h < min_h)
        if printed is not None:
            short = short[~np.asarray(printed, bool)[short]]
        is_digit[short[_in_cells(boxes[short], cells)]] = True
    # Letter-like small marks: x-height letters are about as wide as tall, not long
    # arcs (a dash), nor thin strokes (a comb-box tick, a comma, the stem of an i).
    w = boxes[:, 2]
    small = (
        ~is_digit
        & (h < min_h)
        & (h >= 0.35 * min_h)
        & (w <= 1.5 * h)
        & (w >= _LETTER_MIN_ASPECT * h)
    )
    small_cx = boxes[small, 0] + boxes[small, 2] / 2.0
    small_cy = boxes[small, 1] + boxes[small, 3] / 2.0
    small_h = boxes[small, 3]
    gap = field_gap_mm * px_per_mm
    fields: list[list[int]] = []
    # Separator-shaped small marks (dashes, commas; not letter-shaped) carry a
    # field across a gap: the hyphens of 22-03-2022 with room around them.
    links = ~is_digit & (h < min_h) & ~small & ((w >= 1.5 * h) | (w < _LETTER_MIN_ASPECT * h))
    if printed is not None:
        links &= ~np.asarray(printed, bool)
    link_boxes = boxes[links]
    link_boxes = link_boxes[np.argsort(link_boxes[:, 0], kind="stable")]
    small_boxes = boxes[small if printed is None else small & ~np.asarray(printed, bool)]
    for row in _rows(boxes, np.flatnonzero(is_digit)):
        row.sort(key=lambda i: int(boxes[i, 0]))
        current = [row[0]]
        right = boxes[row[0], 0] + boxes[row[0], 2]
        runs = [current]
        band = (float(np.median(boxes[row, 1])), float(np.median(boxes[row, 1] + boxes[row, 3])))
        for i in row[1:]:
            if (
                boxes[i, 0] - right > gap
                and not _bridged(link_boxes, right, int(boxes[i, 0]), band, gap=gap)
                and not _bridged_by_small_digit(
                    small_boxes, boxes[current[-1]], boxes[i], right=right, gap=gap
                )
            ):
                current = [i]
                runs.append(current)
            else:
                current.append(i)
            right = max(right, boxes[i, 0] + boxes[i, 2])
        wordy = [
            _count_letters(boxes, run, small_cx, small_cy, small_h, gap / 2.0)
            >= max(2, 0.5 * len(run))
            for run in runs
        ]
        spans = [(boxes[r, 0].min(), (boxes[r, 0] + boxes[r, 2]).max()) for r in runs]
        for k, run in enumerate(runs):
            if wordy[k]:
                continue
            # One or two marks next to words are capitals of those words (a title).
            near_words = any(
                wordy[j]
                and min(abs(spans[j][0] - spans[k][1]), abs(spans[k][0] - spans[j][1])) < 2 * gap
                for j in range(len(runs))
            )
            if len(run) <= 2 and near_words:
                continue
            if clutter is not None and _part_of_clutter(boxes, run, clutter, reach=gap / 2.0):
                continue
            # One mark alone, wider than two of its heights: a short signature or
            # a joined-up word, not a number whose every digit touches the next.
            if len(run) == 1 and boxes[run[0], 2] >= _LONE_MAX_ASPECT * boxes[run[0], 3]:
                continue
            fields.append(run)
    fields = _join_across_rows(boxes, fields, gap=gap, links=link_boxes)
    loose = ~is_digit & (h < min_h)
    if printed is not None:
        loose &= ~np.asarray(printed, bool)
    return _take_small_marks(boxes, fields, np.flatnonzero(loose))


def _bridged(
    links: np.ndarray, left: int, right: int, band: tuple[float, float], *, gap: float
) -> bool:
    """Whether separator marks in a line span the gap from ``left`` to ``right``.

    ``links`` are x-sorted boxes of dashes and commas; those centred in the
    line's ``band`` (top, bottom; a comma may hang below it) and lying in
    the gap are stepped across, each step at most ``gap`` wide.
    """
    if len(links) == 0:
        return False
    top, bottom = band
    height = bottom - top
    cx = links[:, 0] + links[:, 2] / 2.0
    cy = links[:, 1] + links[:, 3] / 2.0
    inside = (cx > left) & (cx < right) & (cy >= top + 0.2 * height) & (cy <= bottom + 0.3 * height)
    reach = float(left)
    for x0, _y0, w, _h in links[inside]:
        if x0 - reach > gap:
            return False
        reach = max(reach, float(x0 + w))
    return right - reach <= gap


def _bridged_by_small_digit(
    small: np.ndarray, before: np.ndarray, after: np.ndarray, *, right: float, gap: float
) -> bool:
    """Whether one digit written small fills the gap between two digits of a line.

    A short 0 in the box of a date leaves a gap of two boxes between its
    neighbours, wider than a field's gap. One letter-shaped mark under the
    height limit in that gap, level with the two (as ``_take_small_marks``
    judges a small digit), each step to it no wider than ``gap``, is that
    digit: the field stays whole, and the mark joins it. Two or more small
    marks in the gap are a word's x-height letters, and part the fields.

    Parameters
    ----------
    small : (S, 4) int64 ndarray
        Letter-shaped marks under the digit height limit, as x, y, w, h.
    before, after : (4,) int64 ndarray
        The digits left and right of the gap.
    right : float
        The right edge of the field so far.
    gap : float
        A field's widest gap, in pixels.
    """
    if len(small) == 0:
        return False
    left_end, right_start = right, float(after[0])
    top = (float(before[1]) + float(after[1])) / 2.0
    bottom = (float(before[1] + before[3]) + float(after[1] + after[3])) / 2.0
    band = bottom - top
    cx = small[:, 0] + small[:, 2] / 2.0
    cy = small[:, 1] + small[:, 3] / 2.0
    within = small[(cx > left_end) & (cx < right_start) & (cy > top) & (cy < bottom)]
    if len(within) != 1:
        return False
    x, _, w, _ = (float(v) for v in within[0])
    level = bool(_level_small_digit(within, top, bottom)[0]) and w <= 1.2 * band
    return level and x - left_end <= gap and right_start - (x + w) <= gap


def _level_small_digit(
    small: np.ndarray, top: np.ndarray | float, bottom: np.ndarray | float
) -> np.ndarray:
    """(S,) bool: small marks standing level with a line whose band is ``top`` to ``bottom``.

    A digit written small reaches at least ``_SMALL_DIGIT_SHARE`` of the
    band, its top no higher than the band's (a little slack), its foot near
    the baseline; separators and comb ticks are shorter or hang lower.
    ``small`` is (S, 4) x, y, w, h; ``top`` and ``bottom`` are one band or
    one per mark.
    """
    band = bottom - top
    foot = small[:, 1] + small[:, 3]
    return (
        (small[:, 3] >= _SMALL_DIGIT_SHARE * band)
        & (small[:, 1] >= top - 0.1 * band)
        & (np.abs(foot - bottom) <= 0.25 * band)
    )


def _part_of_clutter(
    boxes: np.ndarray, run: list[int], clutter: np.ndarray, *, reach: float
) -> bool:
    """Whether a run belongs to a dropped word or signature on its line.

    One or two marks within ``reach`` of it (the stem of an i, the capital
    of a cursive word), or a run whose marks mostly lie inside its box (the
    loose pieces of a signature).
    """
    b = boxes[run].astype(np.float64)
    c = clutter.astype(np.float64)
    top, bottom = float(np.median(b[:, 1])), float(np.median(b[:, 1] + b[:, 3]))
    level = np.minimum(bottom, c[:, 1] + c[:, 3]) - np.maximum(top, c[:, 1])
    c = c[level > 0.5 * (bottom - top)]
    if len(c) == 0:
        return False
    x0, x1 = b[:, 0].min(), (b[:, 0] + b[:, 2]).max()
    if len(run) <= 2:
        side = np.maximum(c[:, 0] - x1, x0 - (c[:, 0] + c[:, 2]))
        if (side < reach).any():
            return True
    cx, cy = b[:, 0] + b[:, 2] / 2.0, b[:, 1] + b[:, 3] / 2.0
    within = (
        (cx[:, None] >= c[None, :, 0])
        & (cx[:, None] <= c[None, :, 0] + c[None, :, 2])
        & (cy[:, None] >= c[None, :, 1])
        & (cy[:, None] <= c[None, :, 1] + c[None, :, 3])
    ).any(axis=1)
    return bool(within.sum() > 0.5 * len(run))


def _take_small_marks(
    boxes: np.ndarray, fields: list[list[int]], loose: np.ndarray
) -> list[list[int]]:
    """Give each field the digits written a little small in its line.

    A mark under the digit height limit, between two digits of a field or
    just before or after it (a gap under 0.6 digit heights), level with
    them (its top no higher than theirs, its bottom near their baseline) and
    at least ``_SMALL_DIGIT_SHARE`` of their height is a digit written small
    (a short 0, a digit in a tight box): it joins the field. Separators
    (commas, periods, hyphens) and the ticks of comb boxes are shorter and
    stay out: the marks classifier, which would have to tell them from
    digits, misreads too many today.
    """
    if not fields or len(loose) == 0:
        return fields
    lb = boxes[loose].astype(np.float64)
    l_cx = lb[:, 0] + lb[:, 2] / 2.0
    l_top, l_bottom = lb[:, 1], lb[:, 1] + lb[:, 3]
    taken = np.zeros(len(loose), bool)
    out: list[list[int]] = []
    for run in fields:
        b = boxes[run].astype(np.float64)
        b = b[np.argsort(b[:, 0] + b[:, 2] / 2.0, kind="stable")]
        cx = b[:, 0] + b[:, 2] / 2.0
        height = float(np.median(b[:, 3]))
        x0, x1 = b[0, 0] - 0.6 * height, b[-1, 0] + b[-1, 2] + 0.6 * height
        # The line's band beside each loose mark: that of its nearest digit.
        nearest = np.abs(l_cx[:, None] - cx[None, :]).argmin(axis=1)
        top, bottom = b[nearest, 1], b[nearest, 1] + b[nearest, 3]
        inside = (
            ~taken
            & (lb[:, 0] + lb[:, 2] > x0)
            & (lb[:, 0] < x1)
            & _level_small_digit(lb, top, bottom)
            & (lb[:, 2] <= 1.2 * height)
        )
        # The hyphen that closes an amount ("1500/-"): a flat stroke right
        # after the last mark, level with the line's middle. The marks
        # classifier needs it to read the stroke before it as a slash.
        last_right = b[-1, 0] + b[-1, 2]
        l_mid = (l_top + l_bottom) / 2.0
        inside |= (
            ~taken
            & (lb[:, 0] >= b[-1, 0] + 0.5 * b[-1, 2])
            & (lb[:, 0] <= last_right + 0.6 * height)
            & (lb[:, 2] >= 1.5 * lb[:, 3])
            & (lb[:, 2] >= 0.2 * height)
            & (lb[:, 2] <= 1.2 * height)
            & (l_mid >= b[-1, 1] + 0.2 * b[-1, 3])
            & (l_mid <= b[-1, 1] + 0.8 * b[-1, 3])
        )
        if not inside.any():
            out.append(run)
            continue
        taken |= inside
        extra = [int(i) for i in loose[inside]]
        out.append(sorted(run + extra, key=lambda i: float(boxes[i, 0] + boxes[i, 2] / 2.0)))
    return out


def _join_across_rows(
    boxes: np.ndarray, fields: list[list[int]], *, gap: float, links: np.ndarray
) -> list[list[int]]:
    """Join fields that are one line of writing split between two rows.

    A handwritten date or amount rises or falls along its length and its
    digits vary in size, so its marks can land in two rows, whose fields
    follow or interleave each other. Two fields within ``gap`` of each other
    are one when their marks, taken left to right together, chain: each
    level with the next (overlapping by more than half the shorter height)
    and at most ``gap`` from it, or bridged by separators in ``links``. The
    joined field takes the place of the earlier one.
    """

    def centre(i: int) -> float:
        return float(boxes[i, 0] + boxes[i, 2] / 2.0)

    fields = [sorted(f, key=centre) for f in fields]
    joined = True
    while joined and len(fields) > 1:
        joined = False
        x0 = np.array([boxes[f, 0].min() for f in fields])
        x1 = np.array([(boxes[f, 0] + boxes[f, 2]).max() for f in fields])
        for a in range(len(fields)):
            for b in range(a + 1, len(fields)):
                if x0[b] - x1[a] > gap or x0[a] - x1[b] > gap:
                    continue
                union = sorted(fields[a] + fields[b], key=centre)
                if _chains(boxes[union], gap=gap, links=links):
                    fields[a] = union
                    del fields[b]
                    joined = True
                    break
            if joined:
                break
    return fields


def _chains(b: np.ndarray, *, gap: float, links: np.ndarray) -> bool:
    """Whether x-sorted boxes ``b`` (x, y, w, h) follow each other as one line."""
    top, bottom = b[:, 1], b[:, 1] + b[:, 3]
    level = np.minimum(bottom[:-1], bottom[1:]) - np.maximum(top[:-1], top[1:])
    if not (level > 0.5 * np.minimum(b[:-1, 3], b[1:, 3])).all():
        return False
    right = np.maximum.accumulate(b[:, 0] + b[:, 2])[:-1]
    for k in np.flatnonzero(b[1:, 0] - right > gap):
        band = (float(min(top[k], top[k + 1])), float(max(bottom[k], bottom[k + 1])))
        if not _bridged(links, int(right[k]), int(b[k + 1, 0]), band, gap=gap):
            return False
    return True
