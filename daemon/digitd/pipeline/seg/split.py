"""Split marks too wide for one digit at the cut the recognizer likes best.

Every mark of a page is planned at once: the candidate pieces of all marks
are read by the recognizer in one call per round (a round for the marks
that may be cut, and one more round per level of cutting a piece again),
so the cost of a call is paid a few times per page, not once per mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from digitd.pipeline.seg.types import CropScorer, read_crops

__all__ = ["MarkPiece", "find_cuts", "split_marks", "split_touching"]

Box = tuple[int, int, int, int]

# Above this width (in digit widths) a mark is cut even if the recognizer hesitates.
_FORCE_RATIO = 2.0
# ... and above this one even when it reads the mark surely as one digit. A single
# digit reaches about 1.9 heights (a 2 with a long tail), near 3 digit widths in a
# field of narrow digits; on the benchmark pages the marks 2-3 widths wide read
# surely as one digit were 8 single digits and 1 pair.
_FORCE_RATIO_SURE = 3.0
# Log-likelihood margin by which the two pieces must beat the whole mark.
_MARGIN = 0.05
# Width (in expected digit widths) at which one digit and two touching ones are
# equally likely a priori, and how fast the odds of two grow with width (per digit width).
_EVEN_RATIO = 1.55
_WIDTH_SLOPE = 4.0
# A whole mark read at least this confidently is not cut for its width alone.
_CONFIDENT = 0.9
# Log-odds lost per stroke a cut crosses beyond the first.
_STROKE_COST = 0.3
# Recognizer confidences are floored here before taking logs.
_FLOOR = 1e-3
# Two touching digits are rarely narrower than this many digit heights.
_MIN_ASPECT = 0.85
# Pieces shorter than this share of the digit height are flags and arms, not digits.
_MIN_PIECE_HEIGHT = 0.6
# Both pieces read at least this surely (their product) while the whole reads
# below ``_CONFIDENT``: two digits, however narrow the pair.
_SURE_PAIR = 0.7
# A narrow mark is probed only in a field of digits: at least this share of the
# field's other marks (and at least ``_MIN_NEIGHBOURS`` of them) read surely as
# digits. In a handwritten word most letters are rejected or read unsure.
_DIGIT_FIELD = 0.8
_MIN_NEIGHBOURS = 2
# Below ``overlap_ratio``, down to this many digit widths, a mark is probed only
# when the recognizer all but rejects it as one digit (reads it below
# ``_REJECTED``): a 1 tucked under a 7's arm, two digits written one into the
# other. A single digit that wide is read as one; on the benchmark pages the
# singles of that width in fields of digits read 0.55 and up, the pairs 0.2 and
# below. Such a pair is cut only where the two touch, through one stroke: the
# middle of a capital A (apex and crossbar) is not a join.
_NARROW_RATIO = 0.9
_REJECTED = 0.5
# Two touching digits read as one are unlike every digit the recognizer knows,
# while their pieces are ordinary digits; a single digit is the other way round
# (its pieces are fragments). When the scorer gives each crop's distance to its
# nearest known digit, a cut whose pieces read surely is taken, however surely
# the whole reads, when the whole lies this much farther out than its pieces
# (log of the whole's distance over the pieces' mean): less for marks wider
# than ``split_ratio``, more for narrower ones, where single digits abound. On
# the benchmark's analysis pages (marks whose pieces read surely) no single
# digit came that far out: 0 of 36 at 1.4 digit widths and more against 40 of
# 49 pairs, 0 of 148 narrower against 10 of 14 pairs. Among the narrower marks
# read surely as one digit that lie far out for their page (``_FAR_OUT``) on
# seeds 9-12, single digits reached 0.33, and the pairs left whole at 0.5 lay
# 0.37-0.50 farther out than their pieces: 0.4 cuts those from 0.45 up.
_ATYPICAL_WIDE = 0.3
_ATYPICAL_NARROW = 0.4
# ... and the other way round: a mark read as a digit (not rejected) that lies
# less than this much farther out than the pieces of its best cut is one digit,
# and is not cut unless its width forces it (on the analysis pages: 3 of the 6
# single digits cut in two, none of the 140 pairs cut).
_TYPICAL_WHOLE = 0.1
# A probe read as one digit (at least ``_CONFIDENT``; ``_REJECTED`` when narrow)
# is still tried when its whole lies this many times farther from every known
# digit than the page's typical mark read surely (the median over the probes
# read in the first call, at least ``_MIN_TYPICAL`` of them): a touching pair
# read surely as one digit. Such a probe is cut only by the far-out rule
# (``_ATYPICAL_NARROW``). On the analysis pages 127 probes in about 150 pages
# lay that far out, and the far-out rule cut 3 pairs among them and no single
# digit. The page's own marks set the scale, so blur, stroke width and
# resolution, which move every distance alike, do not.
_FAR_OUT = 1.2
_MIN_TYPICAL = 3
# A probe the recognizer rejects as one digit (below ``_REJECTED``) whose best
# cut gives two pieces each read at least ``_CONFIDENT``, each far more like a
# known digit than the whole (``_ATYPICAL_NARROW``), is two digits written one
# into the other on its own evidence; its field need only be more than this
# share digits (at least one other mark): one unsure digit beside it (a 5 read
# 0.79) no longer vetoes it. On seed 16 two such pairs (a 1 written into a 9,
# a 9 into a 3), each among four other marks one of which read unsure, were
# left whole. The joined letters of a word are rarely read surely as two
# ordinary digits, and its other letters are mostly rejected.
_PAIR_FIELD = 0.5


@dataclass(frozen=True, slots=True)
class MarkPiece:
    """One piece of a mark after cutting.

    Attributes
    ----------
    box : (x, y, w, h) tuple of int
        Within the mark's mask.
    mask : (h, w) uint8 ndarray
        1 on this piece's ink only.
    """

    box: Box
    mask: np.ndarray


def _local_minima(values: np.ndarray) -> np.ndarray:
    """Indices no higher than either neighbour (the ends count their one neighbour)."""
    low = np.ones(len(values), bool)
    low[1:] &= values[1:] <= values[:-1]
    low[:-1] &= values[:-1] <= values[1:]
    return np.flatnonzero(low)


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
    columns = np.arange(w)
    inside = (columns >= min_piece) & (columns <= w - min_piece)
    centre = 0.5 * np.abs(columns / w - 0.5)
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


def _trim(mask: np.ndarray, x0: int) -> Box | None:
    """Tight (x, y, w, h) of the ink in ``mask`` (uint8), offset by ``x0`` columns."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0:
        return None
    return (x0 + x, y, w, h)


