"""Cutting touching digits apart, and keeping wide single digits whole."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from digitd.pipeline.seg.split import split_marks, split_touching

# A field of digits 76 px tall (6.4 mm at 300 dpi) whose digits are 0.65 heights wide.
HEIGHT = 76.0
WIDTH = 0.65 * HEIGHT


def _two_zeros_touching() -> np.ndarray:
    """Two 0s, each 50 px wide, whose outlines run together for a few pixels."""
    mask = np.zeros((80, 100), np.uint8)
    cv2.ellipse(mask, (26, 40), (23, 37), 0, 0, 360, 1, 5)
    cv2.ellipse(mask, (72, 40), (23, 37), 0, 0, 360, 1, 5)
    return mask


def _wide_two() -> np.ndarray:
    """A 2 written wide: 88 px (1.15 heights), hook, diagonal and a long base."""
    mask = np.zeros((80, 92), np.uint8)
    cv2.ellipse(mask, (46, 24), (40, 20), 0, 180, 360, 1, 5)  # the top of the hook
    cv2.ellipse(mask, (46, 24), (40, 20), 0, 0, 40, 1, 5)
    cv2.line(mask, (76, 37), (6, 74), 1, 5)  # the diagonal
    cv2.line(mask, (6, 74), (88, 74), 1, 5)  # the base
    return mask


def _reader(whole: float, piece: float, wide_px: int) -> object:
    """A stub recognizer: ``whole`` for crops wider than ``wide_px``, else ``piece``."""

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        return np.array([whole if c.shape[1] > wide_px else piece for c in crops])

    return score


def test_a_touching_pair_is_cut_at_the_join() -> None:
    mask = _two_zeros_touching()
    # One digit read poorly as a whole, each half read fairly well.
    pieces = split_touching(
        mask,
        digit_height=HEIGHT,
        digit_width=WIDTH,
        split_ratio=1.4,
        score_crops=_reader(0.2, 0.8, 70),
    )
    assert len(pieces) == 2
    (lx, _, lw, _), (rx, _, rw, _) = pieces
    assert abs(lx + lw - 49) <= 4 and abs(rx - 49) <= 4  # the outlines meet at x = 49
    assert lx <= 3 and rx + rw >= 96


def test_of_equally_liked_cuts_the_one_through_a_single_stroke_wins() -> None:
    mask = _two_zeros_touching()
    # The recognizer likes every cut alike; the join crosses one stroke, a cut
    # through a 0 crosses two.
    pieces = split_touching(
        mask,
        digit_height=HEIGHT,
        digit_width=WIDTH,
        split_ratio=1.4,
        score_crops=_reader(0.2, 0.8, 95),
    )
    assert len(pieces) == 2
    assert abs(pieces[0][0] + pieces[0][2] - 49) <= 4


def test_a_wide_single_digit_read_confidently_is_not_cut() -> None:
    mask = _wide_two()
    assert 1.6 < mask.shape[1] / WIDTH < 2.0  # wide enough to be tried, not forced
    # The halves read as digits too (a 6 and a 7, say), but the whole reads better.
    pieces = split_touching(
        mask,
        digit_height=HEIGHT,
        digit_width=WIDTH,
        split_ratio=1.4,
        score_crops=_reader(0.95, 0.85, 80),
    )
    assert len(pieces) == 1
    assert pieces[0][2] >= 85


def test_the_same_wide_mark_read_poorly_as_one_is_cut() -> None:
    pieces = split_touching(
        _wide_two(),
        digit_height=HEIGHT,
        digit_width=WIDTH,
        split_ratio=1.4,
        score_crops=_reader(0.3, 0.85, 80),
    )
    assert len(pieces) == 2


def test_a_single_digit_over_twice_a_digit_wide_read_surely_is_not_forced_apart() -> None:
    # In a field of narrow digits (0.55 heights) the wide 2 is over two digit widths:
    # read surely as one digit it stays whole; read poorly it is cut for its width.
    narrow = 0.55 * HEIGHT
    assert 2.0 < _wide_two().shape[1] / narrow < 3.0
    kept = split_touching(
        _wide_two(), digit_height=HEIGHT, digit_width=narrow, split_ratio=1.4,
        score_crops=_reader(0.95, 0.85, 80),
    )  # fmt: skip
    cut = split_touching(
        _wide_two(), digit_height=HEIGHT, digit_width=narrow, split_ratio=1.4,
        score_crops=_reader(0.5, 0.2, 80),
    )  # fmt: skip
    assert len(kept) == 1 and len(cut) == 2
    # Three digit widths and more: cut however surely it reads as one.
    wider = split_touching(
        _wide_two(), digit_height=HEIGHT, digit_width=0.35 * HEIGHT, split_ratio=1.4,
        score_crops=_reader(0.95, 0.85, 80), depth=1,
    )  # fmt: skip
    assert len(wider) == 2


def test_a_mark_as_wide_as_one_digit_of_a_wide_field_is_not_cut() -> None:
    calls: list[int] = []

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        calls.append(len(crops))
        return np.full(len(crops), 0.9)

    # In a field of wide digits (0.9 heights), the 1.15-height 2 is one digit:
    # read as one surely enough, its halves are not even read.
    pieces = split_touching(
        _wide_two(), digit_height=HEIGHT, digit_width=0.9 * HEIGHT, split_ratio=1.4,
        overlap_ratio=1.1, score_crops=score,
    )  # fmt: skip
    assert len(pieces) == 1 and calls == [1]


def _overlapping_pair() -> np.ndarray:
    """A 7 and a 1 written close: 66 px together, 1.34 digit widths; the 1 under the 7's arm."""
    mask = np.zeros((80, 72), np.uint8)
    cv2.line(mask, (3, 4), (50, 4), 1, 5)  # the 7's arm
    cv2.line(mask, (50, 4), (22, 76), 1, 5)  # its stem
    cv2.line(mask, (64, 6), (60, 76), 1, 5)  # the 1
    cv2.line(mask, (50, 4), (64, 6), 1, 5)  # where the two touch
    return mask


