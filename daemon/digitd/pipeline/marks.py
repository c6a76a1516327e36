"""Tell handwritten digits from print, punctuation and everything else.

Every digit candidate a page yields is one *mark*: its crop, its box and the
group (field or line) it was found in. ``classify_marks`` sorts marks into
four kinds:

``hand``
    A handwritten digit: the only kind digitd reports by default.
``printed``
    A printed digit (any face, MICR-style, dot matrix, rubber stamp).
``separator``
    Punctuation inside amounts and dates (``, . - / /-``), currency signs
    (``₹ $ € £``) and the ticks of comb boxes. Kept in a field's ``raw``,
    never in its ``text``.
``other``
    Not a digit: letters, handwritten words, signature pieces, blots.

The evidence is explainable on real paper rather than fitted to one
generator: stroke-width uniformity along the skeleton, straight and
axis-aligned edges, size, position and lean relative to the mark's group, a
coarse gradient-orientation shape descriptor, and LINE-LEVEL regularity (a
row of equally tall, evenly spaced glyphs on one baseline is print). A small
gradient-boosted classifier, trained on samples the project renders itself
(``digitd.model.marks_training``), turns them into probabilities; line-level
rules follow it: the print/hand decision is pooled over a group's digit-like
marks, a group whose marks are mostly not digits is dropped whole (unless
the recognizer reads every one of five or more marks surely), a field of
one mark is a digit only when its own probabilities favour one (it has no
line of its own to pool with), a field of joined-up writing (pieces whose
boxes meet) in doubt is a word and is dropped whole, and so is a field the
recognizer reads but doubts (the pieces of a word it does not know) and a
line whose marks stand at the heights of letters (x-height, ascenders,
descenders) in doubt, a field of a few pieces far taller than the page's
digits is a signature, a field of one or two marks inside or between the
words of a row (or after them, in doubt) is a letter left over from the
row, a short field that runs on into letters segmentation left out (the
capitals of a name whose x-height letters were too small for digits) is
a word, a lone stroke right
before a group's closing hyphen is the slash of "/-", and a lone stroke
splitting a date's day from its month, opposite a recognised slash, is the
other slash, as are two ones that cut a field into a valid day, month and
year; other lone strokes taken for slashes where no date or amount
end has one are ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from digitd.errors import ModelError
from digitd.pipeline.boosted import predict_classes, predict_probabilities

__all__ = [
    "FEATURE_NAMES",
    "MARKS_FORMAT_VERSION",
    "MARK_KINDS",
    "MarkParams",
    "Marks",
    "check_mark_classifier",
    "classify_marks",
    "gather_marks",
    "keep_kind",
    "measure_marks",
    "raw_texts",
]

MARK_KINDS = ("hand", "printed", "separator", "other")
# 2: a group too short to space has group_pitch_cv NaN (unknown), not 0; a classifier
# trained on version 1 would take every short field for evenly spaced print.
MARKS_FORMAT_VERSION = 2

# Fine labels the classifier predicts; the separators carry the character they
# stand for in a field's ``raw`` text ("" for comb-box ticks, which are not
# content). Everything maps onto one of MARK_KINDS.
SEPARATOR_TEXT: dict[str, str] = {
    "sep:,": ",",
    "sep:.": ".",
    "sep:-": "-",
    "sep:/": "/",
    "sep:/-": "/-",
    "sep:₹": "₹",
    "sep:$": "$",
    "sep:€": "€",
    "sep:£": "£",
    "sep:tick": "",
}
FINE_LABELS: tuple[str, ...] = ("hand", "printed", "other", *SEPARATOR_TEXT)

_GLYPH_FEATURES = (
    "aspect",
    "density",
    "stroke_rel",
    "stroke_cv",
    "stroke_spread",
    "axis_edges",
    "straight",
    "roughness",
    "solidity",
    "n_parts",
    "n_holes",
    "axis_upright",
    "axis_lean",
    "elongation",
)
_CONTEXT_FEATURES = (
    "rel_height",
    "rel_width",
    "rel_bottom",
    "rel_centre",
    "rel_stroke",
    "group_size",
    "group_height_dev",
    "group_bottom_dev",
    "group_top_dev",
    "group_width_dev",
    "group_pitch_cv",
    "group_stroke_dev",
    "rel_lean",
)
_MAX_SIDE = 80
# Lone strokes of one field tried as ones in every combination (2**N tries).
_MAX_LOOSE_SLASHES = 8
_SHAPE_SIZE = 24
_SHAPE_CELLS = 3
_SHAPE_BINS = 8
_TAN_8_DEGREES = np.float32(np.tan(np.radians(8.0)))
_SHAPE_FEATURES = tuple(f"shape_{i}" for i in range(_SHAPE_CELLS * _SHAPE_CELLS * _SHAPE_BINS))
FEATURE_NAMES: tuple[str, ...] = _GLYPH_FEATURES + _CONTEXT_FEATURES + _SHAPE_FEATURES


@dataclass(frozen=True, slots=True)
class MarkParams:
    """Tuning of the line-level decisions that follow the classifier.

    Attributes
    ----------
    print_threshold : float
        A digit-like mark is printed when its pooled probability of print
        (among hand and print) exceeds this.
    line_weight : float
        Weight in [0, 1] of the group's mean probability (of print, of not
        being a digit) against the mark's own, for groups of at least
        ``min_line_marks`` marks.
    min_line_marks : int
        Smallest group whose evidence is pooled.
    line_reach : float
        Groups (fields) on one text line closer than this many mark heights
        are one context for the pooling and for dropping.
    other_threshold : float
        A mark is not a digit when its probability of being one of the
        other marks (letters, signatures, blots), pooled with its group's
        like the print probability, exceeds this.
    max_other_fraction : float
        A group (with the fields continuing it on its line) whose
        non-separator marks are on average more likely than this not to be
        digits is dropped whole.
    min_joined_fraction : float
        A field in which at least this fraction of neighbouring marks touch
        (boxes meet or overlap: pieces cut from one connected stroke) is
        joined-up writing, a word rather than digits, when both the marks
        classifier and the recognizer doubt its marks (``joined_other``,
        ``joined_unsure``).
    joined_other : float
        A joined-up field is dropped whole when its marks' mean probability
        of not being digits is at least this ...
    joined_unsure : float
        ... and the recognizer's mean unsureness (one minus its
        confidence, 1 for marks it rejects) is at least this. Touching
        digits the recognizer is sure of are kept.
    sure_marks : int
        A field of at least this many marks, every one of which the
        recognizer reads as a digit with confidence ``sure_confidence`` or
        more, is kept when the line rules dropped it whole: ...
    sure_confidence : float
        ... the recognizer's joint certainty outweighs the line context of
        an unevenly written field.
    doubted_confidence : float
        A field of at least ``doubted_marks`` marks the recognizer accepts
        is a word, not digits, when their mean confidence is below this and
        at least two of them are read with less than this: the recognizer
        reads the pieces of a word it does not know (real handwriting) as
        digits, but seldom surely.
    doubted_marks : int
        Smallest field the recognizer's doubt is judged on.
    doubted_share : float
        A field is a word, too, when at least this share of its marks
        (separators aside), and at least ``doubted_marks`` of them, are
        rejected by the recognizer or read with less than
        ``doubted_confidence``: a word of capitals has letters the
        recognizer rejects and others it doubts, where a number has a
        damaged digit or two.
    letter_marks : int
        Smallest line (fields continuing each other, see ``line_reach``)
        whose letter heights are judged: ...
    letter_height : float
        ... a line is written in letters when its marks stand at two
        heights (the lower quartile of their heights below this fraction of
        the tallest tenth: x-height letters beside ascenders and capitals)
        ...
    letter_reach : float
        ... and at least ``letter_share`` of its marks reach more than this
        many typical heights above or below the line's band (ascenders,
        descenders), ...
    letter_share : float
        ...
    letter_confidence : float
        ... and the recognizer doubts it (mean confidence below this, with
        one mark below ``doubted_confidence``). Its fields are dropped but
        those of three or more marks the recognizer reads surely
        (``sure_confidence``): an amount written beside the words.
    large_height : float
        A field of at most ``large_marks`` marks whose typical mark is at
        least this many times the page's digit height (the median height of
        the digits read surely in its other fields) is a signature's pieces
        when one of its marks is wide (``large_aspect``) or read with less
        than ``large_confidence``: ...
    large_marks : int
        ... a name signed across a cheque is a few large pieces, where a
        short amount is digits of the page's size ...
    large_aspect : float
        ... with cursive joins that make pieces wider than tall ...
    large_confidence : float
        ... and that the recognizer is not sure of.
    huge_height : float
        Such a field without separators whose typical mark is at least
        this many times the page's digit height is a signature's pieces
        whatever their shape and reading: a looped piece of a signature can
        read surely as a digit, but writers seldom make the digits of one
        field three times the size of the others (an amount written large
        beside small date boxes carries its "/-" or currency sign).
    row_piece_marks : int
        A field of at most this many digit-like marks, without separators,
        on the band of a word (a field of at least ``row_word_marks`` marks
        all dropped as not digits) is a piece of the word's row when the
        word's span covers it, or words lie within ``row_reach`` of it on
        both sides, or on one side with the recognizer unsure of it (below
        ``sure_confidence``): a letter or a descender left over from a line
        of writing, not a number of its own.
    row_word_marks : int
        Smallest field dropped whole that counts as a word of the row.
    row_reach : float
        Largest gap, in the word's typical mark heights, between the piece
        and a word of its row.
    row_doubted_share : float
        A longer field on a word's band within ``row_reach`` is part of
        the row when at least this share of its marks (and
        ``doubted_marks``) are rejected or doubted by the recognizer
        (``doubted_confidence``), unless it has a currency sign, a slash or
        a closing "/-" (an amount or date beside the words).
    run_on_marks : int
        A field of at most this many marks, without separators, that runs
        on into letters no field took (``left_out`` writing) is the start of
        a word: ...
    run_on_gap : float
        ... the letter follows the field's last mark by at most
        this many of the field's typical mark heights (the room between the
        letters of one word, less than the space between a number and a
        word) ...
    run_on_height : float
        ... on the field's band, at least this many of its heights tall
        (an x-height letter; not a comma, a dot or a hyphen) ...
    run_on_size : float
        ... and this tall or this wide (a letter, not a speck).
    """

    print_threshold: float = 0.5
    line_weight: float = 0.6
    min_line_marks: int = 3
    line_reach: float = 2.5
    other_threshold: float = 0.7
    max_other_fraction: float = 0.5
    min_joined_fraction: float = 0.6
    joined_other: float = 0.25
    joined_unsure: float = 0.1
    sure_marks: int = 5
    sure_confidence: float = 0.9
    doubted_confidence: float = 0.8
    doubted_marks: int = 3
    doubted_share: float = 0.5
    letter_marks: int = 4
    letter_height: float = 0.7
    letter_reach: float = 0.3
    letter_share: float = 0.15
    letter_confidence: float = 0.9
    large_height: float = 1.8
    large_marks: int = 3
    large_aspect: float = 1.2
    large_confidence: float = 0.95
    huge_height: float = 3.0
    row_piece_marks: int = 2
    row_word_marks: int = 3
    row_reach: float = 10.0
    row_doubted_share: float = 0.34
    run_on_marks: int = 4
    run_on_gap: float = 0.4
    run_on_height: float = 0.45
    run_on_size: float = 0.55


@dataclass(frozen=True, slots=True)
class Marks:
    """The kind of every mark.

    Attributes
    ----------
    kinds : (N,) <U9 ndarray
        One of ``MARK_KINDS`` per mark, after the line-level rules.
    labels : (N,) object ndarray of str
        The classifier's own label before the line-level rules: a kind, or
        ``"sep:<char>"`` for a separator.
    text : (N,) object ndarray of str
        What a separator stands for in ``raw`` (``""`` for other kinds and
        for comb-box ticks).
    print_probability : (N,) float32 ndarray
        Pooled probability that a digit-like mark is printed.
    """

    kinds: np.ndarray
    labels: np.ndarray
    text: np.ndarray
    print_probability: np.ndarray


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------


def _ink_mask(crop: np.ndarray) -> np.ndarray:
    """Binary ink (True) of a grey crop, ink dark on light."""
    if crop.dtype != np.uint8:
        crop = np.clip(crop, 0, 255).astype(np.uint8)
    lo, hi = int(crop.min()), int(crop.max())
    if hi - lo < 32:
        return crop < 128
    t, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return crop <= t


def _glyph_mosaic(inks: Sequence[np.ndarray], margin: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners of the glyphs laid out on shelves of one canvas, and its shape.

    Each glyph takes its box and ``margin`` pixels on every side; the
    tallest glyphs go first and the canvas is about square, so that the
    shelves waste little: every filter runs over all of it.
    """
    heights = np.array([ink.shape[0] for ink in inks]) + 2 * margin
    widths = np.array([ink.shape[1] for ink in inks]) + 2 * margin
    row_width = max(int(widths.max()), int(np.sqrt(float(np.dot(heights, widths)))))
    corners = np.zeros((len(inks), 2), np.int64)
    x = y = shelf = used = 0
    for i in np.argsort(-heights, kind="stable"):
        if x + widths[i] > row_width:
            x, y, shelf = 0, y + shelf, 0
        corners[i] = (y + margin, x + margin)
        x += int(widths[i])
        used = max(used, x)
        shelf = max(shelf, int(heights[i]))
    return corners, np.array([y + shelf, used])