def _to_image(mask: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return np.where(mask[y : y + h, x : x + w] > 0, 0, 255).astype(np.uint8)


def _cut_log_prior(mask: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Log-odds, from shape alone, that each cut column runs between two digits.

    Two digits that touch meet in one stroke (round digits side by side share
    a stretch of outline, still one stroke across); a cut through the middle
    of a single 0, 2 or 8 crosses two or three strokes. Each stroke crossed
    beyond the first costs a little.

    Parameters
    ----------
    mask : (h, w) uint8 ndarray
        1 for ink.
    cuts : (K,) int64 ndarray
        Column indices.

    Returns
    -------
    (K,) float64 ndarray
    """
    cols = mask[:, cuts]
    starts = (cols[0] > 0) + (cols[1:] > cols[:-1]).sum(axis=0)
    return -_STROKE_COST * np.maximum(0, starts - 1).astype(np.float64)


@dataclass(frozen=True, slots=True)
class _Plan:
    """The candidate cuts of one mark, and what must be read to choose.

    ``pairs`` holds per candidate its column and the tight boxes of the ink
    left and right of it (in the whole mark's frame); ``probe`` marks a mark narrower than
    ``split_ratio`` whose candidates are read only if the whole reads unsure
    (below ``_CONFIDENT``; below ``_REJECTED`` for a ``narrow`` mark, one
    narrower than ``overlap_ratio``).
    """

    mask: np.ndarray
    whole: Box
    ratio: float
    forced: bool
    probe: bool
    narrow: bool
    pairs: tuple[tuple[int, Box, Box], ...]
    prior: np.ndarray


def _plan(
    mask: np.ndarray,
    *,
    digit_height: float,
    digit_width: float,
    split_ratio: float,
    overlap_ratio: float,
    blind: bool,
    depth: int,
) -> _Plan | Box | None:
    """Candidate cuts of a mark; its whole box when it is not to be tried; None if empty."""
    whole = _trim(mask, 0)
    if whole is None:
        return None
    width, height = whole[2], whole[3]
    # One digit of this mark's height, at the field's width-to-height ratio.
    expected = digit_width * min(max(height / digit_height, 0.8), 1.25)
    ratio = width / expected
    forced = ratio > _FORCE_RATIO
    probe = ratio <= split_ratio
    # Narrow marks are probed only when an overlap probe is asked for at all.
    floor = min(split_ratio, overlap_ratio)
    if overlap_ratio < split_ratio:
        floor = min(floor, _NARROW_RATIO)
    if depth <= 0 or ratio <= floor or width < _MIN_ASPECT * digit_height:
        return whole
    if blind and (probe or not forced):
        return whole
    min_piece = max(2, int(0.2 * digit_height))
    cuts = find_cuts(mask, min_piece=min_piece)
    narrow = ratio <= overlap_ratio
    pairs: list[tuple[int, Box, Box]] = []
    prior: list[float] = []
    for c, p in zip(cuts, _cut_log_prior(mask, cuts), strict=True):
        if narrow and p < 0:
            continue  # two digits written one into the other are cut where they touch
        left = _trim(mask[:, :c], 0)
        right = _trim(mask[:, c:], int(c))
        if left is not None and right is not None and _both_digit_tall(left, right, digit_height):
            pairs.append((int(c), left, right))
            prior.append(float(p))
    if not pairs:
        return whole
    return _Plan(
        mask=mask,
        whole=whole,
        ratio=ratio,
        forced=forced,
        probe=probe,
        narrow=narrow,
        pairs=tuple(pairs),
        prior=np.asarray(prior, np.float64),
    )


def _both_digit_tall(left: Box, right: Box, digit_height: float) -> bool:
    """Both halves of two touching digits stand about a digit tall."""
    return min(left[3], right[3]) >= _MIN_PIECE_HEIGHT * digit_height


def _pair_crops(plan: _Plan) -> list[np.ndarray]:
    crops: list[np.ndarray] = []
    # Each piece's box lies wholly on its side of the cut: its crop of the mark is its ink.
    for _, left, right in plan.pairs:
        crops += [_to_image(plan.mask, left), _to_image(plan.mask, right)]
    return crops


def _atypical_gain(distances: np.ndarray, k: int) -> float:
    """Log of the whole's nearest-digit distance over the mean of cut ``k``'s pieces'.

    ``distances`` is [whole, left0, right0, left1, ...]; NaN when unknown.
    """
    pieces = 0.5 * (distances[1 + 2 * k] + distances[2 + 2 * k])
    if not (np.isfinite(distances[0]) and np.isfinite(pieces)) or pieces <= 0:
        return float("nan")
    return float(np.log(max(distances[0], 1e-9) / pieces))


def _best_cut(plan: _Plan, read: np.ndarray) -> tuple[int, float, float]:
    """The cut whose two pieces both read best, with the plan's prior.

    ``read`` is the (1 + 2n, 2) confidence and nearest-digit distance of the
    whole, then each cut's left and right (``read_crops``). Returns the cut's
    index, its log pair score and its ``_atypical_gain``.
    """
    scores = np.clip(read[:, 0], _FLOOR, 1.0)
    pair = np.log(scores[1::2]) + np.log(scores[2::2]) + plan.prior  # both pieces read right
    k = int(np.argmax(pair))
    return k, float(pair[k]), _atypical_gain(read[:, 1], k)


def _sure_cut(plan: _Plan, read: np.ndarray) -> tuple[int, float]:
    """Among the cuts whose pieces read surely, the one whose pieces lie nearest known digits.

    ``read`` is as for ``_best_cut``. Returns the cut's index and its
    ``_atypical_gain`` (index -1 and NaN when no cut's pieces read at least
    ``_SURE_PAIR``). Where a digit touches a 1, cutting the 1 off anywhere
    along the join gives two pieces read almost surely (0.998 against 0.994),
    so confidence no longer tells the cuts apart; the cut that leaves two
    ordinary digits, rather than a 1 with a scrap of its neighbour, lies
    nearest the digits the recognizer knows.
    """
    scores = np.clip(read[:, 0], _FLOOR, 1.0)
    pair = np.log(scores[1::2]) + np.log(scores[2::2]) + plan.prior
    sure = np.flatnonzero(pair >= np.log(_SURE_PAIR))
    gains = np.array([_atypical_gain(read[:, 1], int(k)) for k in sure], np.float64)
    if len(sure) == 0 or not np.isfinite(gains).any():
        return -1, float("nan")
    best = int(np.nanargmax(gains))
    return int(sure[best]), float(gains[best])


def _choose(plan: _Plan, read: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The cut taken (the ink of its two pieces), or None to keep the mark whole.

    ``read`` holds per crop (whole, then each cut's left and right) the
    confidence and nearest-digit distance (``read_crops``); None when blind.
    """
    if read is None:
        # Blind: two digits of about equal width meet near the middle.
        c, _, _ = min(plan.pairs, key=lambda lr: abs(lr[2][0] - plan.mask.shape[1] / 2.0))
        return _cut_at(plan.mask, c)
    scores = np.clip(read[:, 0], _FLOOR, 1.0)
    if len(scores) == 1:
        return None  # a probe read surely enough as one digit
    # Two ordinary digits read surely where the whole is unlike any digit: a touching pair.
    sure, sure_gain = _sure_cut(plan, read)
    if sure >= 0 and sure_gain >= (_ATYPICAL_NARROW if plan.probe else _ATYPICAL_WIDE):
        return _cut_at(plan.mask, plan.pairs[sure][0])
    k, pair_k, gain = _best_cut(plan, read)
    if plan.probe and not _is_unsure(plan, read[0, 0]):
        return None  # tried only for lying far out (``_FAR_OUT``)
    if read[0, 0] > 0 and gain < _TYPICAL_WHOLE and not plan.forced:
        return None  # a digit as ordinary as its pieces (fragments lie far out) is one
    # Prior odds of two digits against one grow with the mark's width.
    two = _WIDTH_SLOPE * (plan.ratio - _EVEN_RATIO)
    if scores[0] >= _CONFIDENT:
        # A whole digit read confidently (a wide 2 or 0) is not cut for its width alone.
        two = min(two, 0.0)
    elif pair_k >= np.log(_SURE_PAIR):
        # Two digits read surely where one reads unsure: narrowness is no argument.
        two = max(two, 0.0)
    forced = plan.forced and (scores[0] < _CONFIDENT or plan.ratio > _FORCE_RATIO_SURE)
    if not forced and pair_k + two < np.log(scores[0]) + _MARGIN:
        return None
    return _cut_at(plan.mask, plan.pairs[k][0])


def _is_unsure(plan: _Plan, confidence: float) -> bool:
    """Whether a probe's whole reads unsure enough for its cuts to be tried."""
    return confidence < (_REJECTED if plan.narrow else _CONFIDENT)


def _typical_distance(plans: Sequence[_Plan | Box | None], scores: list) -> float | None:
    """Median nearest-digit distance of the probes' wholes read surely, or None if too few.

    Marks wider than ``split_ratio`` are left out: many are touching pairs.
    """
    rows = [
        s[0]
        for p, s in zip(plans, scores, strict=True)
        if isinstance(p, _Plan) and p.probe and s is not None
    ]
    if not rows:
        return None
    wholes = np.asarray(rows, np.float64)
    far = wholes[(wholes[:, 0] >= _CONFIDENT) & np.isfinite(wholes[:, 1]), 1]
    return float(np.median(far)) if len(far) >= _MIN_TYPICAL else None


def _cut_at(mask: np.ndarray, column: int) -> tuple[np.ndarray, np.ndarray]:
    """The ink of ``mask`` left and right of ``column``, each in the whole mask's frame."""
    left = np.zeros_like(mask)
    left[:, :column] = mask[:, :column]
    right = mask.copy()
    right[:, :column] = 0
    return left, right


def _read_plans(
    plans: Sequence[_Plan | Box | None],
    score_crops: CropScorer,
    *,
    gate: _Gate | None = None,
    typical: float | None = None,
) -> tuple[list[np.ndarray | None], float | None]:
    """Reads per plan, (n, 2) as ``read_crops`` gives them, rows [whole, left0, right0, ...];
    only [whole] for a probe not tried; and the page's typical distance.

    The wholes and the candidates of wide marks are read in one call; the
    candidates of probes whose whole reads unsure, or lies ``_FAR_OUT`` times
    farther from every digit than ``typical`` (the median over the wholes
    read surely, measured in the first round that has enough of them), in a
    second, with the crops ``gate`` asks for to decide which of those probes
    are tried.
    """
    crops: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    for plan in plans:
        start = len(crops)
        if isinstance(plan, _Plan):
            crops.append(_to_image(plan.mask, plan.whole))
            if not plan.probe:
                crops += _pair_crops(plan)
        spans.append((start, len(crops)))
    if not crops:
        return [None] * len(plans), typical
    read = read_crops(score_crops, crops)
    scores: list[np.ndarray | None] = [read[a:b] if b > a else None for a, b in spans]
    if typical is None:
        typical = _typical_distance(plans, scores)
    far = np.inf if typical is None else _FAR_OUT * typical
    unsure = [
        k
        for k, plan in enumerate(plans)
        if isinstance(plan, _Plan)
        and plan.probe
        and (
            _is_unsure(plan, scores[k][0, 0])  # type: ignore[index]
            or scores[k][0, 1] >= far  # type: ignore[index]
        )
    ]
    if unsure:
        context = [] if gate is None else gate.crops(unsure, scores)
        more: list[np.ndarray] = list(context)
        parts: list[tuple[int, int]] = []
        for k in unsure:
            start = len(more)
            more += _pair_crops(plans[k])  # type: ignore[arg-type]
            parts.append((start, len(more)))
        extra = read_crops(score_crops, more)
        tried = (
            set(unsure)
            if gate is None
            else gate.allowed(unsure, extra[: len(context), 0], [extra[a:b] for a, b in parts])
        )
        for k, (a, b) in zip(unsure, parts, strict=True):
            if k in tried:
                scores[k] = np.concatenate([scores[k], extra[a:b]])  # type: ignore[list-item]
    return scores, typical


def _as_digits(read: np.ndarray, *, whole: bool = True) -> float:
    """How surely a mark reads as digits: its whole, or both pieces of its best cut.

    ``read`` is (n, 2) as ``read_crops`` gives it, rows [whole, left0, right0,
    ...] (``whole`` True) or [left0, right0, ...]. Two touching digits read
    poorly as one but surely as two; to the marks of its field they are
    digits all the same, as a word's joined letters are not.
    """
    sure = np.clip(read[:, 0], 0.0, 1.0)
    best = float(sure[0]) if whole else 0.0
    pieces = sure[1:] if whole else sure
    if len(pieces) >= 2:
        best = max(best, float((pieces[0::2] * pieces[1::2]).max()))
    return best


def _is_digit_field(neighbours: np.ndarray, *, sure_pair: bool = False) -> bool:
    """Whether a field's other marks, by their (n,) whole scores, are digits.

    Digits beside a narrow mark read surely; the letters of a handwritten
    word are mostly rejected or read unsure. For a probe that reads as two
    digits on its own evidence (``sure_pair``, see ``_is_sure_pair``) more
    than ``_PAIR_FIELD`` of at least one other mark is enough.
    """
    if len(neighbours) == 0:
        return False
    share = float((neighbours >= _CONFIDENT).mean())
    if sure_pair:
        return share > _PAIR_FIELD
    return len(neighbours) >= _MIN_NEIGHBOURS and share >= _DIGIT_FIELD


def _is_sure_pair(plan: _Plan, whole: np.ndarray, pieces: np.ndarray) -> bool:
    """Whether a probe reads as two digits written one into the other by itself.

    ``whole`` is the (2,) read of the whole mark, ``pieces`` the (n, 2) reads
    of its cuts' pieces (left0, right0, ...), as ``read_crops`` gives them:
    the whole is all but rejected (below ``_REJECTED``), both pieces of the
    best cut read at least ``_CONFIDENT``, and the whole lies
    ``_ATYPICAL_NARROW`` farther from every known digit than they do. False
    when the scorer gives no distances.
    """
    if whole[0] >= _REJECTED or len(pieces) < 2:
        return False
    read = np.vstack([np.asarray(whole, np.float64)[None, :2], pieces])
    k, _, gain = _best_cut(plan, read)
    if float(np.clip(read[1 + 2 * k : 3 + 2 * k, 0], _FLOOR, 1.0).min()) < _CONFIDENT:
        return False
    return bool(gain >= _ATYPICAL_NARROW)


class _Gate:
    """Which probes of a round are tried: those in fields of digits.

    A probe's field is judged by how surely its other marks read as digits
    (``_is_digit_field``): each by its whole, or by its best cut when the mark
    was tried for one (``_as_digits``). The wholes not read yet are read with
    the probes' candidates, and kept in ``known`` (by mark index) for later
    rounds.
    """

    def __init__(
        self,
        plans: Sequence[_Plan | Box | None],
        pending: Sequence[tuple[int, int, np.ndarray, int, int]],
        masks: Sequence[np.ndarray],
        field_of: Sequence[int],
        known: dict[int, float],
    ) -> None:
        self.plans, self.pending, self.masks = plans, pending, masks
        self.field_of, self.known = field_of, known
        self.members: dict[int, list[int]] = {}
        for i, f in enumerate(field_of):
            self.members.setdefault(f, []).append(i)
        self.context: list[int] = []
        self.wholes: dict[int, np.ndarray] = {}

    def crops(self, unsure: list[int], scores: list[np.ndarray | None]) -> list[np.ndarray]:
        """Whole crops of the marks that share a field with the ``unsure`` probes."""
        # A mark planned this round whole as it came was read in the first call.
        for k, (i, _, m, _, _) in enumerate(self.pending):
            if isinstance(self.plans[k], _Plan) and m is self.masks[i]:
                self.known[i] = _as_digits(scores[k])  # type: ignore[arg-type]
        self.wholes = {k: scores[k][0] for k in unsure}  # type: ignore[index]
        wanted = sorted(
            {j for k in unsure for j in self.members[self.field_of[self.pending[k][0]]]}
        )
        crops: list[np.ndarray] = []
        self.context = []
        for j in wanted:
            box = _trim(self.masks[j], 0) if j not in self.known else None
            if box is not None:
                crops.append(_to_image(self.masks[j], box))
                self.context.append(j)
        return crops

    def allowed(
        self, unsure: list[int], around: np.ndarray, cuts: Sequence[np.ndarray]
    ) -> set[int]:
        """The ``unsure`` probes whose fields are fields of digits.

        ``around`` holds the whole scores of the ``crops`` asked for, ``cuts``
        per unsure probe the reads of its pieces (left0, right0, ...): a probe
        whose pieces read surely is two digits to its neighbours.
        """
        self.known.update(zip(self.context, around.tolist(), strict=True))
        for k, pieces in zip(unsure, cuts, strict=True):
            i, _, m, _, _ = self.pending[k]
            if m is self.masks[i]:
                whole = self.known.get(i, 0.0)
                self.known[i] = max(whole, _as_digits(pieces, whole=False))
        keep: set[int] = set()
        for k, pieces in zip(unsure, cuts, strict=True):
            i = self.pending[k][0]
            field = self.members[self.field_of[i]]
            others = [self.known[j] for j in field if j != i and j in self.known]
            plan = self.plans[k]
            sure_pair = isinstance(plan, _Plan) and _is_sure_pair(plan, self.wholes[k], pieces)
            if _is_digit_field(np.asarray(others, np.float64), sure_pair=sure_pair):
                keep.add(k)
        return keep


def split_marks(
    masks: Sequence[np.ndarray],
    *,
    digit_heights: Sequence[float],
    digit_widths: Sequence[float],
    split_ratio: float,
    score_crops: CropScorer | None,
    overlap_ratio: float | None = None,
    fields: Sequence[int] | None = None,
    depth: int = 3,
) -> list[list[MarkPiece]]:
    """Cut each mark into single digits where it is too wide for one.

    One digit of a mark's height is expected to be about its field's digit
    width scaled by the mark's height over the field's digit height; a mark
    wider than ``split_ratio`` of that is tried at each candidate cut. A cut
    is taken when the recognizer's confidence in both pieces (their
    product), weighted by how much wider than one digit the mark is and by
    how few strokes the cut crosses, beats its confidence in the whole mark:
    a wide 2 or 0 read well as one digit stays whole, and two pieces read
    surely where the whole reads unsure are cut however narrow the pair. A
    mark more than twice as wide as one digit is cut at its best candidate
    regardless, unless it reads surely as one digit and is less than three
    digits wide (a 2 with a long tail). A mark between ``overlap_ratio`` digit widths and
    ``split_ratio`` (two digits overlapping) is tried only when the whole
    reads unsure and, given ``fields``, its field's other marks read as
    digits; a mark narrower than that, down to ``_NARROW_RATIO`` digit
    widths (two digits written one into the other), only when the whole is
    all but rejected, and only at a cut through one stroke. The candidates
    of all marks are read in one recognizer call per round (two when narrow
    marks read unsure are tried); the whole marks of fields holding such a
    narrow mark join the second call. When the scorer also gives each crop's
    distance to the nearest known digit, two further rules come first: a cut
    whose pieces read surely is taken when the whole lies far out and its
    pieces do not (two touching digits read surely as one), and a mark read
    as a digit that lies no farther out than its pieces is not cut unless
    its width forces it (a single digit's pieces are fragments); and a mark
    narrower than ``split_ratio`` read surely as one digit is tried when its
    whole lies ``_FAR_OUT`` times farther from every known digit than the
    page's typical mark, and cut only by the first of those rules.

    Parameters
    ----------
    masks : sequence of (h, w) uint8 ndarray
        1 for each mark's ink; the mark fills its array.
    digit_heights, digit_widths : sequence of float
        Per mark: the typical digit height of its field, and the width of one
        digit of that height, in pixels.
    split_ratio : float
        Marks wider than this many expected digit widths are tried for a cut.
    score_crops : callable or None
        Recognizer confidence of crops (ink 0 on 255), (N,); or (N, 2) with
        each crop's distance to the nearest known digit as the second
        column, which lets a pair read surely as one digit be cut when the
        whole lies far out and its pieces do not (``_ATYPICAL_WIDE``). None
        cuts only the marks more than twice a digit's width, at the cut
        nearest the middle.
    overlap_ratio : float, optional
        Marks between this many expected digit widths and ``split_ratio``
        are tried when the recognizer is unsure of them as one digit, and
        narrower ones down to ``_NARROW_RATIO`` when it all but rejects them.
        None (the default) is ``split_ratio``: no such probe.
    fields : sequence of int, optional
        Per mark, the field it belongs to. When given, a mark narrower than
        ``split_ratio`` is tried only in a field of digits: at least
        ``_MIN_NEIGHBOURS`` other marks, of which ``_DIGIT_FIELD`` read
        surely as digits. Without it the probe would cut the joined letters
        of a handwritten word (a payee's name) into digit-like pieces.
    depth : int
        Most rounds of cutting (a mark of four touching digits needs two).

    Returns
    -------
    pieces : list of list of MarkPiece
        Per mark, its pieces left to right (the whole mark when not cut; none
        for an empty mask), boxes within the mark's mask.
    """
    if not (len(masks) == len(digit_heights) == len(digit_widths)):
        raise ValueError(
            f"expected one digit height and width per mark, got {len(masks)} masks, "
            f"{len(digit_heights)} heights and {len(digit_widths)} widths"
        )
    field_of = None if fields is None else [int(f) for f in fields]
    if field_of is not None and len(field_of) != len(masks):
        raise ValueError(
            f"expected one field per mark, got {len(masks)} masks and {len(field_of)} fields"
        )
    # Whole-mark scores read so far (by mark index), for the fields' context.
    known: dict[int, float] = {}
    # Each mark's pieces as a tree: a piece still to be tried is a list
    # [mask, x offset, depth], replaced by its pieces when decided.
    results: list[list[object]] = [[[m, 0, depth]] for m in masks]
    probe_from = split_ratio if overlap_ratio is None else overlap_ratio
    typical: float | None = None
    for _ in range(depth + 1):
        pending: list[tuple[int, int, np.ndarray, int, int]] = []
        for i, slots in enumerate(results):
            for j, slot in enumerate(slots):
                if isinstance(slot, list):
                    m, x0, d = slot
                    pending.append((i, j, m, int(x0), int(d)))
        if not pending:
            break
        plans = [
            _plan(
                m,
                digit_height=float(digit_heights[i]),
                digit_width=float(digit_widths[i]),
                split_ratio=split_ratio,
                overlap_ratio=probe_from,
                blind=score_crops is None,
                depth=d,
            )
            for i, _, m, _, d in pending
        ]
        scores: list[np.ndarray | None] = [None] * len(plans)
        if score_crops is not None and field_of is None:
            scores, typical = _read_plans(plans, score_crops, typical=typical)
        elif score_crops is not None:
            gate = _Gate(plans, pending, masks, field_of, known)
            scores, typical = _read_plans(plans, score_crops, gate=gate, typical=typical)
        replaced: dict[tuple[int, int], list[object]] = {}
        for (i, j, m, x0, d), plan, score in zip(pending, plans, scores, strict=True):
            if plan is None:
                replaced[(i, j)] = []
                continue
            if not isinstance(plan, _Plan):
                replaced[(i, j)] = [_piece(m, plan, x0)]
                continue
            best = _choose(plan, score)
            if best is None:
                replaced[(i, j)] = [_piece(m, plan.whole, x0)]
                continue
            children: list[object] = []
            for ink in best:
                x, _, w, _ = cv2.boundingRect(ink)
                children.append([ink[:, x : x + w], x0 + x, d - 1])
            replaced[(i, j)] = children
        for i in {i for i, _ in replaced}:
            new: list[object] = []
            for j, slot in enumerate(results[i]):
                new += replaced.get((i, j), [slot])
            results[i] = new
    out: list[list[MarkPiece]] = []
    for slots in results:
        out.append([s for s in slots if isinstance(s, MarkPiece)])
    return out


def _piece(mask: np.ndarray, box: Box, x0: int) -> MarkPiece:
    x, y, w, h = box
    return MarkPiece(box=(x0 + x, y, w, h), mask=mask[y : y + h, x : x + w])


def split_touching(
    mask: np.ndarray,
    *,
    digit_height: float,
    digit_width: float,
    split_ratio: float,
    score_crops: CropScorer | None,
    overlap_ratio: float | None = None,
    depth: int = 3,
) -> list[Box]:
    """Cut one mark into single digits where it is too wide for one.

    ``split_marks`` for a single mark; see there.

    Parameters
    ----------
    mask : (h, w) uint8 ndarray
        1 for the mark's ink; the mark fills the array.
    digit_height : float
        Typical height of a digit in this field, in pixels.
    digit_width : float
        Typical width of one digit of height ``digit_height`` in this field, in pixels.
    split_ratio : float
        Marks wider than this many expected digit widths are tried for a cut.
    score_crops : callable or None
        Recognizer confidence of crops (ink 0 on 255).
    overlap_ratio : float, optional
        Narrower marks tried when unsure of the whole; see ``split_marks``.
    depth : int
        Most rounds of cutting.

    Returns
    -------
    boxes : list of (x, y, w, h)
        Pieces within ``mask``, left to right; the whole mark when not cut.
    """
    (pieces,) = split_marks(
        [mask],
        digit_heights=[digit_height],
        digit_widths=[digit_width],
        split_ratio=split_ratio,
        score_crops=score_crops,
        overlap_ratio=overlap_ratio,
        depth=depth,
    )
    return [p.box for p in pieces]