def test_an_overlapping_pair_narrower_than_split_ratio_is_cut_when_unsure_of_the_whole() -> None:
    mask = _overlapping_pair()
    ink = np.flatnonzero(mask.any(axis=0))
    assert 1.1 < (ink[-1] - ink[0] + 1) / WIDTH < 1.4
    cases = [
        ((0.01, 0.99), 2),  # read as one digit poorly, each piece well: cut
        ((0.6, 0.95), 2),  # whole unsure, both pieces sure: two digits, narrow as the pair is
        ((0.6, 0.8), 1),  # the pieces read no better than the whole: kept whole
        ((0.95, 0.99), 1),  # read as one digit surely: kept whole, however well the pieces read
    ]
    for (whole, piece), expected in cases:
        pieces = split_touching(
            mask,
            digit_height=HEIGHT,
            digit_width=WIDTH,
            split_ratio=1.4,
            overlap_ratio=1.1,
            score_crops=_reader(whole, piece, 60),
        )
        assert len(pieces) == expected, (whole, piece)


def test_the_marks_of_a_page_are_read_in_one_call_per_round() -> None:
    calls: list[int] = []
    reader = _reader(0.2, 0.8, 70)

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        calls.append(len(crops))
        return reader(crops)

    pair, two = _two_zeros_touching(), _wide_two()
    masks = [pair, two, pair]
    heights, widths = [HEIGHT] * 3, [WIDTH] * 3
    together = split_marks(
        masks, digit_heights=heights, digit_widths=widths, split_ratio=1.4, score_crops=score
    )
    # Round one reads all three marks, round two the six pieces (each one digit
    # wide: nothing more to read).
    assert len(calls) == 1
    alone = [
        split_touching(
            m, digit_height=HEIGHT, digit_width=WIDTH, split_ratio=1.4, score_crops=reader
        )
        for m in masks
    ]
    assert [[p.box for p in pieces] for pieces in together] == alone
    for m, pieces in zip(masks, together, strict=True):
        for p in pieces:
            x, y, w, h = p.box
            assert p.mask.shape == (h, w)
            np.testing.assert_array_equal(p.mask, m[y : y + h, x : x + w])


def test_split_marks_wants_one_size_per_mark() -> None:
    with pytest.raises(ValueError, match="one digit height and width per mark"):
        split_marks(
            [_wide_two()], digit_heights=[], digit_widths=[WIDTH], split_ratio=1.4,
            score_crops=None,
        )  # fmt: skip


def test_a_mark_narrower_than_split_ratio_is_not_probed_by_default() -> None:
    # Off by default: the same probe cuts joined letters of a handwritten word.
    calls: list[int] = []

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        calls.append(len(crops))
        return _reader(0.01, 0.99, 60)(crops)

    pieces = split_touching(
        _overlapping_pair(), digit_height=HEIGHT, digit_width=WIDTH, split_ratio=1.4,
        score_crops=score,
    )  # fmt: skip
    assert len(pieces) == 1 and calls == []


