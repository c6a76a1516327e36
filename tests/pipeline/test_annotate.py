"""Drawing results onto the page."""

from __future__ import annotations

import numpy as np

from digitd.pipeline.annotate import annotate_page
from digitd.results import DigitResult, FieldResult, PageResult


def _page_result(needs_review: bool) -> PageResult:
    digit = DigitResult(text="3", confidence=0.9, box=(100, 100, 40, 60))
    field = FieldResult(
        name="amount",
        text="3",
        confidence=0.9,
        needs_review=needs_review,
        box=(100, 100, 40, 60),
        digits=(digit,),
    )
    return PageResult(page=1, width=400, height=300, dpi=300.0, skew_degrees=0.0, fields=(field,))


def test_annotation_is_an_rgb_copy_with_boxes_drawn() -> None:
    grey = np.full((300, 400), 250, np.uint8)
    before = grey.copy()
    out = annotate_page(grey, _page_result(False))
    assert out.shape == (300, 400, 3)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(grey, before)
    # the digit's top edge is drawn, the far corner of the page is untouched
    assert (out[100, 100:140] != 250).any()
    assert (out[290, 390] == 250).all()


def test_review_flagged_fields_use_another_colour() -> None:
    rgb = np.full((300, 400, 3), 250, np.uint8)
    ok = annotate_page(rgb, _page_result(False))
    review = annotate_page(rgb, _page_result(True))
    assert not np.array_equal(ok[100, 100:140], review[100, 100:140])
    assert (rgb == 250).all()
