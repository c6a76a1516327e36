"""Joining the pieces of one digit, for every field of a page at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from digitd.pipeline.seg.merge import Piece, merge_fields, merge_pieces

HEIGHT = 60.0


def _piece(x: int, y: int, w: int, h: int) -> Piece:
    return Piece(box=(x, y, w, h), mask=np.ones((h, w), np.uint8))


def _broken_five(x: int) -> list[Piece]:
    """A 5 whose top bar floats: a short bar, then the body a digit tall."""
    return [_piece(x + 12, 0, 26, 8), _piece(x, 12, 30, 48)]


def _reader(calls: list[int]) -> object:
    """Unions (taller than 55 px) read well, fragments and short bodies poorly."""

    def score(crops: Sequence[np.ndarray]) -> np.ndarray:
        calls.append(len(crops))
        return np.array([0.95 if c.shape[0] > 55 else 0.3 for c in crops])

    return score


def test_fragments_of_every_field_are_joined_with_one_recognizer_call() -> None:
    calls: list[int] = []
    whole = [_piece(0, 0, 30, 60), _piece(200, 0, 30, 60)]  # two digits far apart
    fields = [[*_broken_five(0), _piece(60, 0, 30, 60)], whole, _broken_five(100)]
    merged = merge_fields(
        fields, digit_heights=[HEIGHT] * 3, max_gap=10.0, score_crops=_reader(calls)
    )
    assert len(calls) == 1
    assert [len(f) for f in merged] == [2, 2, 1]
    assert merged[0][0].box == (0, 0, 38, 60)
    assert merged[0][0].mask.sum() == 26 * 8 + 30 * 48
    assert merged[1] == whole
    # The same as field by field.
    for f, m in zip(fields, merged, strict=True):
        alone = merge_pieces(f, digit_height=HEIGHT, max_gap=10.0, score_crops=_reader([]))
        assert [p.box for p in alone] == [p.box for p in m]


def test_without_a_recognizer_nothing_is_joined() -> None:
    fields = [_broken_five(0)]
    assert merge_fields(fields, digit_heights=[HEIGHT], max_gap=10.0, score_crops=None) == [
        fields[0]
    ]


def test_merge_fields_wants_one_height_per_field() -> None:
    with pytest.raises(ValueError, match="one digit height per field"):
        merge_fields([_broken_five(0)], digit_heights=[], max_gap=10.0, score_crops=None)