# --- narrow marks are probed only in fields of digits ------------------------------


def _neighbour(width: int) -> np.ndarray:
    """A 0 of the field's height, ``width`` px wide: a neighbour of the narrow mark."""
    mask = np.zeros((80, width + 6), np.uint8)
    cv2.ellipse(mask, (width // 2 + 3, 40), (width // 2, 37), 0, 0, 360, 1, 5)
    return mask


def _field_reader(sure: dict[int, float]) -> tuple[object, list[int]]:
    """A stub recognizer and its log of calls (crops per call).

    A crop as wide as a neighbour of ``sure`` (by its ink width) reads as
    given there; the overlapping pair reads poorly as one digit and its pieces
    well.
    """
    calls: list[int] = []

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        calls.append(len(crops))
        out = []
        for c in crops:
            if c.shape[1] in sure:
                out.append(sure[c.shape[1]])
            else:
                out.append(0.01 if c.shape[1] > 60 else 0.99)
        return np.array(out)

    return score, calls


def _ink_width(mask: np.ndarray) -> int:
    return int(cv2.boundingRect(mask)[2])


def test_a_narrow_pair_is_cut_in_a_field_of_digits_and_kept_whole_in_a_word() -> None:
    pair = _overlapping_pair()
    # Field 0: the pair among three 0s read surely. Field 1: the same pair among
    # three marks the recognizer rejects (letters of a handwritten word).
    digits, letters = [_neighbour(44)] * 3, [_neighbour(36)] * 3
    sure = {_ink_width(digits[0]): 0.99, _ink_width(letters[0]): 0.0}
    score, calls = _field_reader(sure)
    masks = [*digits, pair, *letters, pair]
    pieces = split_marks(
        masks,
        digit_heights=[HEIGHT] * 8,
        digit_widths=[WIDTH] * 8,
        split_ratio=1.4,
        overlap_ratio=1.1,
        fields=[0, 0, 0, 0, 1, 1, 1, 1],
        score_crops=score,
    )
    assert [len(p) for p in pieces] == [1, 1, 1, 2, 1, 1, 1, 1]
    # One call for the two pairs' wholes; one for their pieces and the six
    # neighbours; none for the pieces, each one digit wide.
    assert len(calls) == 2 and calls[0] == 2 and calls[1] >= 6 + 4


def test_a_narrow_pair_is_not_probed_with_too_few_sure_neighbours() -> None:
    pair = _overlapping_pair()
    sure_one, unsure_one = _neighbour(44), _neighbour(36)
    sure = {_ink_width(sure_one): 0.99, _ink_width(unsure_one): 0.5}
    cases = [
        ([sure_one], 1),  # one neighbour: no field to judge by
        ([sure_one, sure_one], 2),
        ([sure_one] * 4 + [unsure_one], 2),  # four neighbours in five read surely
        ([sure_one] * 3 + [unsure_one], 1),  # three in four
    ]
    for neighbours, expected in cases:
        score, _ = _field_reader(sure)
        n = len(neighbours) + 1
        pieces = split_marks(
            [pair, *neighbours],
            digit_heights=[HEIGHT] * n,
            digit_widths=[WIDTH] * n,
            split_ratio=1.4,
            overlap_ratio=1.1,
            fields=[0] * n,
            score_crops=score,
        )
        assert len(pieces[0]) == expected, len(neighbours)


def test_touching_pairs_beside_a_narrow_pair_count_as_digits_of_its_field() -> None:
    # A wide pair and another overlapping pair read poorly as one digit, but
    # their pieces read surely: to the narrow pair's field they are digits.
    pair, wide, zero = _overlapping_pair(), _two_zeros_touching(), _neighbour(44)
    cases = [
        ([pair, wide, zero], [2, 2, 1]),
        ([pair, pair, zero, zero], [2, 2, 1, 1]),
    ]
    for masks, expected in cases:
        score, _ = _field_reader({_ink_width(zero): 0.99})
        assert [len(p) for p in _split_field(masks, score)] == expected


def test_a_wide_pair_is_cut_whatever_its_field() -> None:
    # The field check is for narrow marks only: a pair wider than split_ratio
    # among rejected marks is judged by its own reading, as before.
    pair, letter = _two_zeros_touching(), _neighbour(36)
    score, calls = _field_reader({_ink_width(letter): 0.0})
    pieces = split_marks(
        [pair, letter, letter],
        digit_heights=[HEIGHT] * 3,
        digit_widths=[WIDTH] * 3,
        split_ratio=1.4,
        overlap_ratio=1.1,
        fields=[0, 0, 0],
        score_crops=score,
    )
    assert [len(p) for p in pieces] == [2, 1, 1]
    assert len(calls) == 1  # no narrow mark: the neighbours are not read


def test_split_marks_wants_one_field_per_mark() -> None:
    with pytest.raises(ValueError, match="one field per mark"):
        split_marks(
            [_wide_two()], digit_heights=[HEIGHT], digit_widths=[WIDTH], split_ratio=1.4,
            score_crops=None, fields=[0, 1],
        )  # fmt: skip


# --- a pair written one into the other, narrower than overlap_ratio ----------------


# A field of wide digits, 0.9 heights each: a pair of them may be as narrow as one.
WIDE = 0.9 * HEIGHT


def _one_under_a_sevens_arm() -> np.ndarray:
    """A 1 tucked under a 7's arm: 66 px together (0.96 wide digits), joined by one stroke."""
    mask = np.zeros((80, 70), np.uint8)
    cv2.line(mask, (3, 4), (40, 4), 1, 5)  # the 7's arm
    cv2.line(mask, (40, 4), (16, 76), 1, 5)  # its stem
    cv2.line(mask, (64, 12), (62, 76), 1, 5)  # the 1
    cv2.line(mask, (40, 4), (64, 12), 1, 5)  # the one stroke where they touch
    return mask


def _capital_a() -> np.ndarray:
    """A handwritten capital A as wide as the pair: its middle crosses apex and crossbar."""
    mask = np.zeros((80, 70), np.uint8)
    cv2.line(mask, (5, 76), (34, 4), 1, 5)
    cv2.line(mask, (34, 4), (63, 76), 1, 5)
    cv2.line(mask, (15, 48), (53, 48), 1, 5)
    return mask


def _narrow(mask: np.ndarray, whole: float, *, overlap_ratio: float | None = 1.1) -> int:
    """Pieces of ``mask`` among two 0s read surely (a field of wide digits), its whole
    read ``whole``, its pieces 0.99."""
    zero = _neighbour(44)

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        out = []
        for c in crops:
            if c.shape[1] == _ink_width(zero):
                out.append(0.99)
            else:
                out.append(whole if c.shape[1] > 50 else 0.99)
        return np.array(out)

    pieces = split_marks(
        [zero, mask, zero],
        digit_heights=[HEIGHT] * 3,
        digit_widths=[WIDE] * 3,
        split_ratio=1.4,
        overlap_ratio=overlap_ratio,
        fields=[0, 0, 0],
        score_crops=score,
    )
    return len(pieces[1])


def test_a_pair_written_one_into_the_other_is_cut_when_rejected_as_one_digit() -> None:
    pair = _one_under_a_sevens_arm()
    assert 0.9 < _ink_width(pair) / WIDE < 1.0  # narrower than overlap_ratio
    assert _narrow(pair, 0.01) == 2  # rejected as one digit, each piece read surely
    assert _narrow(pair, 0.7) == 1  # read as one digit, if unsure: a wide single digit
    assert _narrow(pair, 0.01, overlap_ratio=None) == 1  # no probe asked for


def test_a_letter_as_narrow_is_not_cut_through_two_strokes() -> None:
    letter = _capital_a()
    assert 0.9 < _ink_width(letter) / WIDE < 1.0
    # Rejected as a digit, and its halves read as 1s, but no cut runs through one stroke.
    assert _narrow(letter, 0.01) == 1


def _far_reader(whole: tuple[float, float], piece: tuple[float, float], wide_px: int) -> object:
    """A stub recognizer giving (confidence, distance to the nearest known digit)."""

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        return np.array([whole if c.shape[1] > wide_px else piece for c in crops])

    return score


def test_a_pair_read_surely_as_one_digit_is_cut_when_it_lies_far_from_every_digit() -> None:
    mask = _two_zeros_touching()
    # Read surely as one digit, each piece read as surely: the confidences cannot
    # tell. A whole far out (3.0) with ordinary pieces (1.5) is two digits touching;
    # a whole as ordinary as its pieces (fragments lie farther out) is one digit.
    cut = split_touching(
        mask, digit_height=HEIGHT, digit_width=WIDTH, split_ratio=1.4,
        score_crops=_far_reader((0.99, 3.0), (0.99, 1.5), 95),
    )  # fmt: skip
    kept = split_touching(
        mask, digit_height=HEIGHT, digit_width=WIDTH, split_ratio=1.4,
        score_crops=_far_reader((0.99, 1.6), (0.99, 2.2), 95),
    )  # fmt: skip
    assert len(cut) == 2 and len(kept) == 1


def test_a_narrow_mark_needs_a_whole_farther_out_than_a_wide_one() -> None:
    mask = _overlapping_pair()  # 1.1 to 1.4 digit widths: a probe, read when unsure
    # The whole read a little unsure, the pieces no better (their product 0.72):
    # by the confidences alone it stays whole.
    reads = {
        ((0.89, 2.2), (0.85, 1.6)): 1,  # log(2.2 / 1.6) = 0.32: not far enough for a narrow mark
        ((0.89, 2.5), (0.85, 1.6)): 2,  # 0.45
        ((0.89, 3.0), (0.85, 1.6)): 2,  # 0.63
    }
    for (whole, piece), expected in reads.items():
        pieces = split_touching(
            mask, digit_height=HEIGHT, digit_width=WIDTH, split_ratio=1.4,
            overlap_ratio=1.1, score_crops=_far_reader(whole, piece, 60),
        )  # fmt: skip
        assert len(pieces) == expected, (whole, piece)


def test_a_digit_no_farther_out_than_its_pieces_is_not_cut() -> None:
    mask = _wide_two()
    # Read poorly as one digit, its halves fairly well: cut by the confidences
    # alone (see above), but the whole is as ordinary a digit as its halves.
    for whole, expected in ((2.2, 1), (3.2, 2)):
        pieces = split_touching(
            mask, digit_height=HEIGHT, digit_width=WIDTH, split_ratio=1.4,
            score_crops=_far_reader((0.3, whole), (0.85, 2.1), 80),
        )  # fmt: skip
        assert len(pieces) == expected, whole


# --- a pair read surely as one digit, far out for the page ---------------------------


def _page_reader(pair: tuple[float, float], piece: tuple[float, float], pair_px: int) -> object:
    """(confidence, distance) per crop: ``pair`` for crops at least ``pair_px`` wide,
    ``piece`` for narrower ones; the page's wide 0s read 0.99 at distance 1.0."""
    zero_px = _ink_width(_neighbour(60))
    calls: list[int] = []

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        calls.append(len(crops))
        rows = []
        for c in crops:
            if c.shape[1] == zero_px:
                rows.append((0.99, 1.0))
            else:
                rows.append(pair if c.shape[1] >= pair_px else piece)
        return np.array(rows)

    score.calls = calls  # type: ignore[attr-defined]
    return score


def _split_field(masks: list[np.ndarray], score: object) -> list:
    """``split_marks`` of one field of ``masks``, every mark of the test's digit size."""
    n = len(masks)
    return split_marks(
        masks,
        digit_heights=[HEIGHT] * n,
        digit_widths=[WIDTH] * n,
        split_ratio=1.4,
        overlap_ratio=1.1,
        fields=[0] * n,
        score_crops=score,  # type: ignore[arg-type]
    )


def _among_zeros(mask: np.ndarray, score: object, n_zeros: int = 4) -> int:
    """Pieces of ``mask`` among ``n_zeros`` wide 0s of its field (every mark a probe)."""
    return len(_split_field([*([_neighbour(60)] * n_zeros), mask], score)[-1])


def test_a_narrow_pair_read_surely_is_cut_when_far_out_for_the_page() -> None:
    pair = _overlapping_pair()
    assert 1.1 < _ink_width(pair) / WIDTH < 1.4  # a probe, not wide enough to be tried
    # Read 0.99 as one digit; its pieces as surely. The page's 0s, read as surely,
    # lie at 1.0 from the nearest known digit: the whole, at 2.0, is unlike any
    # digit, and its pieces (1.0) are ordinary ones.
    far = _page_reader((0.99, 2.0), (0.99, 1.0), 60)
    assert _among_zeros(pair, far) == 2
    # At 1.1 the whole is an ordinary digit of this page: its cuts are not even read.
    near = _page_reader((0.99, 1.1), (0.99, 1.0), 60)
    assert _among_zeros(pair, near) == 1
    assert len(near.calls) == 1  # type: ignore[attr-defined]
    # Far out, but the pieces are no more ordinary than the whole (log 2.0/1.5 < 0.5):
    # the confidences alone do not cut a mark read 0.99.
    fragments = _page_reader((0.99, 2.0), (0.99, 1.5), 60)
    assert _among_zeros(pair, fragments) == 1


def test_far_out_is_judged_against_enough_of_the_page() -> None:
    pair = _overlapping_pair()
    # With two marks read surely besides it, the page sets no scale: not tried.
    assert _among_zeros(pair, _page_reader((0.99, 2.0), (0.99, 1.0), 60), n_zeros=1) == 1


def _rejected_pair_reader(whole: tuple[float, float], piece: tuple[float, float]) -> object:
    """(confidence, distance) per crop: the pair (60 px and wider) reads ``whole``,
    its pieces ``piece``; the field's 0s 60 px wide read 0.99, those 36 px wide 0.5
    (a digit read unsure), each at distance 1.0."""
    sure_px, unsure_px = _ink_width(_neighbour(60)), _ink_width(_neighbour(36))

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        rows = []
        for c in crops:
            if c.shape[1] in (sure_px, unsure_px):
                rows.append((0.99 if c.shape[1] == sure_px else 0.5, 1.0))
            else:
                rows.append(whole if c.shape[1] >= 60 else piece)
        return np.array(rows)

    return score


def test_a_rejected_pair_whose_pieces_read_surely_needs_only_a_mostly_digit_field() -> None:
    pair, sure, unsure = _overlapping_pair(), _neighbour(60), _neighbour(36)
    # Rejected as one digit and far out (2.5); each piece read 0.99 and ordinary (1.2):
    # two digits written one into the other, beside three sure digits and one unsure
    # (three in four, short of the 0.8 a probe's field needs), or one sure digit.
    two = _rejected_pair_reader((0.01, 2.5), (0.99, 1.2))
    assert len(_split_field([pair, sure, sure, sure, unsure], two)[0]) == 2
    assert len(_split_field([pair, sure], two)[0]) == 2
    # The field must still be more than half digits.
    assert len(_split_field([pair, sure, unsure], two)[0]) == 1
    assert len(_split_field([pair, unsure], two)[0]) == 1
    # Pieces no more ordinary than the whole (log 2.5/2.0 < 0.4), or read short of
    # 0.9: fragments or letters, judged by the field as before.
    fragments = _rejected_pair_reader((0.01, 2.5), (0.99, 2.0))
    letters = _rejected_pair_reader((0.01, 2.5), (0.85, 1.2))
    for score in (fragments, letters):
        assert len(_split_field([pair, sure, sure, sure, unsure], score)[0]) == 1
        assert len(_split_field([pair, sure], score)[0]) == 1


def _one_joined_to_a_zero() -> np.ndarray:
    """A 1 joined to a 0 by two scraps, 77 px wide: two cuts, each through one stroke.

    Cutting at column 17 leaves the 1 alone (14 px) and the 0 with a scrap
    (63 px); at column 28, the 1 with a scrap (25 px) and the 0 (52 px).
    """
    mask = np.zeros((80, 80), np.uint8)
    cv2.line(mask, (6, 3), (6, 76), 1, 5)
    cv2.ellipse(mask, (54, 40), (22, 36), 0, 0, 360, 1, 5)
    mask[50:52, 8:20] = 1
    mask[26:52, 18:22] = 1
    mask[26:28, 20:34] = 1
    return mask


def test_of_cuts_read_surely_the_one_leaving_ordinary_digits_wins() -> None:
    mask = _one_joined_to_a_zero()
    # Every crop reads surely, the pieces of the cut at 28 a hair more surely
    # (0.999) but as far out as the whole (2.6 against 3.0); the pieces of the
    # cut at 17 lie near known digits (1.5): that cut is the join.
    reads = {77: (0.99, 3.0), 25: (0.999, 2.6), 52: (0.999, 2.6), 14: (0.99, 1.5), 63: (0.99, 1.5)}

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        return np.array([reads[c.shape[1]] for c in crops])

    pieces = split_touching(
        mask, digit_height=HEIGHT, digit_width=WIDTH, split_ratio=1.4, score_crops=score
    )
    assert [w for _, _, w, _ in pieces] == [14, 63]