def _outline_features(
    contours: Sequence[np.ndarray],
    holes: np.ndarray,
    owner: np.ndarray,
    area: np.ndarray,
    heights: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill the outline columns of ``out`` (straight, roughness, solidity, parts, holes).

    ``contours`` are every glyph's outlines (cv2.findContours, every point
    kept) on the canvas whose pixels ``owner`` gives to glyphs; ``holes``
    marks the inner outlines; ``area`` and ``heights`` are per glyph.
    """
    n = len(area)
    lengths = np.array([len(c) for c in contours])
    points = np.concatenate(contours)[:, 0, :]
    glyph = owner[points[lengths.cumsum() - lengths, 1], points[lengths.cumsum() - lengths, 0]]
    # Closed outlines: each point's successor, the last one's is the first.
    which = np.repeat(np.arange(len(contours)), lengths)
    ends = lengths.cumsum()
    following = np.arange(1, len(points) + 1)
    following[ends - 1] = ends - lengths
    step = (points[following] - points).astype(np.float64)
    cross = points[:, 0] * step[:, 1] - step[:, 0] * points[:, 1]
    outline_area = np.abs(np.bincount(which, weights=cross)) / 2.0
    length = np.bincount(which, weights=np.hypot(step[:, 0], step[:, 1]).astype(np.float32))
    # Outlines of fewer than four points are specks: neither parts nor measured.
    kept = lengths >= 4
    big = kept & (outline_area >= 0.02 * area[glyph])
    out[:, 9] = np.bincount(glyph[big & ~holes], minlength=n)
    out[:, 10] = np.bincount(glyph[big & holes], minlength=n)
    perimeter = np.bincount(glyph[kept], weights=length[kept], minlength=n)
    tolerance = np.maximum(1.0, 0.025 * heights[glyph])
    approx = [cv2.approxPolyDP(contours[k], tolerance[k], True) for k in np.flatnonzero(kept)]
    if approx:
        sizes = np.array([len(a) for a in approx])
        corners = np.concatenate(approx)[:, 0, :].astype(np.float32)
        ends = sizes.cumsum()
        following = np.arange(1, len(corners) + 1)
        following[ends - 1] = ends - sizes
        edge = np.hypot(*(corners[following] - corners).T)
        owners = np.repeat(glyph[kept], sizes)
        simplified = np.bincount(owners, weights=edge, minlength=n)
        long_edge = edge >= 0.25 * heights[owners]
        straight = np.bincount(owners[long_edge], weights=edge[long_edge], minlength=n)
        some = perimeter > 0
        out[:, 6] = np.where(some, straight / np.maximum(simplified, 1e-6), 0.0)
        out[:, 7] = np.where(some, perimeter / np.maximum(simplified, 1e-6), 0.0)
    outer = ~holes[which]
    order = np.argsort(glyph[which[outer]], kind="stable")
    hull_points = points[outer][order]
    bounds = np.concatenate([[0], np.bincount(glyph[which[outer]], minlength=n).cumsum()])
    for i in np.flatnonzero(area > 0):
        hull = cv2.convexHull(hull_points[bounds[i] : bounds[i + 1]])
        out[i, 8] = area[i] / max(cv2.contourArea(hull), 1.0)


def _glyph_features(inks: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Scale-free measurements of binary glyphs and their stroke widths in pixels, all at once.

    Glyphs larger than ``_MAX_SIDE`` pixels are measured on a reduced copy:
    the measurements are ratios, and it keeps a page's marks cheap. The
    glyphs are laid out side by side on one canvas, apart, and every
    filter runs once over it: a glyph's pixels see what they would see on
    their own (zeros around it for the distance transform and the
    contours, its mirrored edge for the blur and the gradients).

    Parameters
    ----------
    inks : sequence of (h, w) bool ndarray
        Each glyph's ink (True).

    Returns
    -------
    features : (N, len(_GLYPH_FEATURES)) float32 ndarray
    strokes : (N,) float64 ndarray
        Each glyph's median stroke width in its own pixels.
    """
    n = len(inks)
    out = np.zeros((n, len(_GLYPH_FEATURES)), np.float32)
    strokes = np.zeros(n, np.float64)
    if n == 0:
        return out, strokes
    glyphs: list[np.ndarray] = []
    scales = np.ones(n, np.float64)
    for i, ink in enumerate(inks):
        h0, w0 = ink.shape
        out[i, 0] = w0 / max(h0, 1)
        scales[i] = min(1.0, _MAX_SIDE / max(h0, w0))
        if scales[i] < 1.0:
            size = (max(1, round(w0 * scales[i])), max(1, round(h0 * scales[i])))
            ink = cv2.resize(ink.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.5
        glyphs.append(ink.astype(np.uint8))
    hs = np.array([g.shape[0] for g in glyphs], np.float64)
    ws = np.array([g.shape[1] for g in glyphs], np.float64)

    # Canvases: ink on zeros, ink with its edge mirrored two pixels out (as
    # cv2's filters extend a lone glyph), and each glyph's distance transform;
    # ``owner`` tells whose pixel. The distance transform is taken glyph by
    # glyph: OpenCV's (IPP's) sums its steps in floats, in an order that
    # depends on the image around, and the ridge below compares equal values.
    margin = 2
    corners, shape = _glyph_mosaic(glyphs, margin)
    canvas = np.zeros(shape, np.uint8)
    mirrored = np.zeros(shape, np.float32)
    dist = np.zeros(shape, np.float32)
    owner = np.full(shape, n, np.int32)
    for i, (g, (y, x)) in enumerate(zip(glyphs, corners, strict=True)):
        h, w = g.shape
        canvas[y : y + h, x : x + w] = g
        owner[y : y + h, x : x + w] = i
        mirrored[y - margin : y + h + margin, x - margin : x + w + margin] = cv2.copyMakeBorder(
            g, margin, margin, margin, margin, cv2.BORDER_REFLECT_101
        )
        padded = cv2.copyMakeBorder(g, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        dist[y - 1 : y + h + 1, x - 1 : x + w + 1] = cv2.distanceTransform(padded, cv2.DIST_L2, 3)
    inside = np.flatnonzero(owner.ravel() < n)
    ink = canvas.astype(bool)
    ink_ys, ink_xs = np.nonzero(ink)
    ink_owner = owner[ink_ys, ink_xs]
    area = np.bincount(ink_owner, minlength=n)[:n]
    out[:, 1] = area / np.maximum(hs * ws, 1)
    has_ink = area > 0

    # Stroke width: twice the distance transform along its ridge (its local
    # maxima), which runs down the middle of every stroke.
    ridge = ink & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    counted = np.bincount(owner[ridge], minlength=n)[:n]
    if (has_ink & (counted == 0)).any():  # no ridge: every ink pixel
        ridge |= ink & (counted == 0)[np.minimum(owner, n - 1)]
    who = owner[ridge]
    values = 2.0 * dist[ridge]
    order = np.lexsort((values, who))
    values, who = values[order], who[order]
    count = np.bincount(who, minlength=n)[:n]
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    last = np.maximum(count - 1, 0)
    at = np.minimum(start + last // 2, len(values) - 1)
    stroke = np.where(count > 0, values[at], 0.0).astype(np.float64)
    out[:, 2] = stroke / np.maximum(hs, 1)
    total = np.bincount(who, weights=values, minlength=n)[:n]
    mean = total / np.maximum(count, 1)
    squares = np.bincount(who, weights=(values - mean[who]) ** 2, minlength=n)[:n]
    std = np.sqrt(squares / np.maximum(count, 1))
    out[:, 3] = np.where(mean > 0, std / np.where(mean > 0, mean, 1.0), 0.0)
    high = values[np.minimum(start + (9 * last) // 10, len(values) - 1)]
    low = values[np.minimum(start + last // 10, len(values) - 1)]
    out[:, 4] = np.where(count > 0, (high - low) / np.maximum(stroke, 1.0), 0.0)

    # Edge orientation: print has edges exactly along the axes.
    soft = cv2.GaussianBlur(mirrored, (3, 3), 0.7)
    gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3).ravel().take(inside)
    gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3).ravel().take(inside)
    # Within 8 degrees of an axis: the smaller component under tan(8) of the larger.
    ax, ay = np.abs(gx), np.abs(gy)
    near_axis = np.minimum(ax, ay) < _TAN_8_DEGREES * np.maximum(ax, ay)
    # Per glyph, the gradient off the axes and along them.
    edges = np.bincount(
        2 * owner.ravel().take(inside) + near_axis,
        weights=cv2.magnitude(gx, gy).ravel(),
        minlength=2 * n,
    ).reshape(n, 2)
    total = edges.sum(axis=1)
    out[:, 5] = np.where(total > 0, edges[:, 1] / np.where(total > 0, total, 1.0), 0.0)

    # Outlines: parts, holes, straightness and roughness; the convex hull of
    # the outer outlines is the hull of the ink.
    contours, hierarchy = cv2.findContours(canvas, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if contours:
        _outline_features(contours, hierarchy[0, :, 3] >= 0, owner, area, hs, out)

    # Principal axis of the ink: a slash leans further than most ones, a
    # hyphen lies flat; elongation tells strokes from round shapes. Raw
    # moments in each glyph's own coordinates, central ones as cv2.moments.
    who = ink_owner
    xs = (ink_xs - corners[who, 1]).astype(np.float64)
    ys = (ink_ys - corners[who, 0]).astype(np.float64)
    m00 = area.astype(np.float64)
    m10, m01 = (np.bincount(who, weights=v, minlength=n)[:n] for v in (xs, ys))
    m20, m11, m02 = (
        np.bincount(who, weights=v, minlength=n)[:n] for v in (xs * xs, xs * ys, ys * ys)
    )
    inv = np.divide(1.0, m00, out=np.zeros(n), where=m00 > 0)
    cx, cy = m10 * inv, m01 * inv
    safe_m00 = np.where(m00 > 0, m00, 1.0)
    mu20, mu11, mu02 = (
        (m20 - m10 * cx) / safe_m00,
        (m11 - m10 * cy) / safe_m00,
        (m02 - m01 * cy) / safe_m00,
    )
    spread = np.sqrt(((mu20 - mu02) / 2) ** 2 + mu11**2)
    leaning = has_ink & (spread > 0)
    safe = np.where(leaning, spread, 1.0)
    out[:, 11] = np.where(leaning, (mu02 - mu20) / (2 * safe), 0.0)
    out[:, 12] = np.where(leaning, mu11 / safe, 0.0)
    major, minor = (mu20 + mu02) / 2 + spread, (mu20 + mu02) / 2 - spread
    out[:, 13] = np.where(has_ink, np.sqrt(np.maximum(minor, 0.0) / np.maximum(major, 1e-9)), 0.0)
    out[~has_ink, 2:] = 0.0
    strokes[:] = np.where(has_ink, stroke / scales, 0.0)
    return out, strokes


def _shape_stack(inks: Sequence[np.ndarray]) -> np.ndarray:
    """Each glyph fitted (aspect kept) and centred in a 24x24 float image."""
    size = _SHAPE_SIZE
    box = size - 4
    stack = np.zeros((len(inks), size, size), np.float32)
    for i, ink in enumerate(inks):
        h, w = ink.shape
        scale = box / max(h, w, 1)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        small = cv2.resize(ink.astype(np.float32), (nw, nh), interpolation=cv2.INTER_AREA)
        y0, x0 = (size - nh) // 2, (size - nw) // 2
        stack[i, y0 : y0 + nh, x0 : x0 + nw] = small
    return stack


def _shape_features(stack: np.ndarray) -> np.ndarray:
    """Gradient-orientation histograms of a (N, 24, 24) stack, all at once.

    Unsigned orientations in 8 bins over 3x3 cells, square-rooted and
    L2-normalized per glyph: a coarse HOG that does not depend on the
    recognizer's normalization.
    """
    n = len(stack)
    gy, gx = np.gradient(stack, axis=(1, 2))
    mag = np.hypot(gx, gy)
    angle = np.arctan2(gy, gx) % np.pi
    bins = np.minimum((angle / np.pi * _SHAPE_BINS).astype(np.int64), _SHAPE_BINS - 1)
    cell = _SHAPE_SIZE // _SHAPE_CELLS
    rows = np.arange(_SHAPE_SIZE) // cell
    cell_index = rows[:, None] * _SHAPE_CELLS + rows[None, :]
    flat = (cell_index[None] * _SHAPE_BINS + bins).reshape(n, -1)
    width = _SHAPE_CELLS * _SHAPE_CELLS * _SHAPE_BINS
    where = (flat + width * np.arange(n)[:, None]).ravel()
    hist = np.bincount(where, weights=mag.ravel(), minlength=n * width).reshape(n, width)
    hist = np.sqrt(hist.astype(np.float32))
    norm = np.linalg.norm(hist, axis=1, keepdims=True)
    return hist / np.maximum(norm, 1e-6)


def _robust_dev(values: np.ndarray, scale: float) -> float:
    """Median absolute deviation from the median, relative to ``scale``."""
    if len(values) < 2 or scale <= 0:
        return 0.0
    return float(np.median(np.abs(values - np.median(values)))) / scale


def _context_features(
    boxes: np.ndarray, strokes: np.ndarray, leans: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """Size, position and lean of each mark against its group, and the group's regularity.

    ``group_pitch_cv`` (the spacing of the group's typical, taller-half
    glyphs) is NaN where fewer than three of them leave no spacing to
    measure: short groups are neither even nor uneven.

    ``leans`` is each mark's principal-axis angle from upright in radians
    (negative leaning right), NaN for marks too round to have one: a slash
    leans further than the writer's ones and sevens, whatever the slant.
    """
    n = len(boxes)
    out = np.zeros((n, len(_CONTEXT_FEATURES)), np.float32)
    x, y, w, h = (boxes[:, i].astype(np.float64) for i in range(4))
    bottom, top, centre = y + h, y, y + h / 2
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        # The typical glyph of the group: the median of its taller half, so
        # that commas and hyphens do not set the scale.
        tall = idx[h[idx] >= np.median(h[idx])]
        mh, mw = float(np.median(h[tall])), float(np.median(w[tall]))
        mb, mc = float(np.median(bottom[tall])), float(np.median(centre[tall]))
        ms = float(np.median(strokes[tall]))
        out[idx, 0] = h[idx] / mh
        out[idx, 1] = w[idx] / max(mw, 1.0)
        out[idx, 2] = (bottom[idx] - mb) / mh
        out[idx, 3] = (centre[idx] - mc) / mh
        out[idx, 4] = strokes[idx] / ms if ms > 0 else 1.0
        out[idx, 5] = min(len(idx), 20)
        out[idx, 6] = _robust_dev(h[tall], mh)
        out[idx, 7] = _robust_dev(bottom[tall], mh)
        out[idx, 8] = _robust_dev(top[tall], mh)
        out[idx, 9] = _robust_dev(w[tall], mh)
        # Spacing needs two steps between typical glyphs at least; with fewer
        # it is unknown (NaN, which the trees send their own way), not even.
        if len(tall) >= 3:
            cx = np.sort(x[tall] + w[tall] / 2)
            pitch = np.diff(cx)
            out[idx, 10] = float(pitch.std() / max(pitch.mean(), 1.0))
        else:
            out[idx, 10] = np.nan
        out[idx, 11] = _robust_dev(strokes[tall], ms) if ms > 0 else 0.0
        straight = idx[np.isfinite(leans[idx])]
        if len(straight) >= 2:
            out[straight, 12] = leans[straight] - float(np.median(leans[straight]))
    return out


def _check_inputs(crops: Sequence[np.ndarray], boxes: np.ndarray, groups: np.ndarray) -> None:
    n = len(crops)
    if boxes.shape != (n, 4):
        raise ValueError(
            f"boxes has shape {boxes.shape}; expected ({n}, 4), one (x, y, w, h) per crop"
        )
    if groups.shape != (n,):
        raise ValueError(f"groups has shape {groups.shape}; expected ({n},), one group id per crop")
    if n and (boxes[:, 2:] <= 0).any():
        raise ValueError("every box needs a positive width and height")
    for i, crop in enumerate(crops):
        if crop.ndim != 2 or crop.size == 0:
            raise ValueError(
                f"crop {i} has shape {crop.shape}; expected a non-empty (h, w) grey image"
            )


def measure_marks(crops: Sequence[np.ndarray], boxes: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Feature vectors of marks, glyph-level and against their group.

    Parameters
    ----------
    crops : sequence of (h, w) uint8 ndarray
        Each mark at the page's native resolution, ink dark on light (grey or
        already binarized).
    boxes : (N, 4) int ndarray
        ``(x, y, w, h)`` of each mark in page coordinates.
    groups : (N,) int ndarray
        Group (field or line) id of each mark; marks of one group are
        compared with each other.

    Returns
    -------
    features : (N, len(FEATURE_NAMES)) float32 ndarray
        Finite, but for ``group_pitch_cv`` in groups too short to space
        (NaN: unknown).

    Raises
    ------
    ValueError
        The shapes of ``crops``, ``boxes`` and ``groups`` disagree, or a box or
        crop is empty.
    """
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    groups = np.asarray(groups, dtype=np.int64).reshape(-1)
    _check_inputs(crops, boxes, groups)
    n = len(crops)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32)
    inks = [_ink_mask(np.asarray(c)) for c in crops]
    glyph, strokes = _glyph_features(inks)
    upright = glyph[:, _GLYPH_FEATURES.index("axis_upright")]
    lean = glyph[:, _GLYPH_FEATURES.index("axis_lean")]
    elongated = glyph[:, _GLYPH_FEATURES.index("elongation")] < 0.5
    leans = np.where(elongated, 0.5 * np.arctan2(lean, upright), np.nan)
    context = _context_features(boxes, strokes, leans, groups)
    shape = _shape_features(_shape_stack(inks))
    return np.concatenate([glyph, context, shape], axis=1)


# ---------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------


def check_mark_classifier(extra: Any) -> Mapping[str, Any]:
    """Check that a model's ``extras["marks"]`` is a usable marks classifier.

    Raises
    ------
    ModelError
        It is not a mapping with a supported format version, the estimator is
        missing, or it was trained on other features or labels.
    """
    if not isinstance(extra, Mapping) or not hasattr(extra.get("estimator"), "predict_proba"):
        raise ModelError(
            "the model's marks classifier is missing or malformed; "
            "rebuild the model with `digitd train`"
        )
    version = extra.get("format_version")
    if version != MARKS_FORMAT_VERSION:
        raise ModelError(
            f"the model's marks classifier has format version {version!r}; this digitd "
            f"reads version {MARKS_FORMAT_VERSION}: rebuild the model with `digitd train`"
        )
    if tuple(extra.get("features", ())) != FEATURE_NAMES:
        raise ModelError(
            "the model's marks classifier was trained on other features; "
            "rebuild the model with `digitd train`"
        )
    unknown = set(extra["estimator"].classes_) - set(MARK_KINDS)
    if "separators" in extra:
        unknown |= set(extra["separators"].classes_) - set(SEPARATOR_TEXT)
    if unknown:
        raise ModelError(
            f"the model's marks classifier predicts unknown labels {sorted(unknown)}; "
            "rebuild the model with `digitd train`"
        )
    return extra


def _context_groups(boxes: np.ndarray, groups: np.ndarray, *, reach: float) -> np.ndarray:
    """Join groups that continue each other on one text line.

    Two groups join when their typical marks are of similar height, their
    middles lie on one band, and the horizontal gap between them is below
    ``reach`` typical heights: the pieces of a word or a name that
    segmentation cut into separate fields become one context again.

    Returns
    -------
    context : (N,) int64 ndarray
        A context id per mark.
    """
    ids = np.unique(groups)
    x0 = np.array([boxes[groups == g, 0].min() for g in ids], np.float64)
    x1 = np.array([(boxes[groups == g, 0] + boxes[groups == g, 2]).max() for g in ids], np.float64)
    heights = np.array([np.median(boxes[groups == g, 3]) for g in ids], np.float64)
    mids = np.array(
        [np.median(boxes[groups == g, 1] + boxes[groups == g, 3] / 2) for g in ids], np.float64
    )
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            h = max(heights[a], heights[b])
            gap = max(x0[a], x0[b]) - min(x1[a], x1[b])
            if (
                min(heights[a], heights[b]) >= 0.5 * h
                and abs(mids[a] - mids[b]) <= 0.5 * h
                and gap <= reach * h
            ):
                parent[root(a)] = root(b)
    lookup = {g: root(i) for i, g in enumerate(ids)}
    return np.array([lookup[g] for g in groups], np.int64)


def _pool(
    values: np.ndarray, groups: np.ndarray, members: np.ndarray, params: MarkParams
) -> np.ndarray:
    """Blend each member's value with its group's mean (groups of enough members)."""
    pooled = values.astype(np.float64).copy()
    for g in np.unique(groups):
        idx = np.flatnonzero((groups == g) & members)
        if len(idx) >= params.min_line_marks:
            line = float(values[idx].mean())
            pooled[idx] = (1 - params.line_weight) * values[idx] + params.line_weight * line
    return pooled


def _is_lone_stroke(features: np.ndarray) -> np.ndarray:
    """Marks that are one thin stroke without loops: ones, slashes, ticks."""
    f = {name: features[:, FEATURE_NAMES.index(name)] for name in ("n_holes", "elongation")}
    return (f["n_holes"] == 0) & (f["elongation"] < 0.3)


def _slash_before_final_hyphen(
    kinds: np.ndarray,
    labels: np.ndarray,
    features: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
) -> None:
    """Read a lone stroke right before a field's closing hyphen as the slash of "/-".

    An Indian amount ends in "/-"; written as two strokes, its slash is a
    lone stroke the classifier may take for a one. No amount ends in a one
    and a hyphen, so the pair decides. Updates ``kinds`` and ``labels`` in
    place.
    """
    stroke = _is_lone_stroke(features)
    for g in np.unique(groups):
        idx = np.flatnonzero((groups == g) & (kinds != "other"))
        if len(idx) < 3:
            continue
        idx = idx[np.argsort(boxes[idx, 0] + boxes[idx, 2] / 2.0, kind="stable")]
        last, before = idx[-1], idx[-2]
        if (
            kinds[last] == "separator"
            and labels[last] == "sep:-"
            and kinds[before] == "hand"
            and stroke[before]
        ):
            kinds[before] = "separator"
            labels[before] = "sep:/"


def _joined_fraction(boxes: np.ndarray) -> float:
    """Fraction of a field's neighbouring marks (left to right) whose boxes touch or overlap.

    Digits are written one at a time, with a little paper between them;
    the letters of a joined-up word are one stroke that segmentation cuts
    into pieces whose boxes meet. One pixel of slack absorbs the rounding
    of boxes mapped back to page coordinates.
    """
    if len(boxes) < 2:
        return 0.0
    order = np.argsort(boxes[:, 0], kind="stable")
    x0 = boxes[order, 0]
    x1 = boxes[order, 0] + boxes[order, 2]
    gaps = x0[1:] - x1[:-1]
    return float(np.mean(gaps <= 1))


def _drop_joined_writing(
    kinds: np.ndarray,
    p_other: np.ndarray,
    unsure: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
    params: MarkParams,
) -> None:
    """Drop fields that are joined-up writing with doubtful marks: a word, not digits.

    A payee name or a word whose neighbours were already dropped as text
    has no line context left; its pieces touch each other, which separate
    handwritten digits seldom do across a whole field, and the classifier
    and the recognizer both doubt them. Updates ``kinds`` in place.
    """
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        marks = idx[kinds[idx] != "separator"]
        if len(marks) < 2 or not np.isin(kinds[marks], ("hand", "printed")).any():
            continue
        if (
            _joined_fraction(boxes[idx]) >= params.min_joined_fraction
            and float(p_other[marks].mean()) >= params.joined_other
            and float(unsure[marks].mean()) >= params.joined_unsure
        ):
            kinds[idx] = "other"


def _doubted(marks: np.ndarray, confidences: np.ndarray, unread: np.ndarray, limit: float) -> int:
    """How many of ``marks`` the recognizer rejects or reads with less than ``limit``."""
    read = marks[~unread[marks]]
    return int(unread[marks].sum()) + int((confidences[read] < limit).sum())


def _drop_doubted_fields(
    kinds: np.ndarray,
    confidences: np.ndarray,
    unread: np.ndarray,
    groups: np.ndarray,
    params: MarkParams,
) -> None:
    """Drop fields whose marks the recognizer reads, but doubts: the pieces of a word.

    On real paper the recognizer's reject class does not know the writer's
    letters, and most pieces of a handwritten word come out as digits. It
    seldom reads them surely, where it reads a row of digits surely but for
    one or two badly written ones. A field is judged on the marks the
    recognizer accepted that are not separators; and, where its reject
    class knows some letters, on the share of its marks rejected or doubted
    (``doubted_share``): a word of capitals read mostly surely has letters
    the recognizer rejects too. Updates ``kinds`` in place.
    """
    limit = params.doubted_confidence
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        marks = idx[kinds[idx] != "separator"]
        read = marks[~unread[marks]]
        if len(read) < params.doubted_marks or not np.isin(kinds[read], ("hand", "printed")).any():
            continue
        conf = confidences[read]
        if float(conf.mean()) < limit and int((conf < limit).sum()) >= 2:
            kinds[idx] = "other"
            continue
        # A word of capitals: the recognizer rejects some letters outright and
        # doubts others. A number has at most a damaged digit or two.
        doubted = _doubted(marks, confidences, unread, limit)
        if doubted >= params.doubted_marks and doubted >= params.doubted_share * len(marks):
            kinds[idx] = "other"


def _letter_heights(boxes: np.ndarray, params: MarkParams) -> bool:
    """Whether marks' (n, 4) boxes stand at the heights of letters rather than digits.

    Digits share one height, and their tops and bottoms lie along the
    line. A word's letters are x-height letters beside taller ascenders
    and capitals, and some reach above or below the band (ascenders,
    descenders). The line's slope is taken out first (the median slope
    between the bottoms of every pair of marks).
    """
    x = boxes[:, 0] + boxes[:, 2] / 2.0
    top = boxes[:, 1].astype(np.float64)
    h = boxes[:, 3].astype(np.float64)
    bottom = top + h
    if np.percentile(h, 25) >= params.letter_height * np.percentile(h, 90):
        return False
    i, j = np.triu_indices(len(boxes), 1)
    run = x[j] - x[i]
    apart = np.abs(run) >= 1.0
    slope = float(np.median((bottom[j] - bottom[i])[apart] / run[apart])) if apart.any() else 0.0
    typical = float(np.median(h))
    tops = top - slope * x
    bottoms = bottom - slope * x
    above = tops - np.median(tops) < -params.letter_reach * typical
    below = bottoms - np.median(bottoms) > params.letter_reach * typical
    return float(np.mean(above | below)) >= params.letter_share


def _drop_letter_lines(
    kinds: np.ndarray,
    confidences: np.ndarray,
    unread: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
    context: np.ndarray,
    params: MarkParams,
) -> None:
    """Drop lines written at the heights of letters that the recognizer doubts: words.

    A handwritten amount in words or a payee's name, cut into digit-sized
    pieces, can be read as digits; its letters stand at two heights and
    reach above and below the line (see ``_letter_heights``). With the
    recognizer in doubt over the line, its fields are dropped. Fields of
    three or more marks read surely (an amount written beside the words)
    are neither evidence nor dropped. Updates ``kinds`` in place.
    """
    digit_like = kinds != "separator"
    sure = np.zeros(len(kinds), bool)
    for g in np.unique(groups):
        own = np.flatnonzero((groups == g) & digit_like & ~unread)
        if len(own) >= 3 and float(confidences[own].min()) >= params.sure_confidence:
            sure[groups == g] = True
    for c in np.unique(context):
        idx = np.flatnonzero((context == c) & ~sure)
        marks = idx[digit_like[idx]]
        read = marks[~unread[marks]]
        if len(marks) < params.letter_marks or not len(read):
            continue
        if not np.isin(kinds[marks], ("hand", "printed")).any():
            continue
        conf = confidences[read]
        if (
            float(conf.mean()) >= params.letter_confidence
            or not (conf < params.doubted_confidence).any()
        ):
            continue
        if _letter_heights(boxes[marks], params):
            kinds[idx] = "other"


def _drop_large_pieces(
    kinds: np.ndarray,
    confidences: np.ndarray,
    unread: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
    params: MarkParams,
) -> None:
    """Drop short fields of marks far taller than the page's digits: a signature.

    A signature's pieces are about twice the height of the digits written on
    the same page, joined up into wide strokes, and the recognizer reads
    them as "66" or "82" without being sure (or surely, when a piece is far
    taller still: ``huge_height``). The page's digit height is the
    median height of the handwritten digits read surely (``sure_confidence``)
    in the other fields; a page with fewer than three of them has no scale
    to judge by. Updates ``kinds`` in place.
    """
    hand = (kinds == "hand") & ~unread & (confidences >= params.sure_confidence)
    heights = boxes[:, 3].astype(np.float64)
    aspect = boxes[:, 2] / np.maximum(heights, 1.0)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        marks = idx[kinds[idx] != "separator"]
        if not 1 <= len(marks) <= params.large_marks or not (kinds[marks] == "hand").any():
            continue
        reference = hand & (groups != g)
        if reference.sum() < 3:
            continue
        scale = float(np.median(heights[reference]))
        typical = float(np.median(heights[marks]))
        if typical < params.large_height * scale:
            continue
        doubted = unread[marks] | (confidences[marks] < params.large_confidence)
        huge = len(marks) == len(idx) and typical >= params.huge_height * scale
        if huge or (aspect[marks] >= params.large_aspect).any() or doubted.any():
            kinds[idx] = "other"


def _drop_word_row_pieces(
    kinds: np.ndarray,
    confidences: np.ndarray,
    unread: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
    params: MarkParams,
) -> None:
    """Drop one or two marks left over from a row of words: a letter, not a number.

    A handwritten line of words loses most of its marks to the rules above
    (and to segmentation); a letter it leaves behind, a round "o" or a
    descender cut off its word, is a field of one or two marks the
    recognizer may read surely as 0 or 7. Such a field standing inside a
    word's span, or between words on both sides, is part of the row. With
    words on one side only it may be a short amount closing the row (the
    cheque amount box after the amount in words), so it is dropped only
    when the recognizer is unsure of it. A field with a separator (a
    currency sign, "/-", a date's slash) is an amount or a date, and stays.
    Heights and gaps are the page's own, so the rule holds at any scale.
    Updates ``kinds`` in place.
    """
    spans = _word_spans(kinds, boxes, groups, params)
    if not len(spans):
        return
    digit_like = kinds != "separator"
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        marks = idx[digit_like[idx]]
        if (
            len(marks) != len(idx)
            or len(marks) > params.row_piece_marks
            or not np.isin(kinds[marks], ("hand", "printed")).any()
        ):
            continue
        inside, left, right = _beside_words(boxes[idx], spans, params)
        unsure = (
            bool(unread[marks].any()) or float(confidences[marks].min()) < params.sure_confidence
        )
        if inside or (left and right) or ((left or right) and unsure):
            kinds[idx] = "other"


def _word_spans(
    kinds: np.ndarray, boxes: np.ndarray, groups: np.ndarray, params: MarkParams
) -> np.ndarray:
    """(W, 5) float64 ``(x0, x1, y0, y1, typical height)`` of the fields dropped whole as words."""
    x0, y0 = boxes[:, 0].astype(np.float64), boxes[:, 1].astype(np.float64)
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    spans = [
        (x0[w].min(), x1[w].max(), y0[w].min(), y1[w].max(), np.median(boxes[w, 3]))
        for g in np.unique(groups)
        if len(w := np.flatnonzero(groups == g)) >= params.row_word_marks
        and (kinds[w] == "other").all()
    ]
    return np.array(spans, np.float64).reshape(-1, 5)


def _beside_words(
    boxes: np.ndarray, spans: np.ndarray, params: MarkParams
) -> tuple[bool, bool, bool]:
    """Whether a field's (n, 4) marks lie inside a word's span, or have words on their band
    within ``row_reach`` to the left, or to the right."""
    a0 = float(boxes[:, 0].min())
    a1 = float((boxes[:, 0] + boxes[:, 2]).max())
    b0 = float(boxes[:, 1].min())
    b1 = float((boxes[:, 1] + boxes[:, 3]).max())
    overlap = np.minimum(b1, spans[:, 3]) - np.maximum(b0, spans[:, 2])
    band = overlap >= 0.5 * np.minimum(b1 - b0, spans[:, 3] - spans[:, 2])
    reach = params.row_reach * spans[:, 4]
    inside = band & (spans[:, 0] < a1) & (spans[:, 1] > a0)
    left = band & (spans[:, 1] <= a0) & (a0 - spans[:, 1] <= reach)
    right = band & (spans[:, 0] >= a1) & (spans[:, 0] - a1 <= reach)
    return bool(inside.any()), bool(left.any()), bool(right.any())


def _drop_word_row_fields(
    kinds: np.ndarray,
    labels: np.ndarray,
    confidences: np.ndarray,
    unread: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
    params: MarkParams,
) -> None:
    """Drop longer fields on a row of words whose marks the recognizer often doubts.

    A line of handwriting ("ESTABLISH JUSTICE INSURE ...") is cut into
    fields; most are dropped as words, but one whose letters happen to read
    as digits stays. On the band of a word within ``row_reach``, a field of
    which at least ``doubted_marks`` marks, and ``row_doubted_share`` of
    them, are rejected or read with less than ``doubted_confidence`` is
    part of the row. An amount or date written on a row of words (the
    amount box after the amount in words) carries a currency sign, a slash
    or a closing "/-", and stays. Updates ``kinds`` in place.
    """
    spans = _word_spans(kinds, boxes, groups, params)
    if not len(spans):
        return
    keeps = {"sep:/", "sep:₹", "sep:$", "sep:€", "sep:£"}
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        marks = idx[kinds[idx] != "separator"]
        if len(marks) <= params.row_piece_marks or not (kinds[marks] == "hand").any():
            continue
        order = idx[np.argsort(boxes[idx, 0], kind="stable")]
        if any(str(labels[k]) in keeps for k in idx) or str(labels[order[-1]]) == "sep:/-":
            continue
        doubted = _doubted(marks, confidences, unread, params.doubted_confidence)
        if doubted < params.doubted_marks or doubted < params.row_doubted_share * len(marks):
            continue
        inside, left, right = _beside_words(boxes[idx], spans, params)
        if inside or left or right:
            kinds[idx] = "other"


def _drop_run_on_words(
    kinds: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
    left_out: np.ndarray,
    params: MarkParams,
) -> None:
    """Drop short fields that run on into letters: the capitals of a word.

    A name written in a box of its own ("Anita Desai", "Ninety") has no
    other words on its row; segmentation keeps its capital and tall letters
    as digit candidates and leaves the x-height letters after them out (too
    small for digits, or dropped as a word). Those letters then follow the
    field's last mark closer than the space that parts a number from a
    word. What follows a number is its separators (a comma, a point, a
    hyphen: too small to be letters), a word a space away ("only"), or
    nothing. Only what follows counts: before a number stand its currency
    sign and labels ("Rs", "No."), as close as letters. Sizes and gaps are
    in the field's own mark height, so the rule holds at any scale. A field
    with a separator (an amount's "/-", a date's slashes) is left alone.
    Updates ``kinds`` in place.
    """
    ink = np.asarray(left_out, np.float64).reshape(-1, 4)
    if not len(ink):
        return
    ix0, iy0, iw, ih = ink.T
    iy1 = iy0 + ih
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        if (
            (kinds[idx] == "separator").any()
            or len(idx) > params.run_on_marks
            or not (kinds[idx] == "hand").any()
        ):
            continue
        end = float((boxes[idx, 0] + boxes[idx, 2]).max())
        y0 = float(boxes[idx, 1].min())
        y1 = float((boxes[idx, 1] + boxes[idx, 3]).max())
        height = float(np.median(boxes[idx, 3]))
        band = np.minimum(iy1, y1) - np.maximum(iy0, y0) >= 0.5 * ih
        letter = (ih >= params.run_on_height * height) & (
            np.maximum(iw, ih) >= params.run_on_size * height
        )
        after = (ix0 >= end) & (ix0 - end <= params.run_on_gap * height)
        if (band & letter & after).any():
            kinds[idx] = "other"


def _keep_sure_fields(
    kinds: np.ndarray,
    own: np.ndarray,
    unread: np.ndarray,
    confidences: np.ndarray,
    groups: np.ndarray,
    params: MarkParams,
) -> np.ndarray:
    """Give back fields the line rules dropped whole when the recognizer is sure of every mark.

    A handwritten number whose digits wander in size and baseline can look
    like the pieces of a word to the classifier's line context; letters
    seldom read as digits, and five or more of them each read surely is
    evidence the context does not outweigh. Each mark takes the kind the
    classifier itself gave it among hand, printed and separator (``own``);
    print is pooled afterwards as for any field. Updates ``kinds`` in
    place.

    Returns
    -------
    kept : (N,) bool ndarray
        The marks given back.
    """
    kept = np.zeros(len(kinds), bool)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        if (
            len(idx) >= params.sure_marks
            and (kinds[idx] == "other").all()
            and not unread[idx].any()
            and float(confidences[idx].min()) >= params.sure_confidence
        ):
            kinds[idx] = own[idx]
            kept[idx] = True
    return kept


def _join_lone_kinds(kinds: np.ndarray, boxes: np.ndarray, groups: np.ndarray) -> None:
    """Make a lone printed digit in a handwritten field handwriting, in place.

    Print comes in runs: a pre-printed label or year prefix is several
    glyphs at a field's end. In a field of three or more digits, most of
    them handwritten, a single printed mark with handwriting on both sides,
    or on its one side at an end, is a bold or unusually even digit of the
    writer's, not a change of hand. The other way round is left alone: a
    handwritten mark in a mostly printed field may be all that is left of a
    handwritten field the classifier took for print, and would be lost.
    """
    for g in np.unique(groups):
        idx = np.flatnonzero((groups == g) & np.isin(kinds, ("hand", "printed")))
        if len(idx) < 3:
            continue
        idx = idx[np.argsort(boxes[idx, 0], kind="stable")]
        printed = kinds[idx] == "printed"
        if not printed.any() or 2 * int(printed.sum()) >= len(idx):
            continue
        before = np.concatenate([[False], printed[:-1]])
        after = np.concatenate([printed[1:], [False]])
        kinds[idx[printed & ~before & ~after]] = "hand"


def _slash_inside_date(
    kinds: np.ndarray,
    labels: np.ndarray,
    features: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
) -> None:
    """Read a lone stroke that splits a date's parts as the date's other slash.

    A date is written ``DD/MM/YYYY`` (``DD/MM/YY``, ``YYYY/MM/DD``): parts of
    2 or 4 digits. When one slash is recognised with 2 or 4 marks on one
    side, the 5 or 7 marks on the other side are two parts only if the mark
    after the first 2 or 4 of them is the other slash: no part of a date has
    five digits. A lone stroke there is a slash, not a one. An amount's
    trailing "/" has nothing after it and is left alone. Updates ``kinds``
    and ``labels`` in place.
    """
    stroke = _is_lone_stroke(features)
    for g in np.unique(groups):
        idx = np.flatnonzero((groups == g) & (kinds != "other"))
        idx = idx[np.argsort(boxes[idx, 0] + boxes[idx, 2] / 2.0, kind="stable")]
        slashes = np.flatnonzero(labels[idx] == "sep:/")
        if len(slashes) != 1 or (kinds[idx] == "separator").sum() != 1:
            continue
        at = int(slashes[0])
        left, right = idx[:at], idx[at + 1 :]
        for side, other in ((left, right), (right, left)):
            if len(other) not in (2, 4) or len(side) not in (5, 7):
                continue
            cuts = [c for c in (2, 4) if len(side) - c - 1 in (2, 4)]
            found = [side[c] for c in cuts if kinds[side[c]] == "hand" and stroke[side[c]]]
            if len(found) == 1:
                kinds[found[0]] = "separator"
                labels[found[0]] = "sep:/"


def _is_date(parts: Sequence[int]) -> bool:
    """Whether digit counts between slashes make a date (or a part of one).

    Two slashes are strong evidence of ``DD/MM/YYYY``, ``D/M/YY`` or
    ``YYYY/MM/DD``: parts of one to four digits fit, so that a digit lost
    or split in segmentation does not undo them. One slash must leave
    ``DD/MM``, ``MM/YY``, ``MM/YYYY`` or ``YYYY/MM``. A lone slash with three
    or six digits after it, or four on both sides, would be a date whose
    other slash vanished; a handwritten one inside a number is far more
    common (a date's other slash taken for a one is ``_slash_inside_date``'s).
    """
    if len(parts) == 2:
        a, b = parts
        return (a in (1, 2) and b in (1, 2, 4)) or (a == 4 and b in (1, 2))
    if len(parts) == 3:
        return all(1 <= part <= 4 for part in parts)
    return False


def _fits_date(digit: np.ndarray, slashes: Sequence[int], ones: Sequence[int]) -> bool:
    """Whether a field's slashes, less those read as ``ones``, split its digits as a date.

    ``digit`` flags the field's digits in order; ``slashes`` are positions
    in it. A field left without slashes is a plain number, and fits.
    """
    cuts = [k for k in slashes if k not in ones]
    if not cuts:
        return True
    counts = digit.astype(np.int64)
    counts[list(ones)] = 1
    bounds = [0, *cuts, len(digit)]
    return _is_date([int(counts[a:b].sum()) for a, b in itertools.pairwise(bounds)])


def _slashes_out_of_place(
    kinds: np.ndarray,
    labels: np.ndarray,
    features: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
    p_separator: np.ndarray,
    unread: np.ndarray,
) -> None:
    """Read lone strokes taken for slashes where no date or amount has one as ones.

    A slash ends an amount ("1500/-", left to the classifier) or splits a
    date's day, month and year: a field's other slashes must leave digit
    parts that make a date. When they do not, the fewest lone strokes whose
    reading as a one makes the field a date or a plain number are ones (of
    equally few, those the classifier least believes are separators): a
    handwritten one can lean like a slash, and only its place tells them
    apart. A lone stroke that closes a number on its own is a one too: an
    amount's slash comes with its hyphen. Marks the recognizer rejected
    (``unread``) stay separators. Updates ``kinds`` and ``labels`` in place.
    """
    stroke = _is_lone_stroke(features) & ~unread
    for g in np.unique(groups):
        idx = np.flatnonzero((groups == g) & (kinds != "other"))
        idx = idx[np.argsort(boxes[idx, 0] + boxes[idx, 2] / 2.0, kind="stable")]
        digit = np.isin(kinds[idx], ("hand", "printed"))
        # An amount ends in "/-": a lone stroke closing a number with nothing
        # after it, not even the hyphen, is the number's last digit, a one.
        end = len(idx) - 1
        if end >= 1 and labels[idx[end]] == "sep:/" and stroke[idx[end]] and digit[:end].any():
            kinds[idx[end]] = "hand"
            labels[idx[end]] = "hand"
            digit[end] = True
        # A slash with no digit after it ends an amount ("1500/-"): it is
        # left to the classifier.
        after = np.cumsum(digit[::-1])[::-1]
        at = [k for k in range(len(idx)) if labels[idx[k]] == "sep:/" and after[k] > 0]
        if not at:
            continue
        loose = [k for k in at if stroke[idx[k]]][:_MAX_LOOSE_SLASHES]

        if _fits_date(digit, at, ()):
            continue
        for size in range(1, len(loose) + 1):
            options = [c for c in itertools.combinations(loose, size) if _fits_date(digit, at, c)]
            if options:
                best = min(options, key=lambda c: sum(p_separator[idx[k]] for k in c))
                for k in best:
                    kinds[idx[k]] = "hand"
                    labels[idx[k]] = "hand"
                break


def _is_day_and_month(a: int, b: int) -> bool:
    """Whether two numbers are a day and a month, in either order."""
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)


def _slashes_of_a_date(
    kinds: np.ndarray,
    labels: np.ndarray,
    features: np.ndarray,
    boxes: np.ndarray,
    groups: np.ndarray,
    digits: np.ndarray,
) -> None:
    """Read two lone strokes that cut a field into a date's day, month and year as slashes.

    ``DD/MM/YYYY`` with both slashes taken for ones reads as ten digits with
    a one third and sixth. A field of handwritten digits whose marks there
    are read as ones (one of them at least a lone stroke; a slash written
    with a hook is not), and whose other digits then make a day
    and a month (in either order) and a year (two digits, or four of 19xx
    or 20xx; three when one of them was lost) is a date: a number of eight
    to ten digits has its ones in just those places, and a valid day and
    month around them, seldom. Updates ``kinds`` and ``labels`` in place.
    """
    stroke = _is_lone_stroke(features)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        if not 8 <= len(idx) <= 10 or (kinds[idx] != "hand").any():
            continue
        idx = idx[np.argsort(boxes[idx, 0] + boxes[idx, 2] / 2.0, kind="stable")]
        read = [str(d) for d in digits[idx]]
        cuts = (idx[2], idx[5])
        if read[2] != "1" or read[5] != "1" or not stroke[list(cuts)].any():
            continue
        if not all(c.isdigit() for c in read):
            continue
        year = "".join(read[6:])
        if not _is_day_and_month(int("".join(read[:2])), int("".join(read[3:5]))) or (
            len(year) == 4 and year[:2] not in ("19", "20")
        ):
            continue
        for k in cuts:
            kinds[k] = "separator"
            labels[k] = "sep:/"


def classify_marks(
    crops: Sequence[np.ndarray],
    boxes: np.ndarray,
    groups: np.ndarray,
    classifier: Mapping[str, Any],
    *,
    rejected: np.ndarray | None = None,
    confidences: np.ndarray | None = None,
    left_out: np.ndarray | None = None,
    digits: np.ndarray | None = None,
    params: MarkParams | None = None,
) -> Marks:
    """Sort marks into handwritten digits, printed digits, separators and others.

    Parameters
    ----------
    crops : sequence of (h, w) uint8 ndarray
        Each mark at native resolution, ink dark on light.
    boxes : (N, 4) int ndarray
        ``(x, y, w, h)`` of each mark in page coordinates.
    groups : (N,) int ndarray
        Group (field or line) id of each mark.
    classifier : mapping
        A model's ``extras["marks"]`` (see ``check_mark_classifier``).
    rejected : (N,) bool ndarray, optional
        Marks another stage (the recognizer's reject class) already found
        not to be digits; they count as ``other``.
    confidences : (N,) float ndarray, optional
        The recognizer's confidence in each mark's digit, in [0, 1]; low
        confidence is evidence of joined-up writing rather than touching
        digits, and high confidence in every mark of a long field keeps it
        (``MarkParams.sure_marks``). Taken as 1 when not given, without
        keeping any field on it.
    left_out : (K, 4) int ndarray, optional
        ``(x, y, w, h)`` of the page's writing that no field took
        (``SegmentedPage.left_out``): letters a short field runs on into
        make it part of a word (``MarkParams.run_on_marks``).
    digits : (N,) <U1 ndarray, optional
        The recognizer's digit for each mark; a field it reads as a date
        with both slashes taken for ones gets its slashes back.
    params : MarkParams, optional
        Line-level tuning; defaults to ``MarkParams()``.

    Returns
    -------
    Marks

    Raises
    ------
    ValueError
        Shapes disagree (see ``measure_marks``).
    ModelError
        ``classifier`` is not a usable marks classifier.
    """
    params = params or MarkParams()
    check_mark_classifier(classifier)
    groups = np.asarray(groups, dtype=np.int64).reshape(-1)
    n = len(crops)
    if rejected is None:
        rejected = np.zeros(n, bool)
    rejected = np.asarray(rejected, dtype=bool).reshape(-1)
    if rejected.shape != (n,):
        raise ValueError(f"rejected has shape {rejected.shape}; expected ({n},)")
    # Without the recognizer's word no field is given back as read surely.
    sure = confidences is not None
    if confidences is None:
        confidences = np.ones(n)
    confidences = np.asarray(confidences, dtype=np.float64).reshape(-1)
    if confidences.shape != (n,):
        raise ValueError(f"confidences has shape {confidences.shape}; expected ({n},)")
    features = measure_marks(crops, boxes, groups)
    if n == 0:
        empty = np.zeros(0, object)
        return Marks(np.zeros(0, "<U9"), empty, empty.copy(), np.zeros(0, np.float32))
    estimator = classifier["estimator"]
    # All trees at once on one thread: a page has few marks, and per-tree calls
    # and thread start-up would cost more than the trees (see digitd.pipeline.boosted).
    probs = predict_probabilities(estimator, features)
    classes = [str(c) for c in estimator.classes_]
    p = {k: probs[:, classes.index(k)] if k in classes else np.zeros(n) for k in MARK_KINDS}

    # A mark is a non-digit on strong evidence, its own pooled with its
    # group's: one letter-like digit in a row of digits stays a digit, and a
    # digit-like piece of a word goes with its word.
    best = np.stack([p["hand"], p["printed"], p["separator"]], axis=1)
    kinds = np.asarray(MARK_KINDS[:3])[np.argmax(best, axis=1)].astype("<U9")
    own_kinds = kinds.copy()
    # The recognizer rejects punctuation too: a rejected mark the classifier
    # takes for a separator stays one (it is no digit either way).
    unread = rejected
    rejected = rejected & (kinds != "separator")
    p_other = np.where(rejected, 1.0, p["other"])
    context = _context_groups(np.asarray(boxes).reshape(-1, 4), groups, reach=params.line_reach)
    pooled_other = _pool(p_other, context, kinds != "separator", params)
    kinds[(pooled_other > params.other_threshold) | rejected] = "other"
    labels = kinds.astype(object)
    is_sep = kinds == "separator"
    if is_sep.any() and "separators" in classifier:
        labels[is_sep] = predict_classes(classifier["separators"], features[is_sep]).astype(str)

    boxes = np.asarray(boxes).reshape(-1, 4)
    _slash_before_final_hyphen(kinds, labels, features, boxes, groups)
    _slash_inside_date(kinds, labels, features, boxes, groups)

    for g in np.unique(context):
        idx = np.flatnonzero((context == g) & (kinds != "separator"))
        if len(idx) >= 2 and p_other[idx].mean() > params.max_other_fraction:
            kinds[context == g] = "other"
    # A field of one mark has no line to pool with: a mark beside an amount
    # (its printed currency sign) is a digit only on its own evidence.
    for g in np.unique(groups):
        idx = np.flatnonzero((groups == g) & (kinds != "separator"))
        if len(idx) == 1 and p["hand"][idx[0]] + p["printed"][idx[0]] < 0.5:
            kinds[idx] = "other"
    kept = np.zeros(n, bool)
    if sure:
        kept = _keep_sure_fields(kinds, own_kinds, unread, confidences, groups, params)
    kept_sep = kept & (kinds == "separator")
    if kept_sep.any():
        labels[kept_sep] = "sep:/"
        if "separators" in classifier:
            labels[kept_sep] = predict_classes(classifier["separators"], features[kept_sep]).astype(
                str
            )
    labels[kept & (kinds != "separator")] = kinds[kept & (kinds != "separator")]
    unsure = np.where(rejected, 1.0, 1.0 - np.clip(confidences, 0.0, 1.0))
    _drop_joined_writing(kinds, p_other, unsure, boxes, groups, params)
    if sure:
        _drop_doubted_fields(kinds, confidences, unread, groups, params)
        _drop_letter_lines(kinds, confidences, unread, boxes, groups, context, params)
        _drop_large_pieces(kinds, confidences, unread, boxes, groups, params)
    _drop_word_row_pieces(kinds, confidences, unread, boxes, groups, params)
    if sure:
        _drop_word_row_fields(kinds, labels, confidences, unread, boxes, groups, params)
    _drop_run_on_words(
        kinds, boxes, groups, np.zeros((0, 4)) if left_out is None else left_out, params
    )
    # Only in the fields left: a word's strokes are no ones.
    _slashes_out_of_place(kinds, labels, features, boxes, groups, p["separator"], unread)
    if digits is not None:
        _slashes_of_a_date(kinds, labels, features, boxes, groups, np.asarray(digits).reshape(-1))

    own = p["printed"] / np.maximum(p["hand"] + p["printed"], 1e-9)
    digit_like = np.isin(kinds, ("hand", "printed"))
    # Print is a property of a field: pooled over the field alone, so a
    # printed label does not make the handwriting beside it print.
    pooled = _pool(own, groups, digit_like, params)
    kinds[digit_like] = np.where(pooled[digit_like] > params.print_threshold, "printed", "hand")
    _join_lone_kinds(kinds, boxes, groups)

    text = np.array(
        [
            SEPARATOR_TEXT.get(str(lab), "") if k == "separator" else ""
            for lab, k in zip(labels, kinds, strict=True)
        ],
        dtype=object,
    )
    return Marks(
        kinds=kinds,
        labels=labels,
        text=text,
        print_probability=pooled.astype(np.float32),
    )


# ---------------------------------------------------------------------------
# Applying the kinds to fields
# ---------------------------------------------------------------------------


def gather_marks(fields: Sequence[Any]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The marks of segmented fields, with their boxes and field index as group.

    Parameters
    ----------
    fields : sequence of digitd.pipeline.segment.Field
        Each with ``digits``, crops having ``image`` and ``box``.

    Returns
    -------
    crops : list of (h, w) uint8 ndarray
    boxes : (N, 4) int64 ndarray
    groups : (N,) int64 ndarray
        Index of each mark's field.
    """
    crops = [crop.image for fld in fields for crop in fld.digits]
    boxes = np.array([crop.box for fld in fields for crop in fld.digits], np.int64).reshape(-1, 4)
    groups = np.repeat(np.arange(len(fields)), [len(fld.digits) for fld in fields])
    return crops, boxes, groups.astype(np.int64)


def keep_kind(rejected: np.ndarray, marks: Marks, kind: str) -> np.ndarray:
    """Rejection mask that keeps only marks of ``kind`` (and not already rejected).

    Parameters
    ----------
    rejected : (N,) bool ndarray
    marks : Marks
    kind : {"hand", "printed"}

    Returns
    -------
    rejected : (N,) bool ndarray
        A new array.
    """
    return np.asarray(rejected, bool) | (marks.kinds != kind)


def raw_texts(fields: Sequence[Any], labels: np.ndarray, marks: Marks) -> list[str]:
    """Each field's handwritten digits with its separators kept, in order.

    Parameters
    ----------
    fields : sequence of digitd.pipeline.segment.Field
    labels : (N,) <U1 ndarray
        The recognizer's digit per mark, in field order.
    marks : Marks
        Kinds of the same marks.

    Returns
    -------
    raw : list of str
        One per field; separators as ``marks.text`` gives them, other kinds
        left out.
    """
    out: list[str] = []
    i = 0
    for fld in fields:
        parts = []
        for _ in fld.digits:
            if marks.kinds[i] == "hand":
                parts.append(str(labels[i]))
            elif marks.kinds[i] == "separator":
                parts.append(str(marks.text[i]))
            i += 1
        out.append("".join(parts))
    return out
