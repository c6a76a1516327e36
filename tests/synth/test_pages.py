"""The page generator: sizes, truth, variants, and the scoring of reads against truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitd.results import FieldResult
from digitd.synth import (
    CHEQUE_MM,
    DigitBank,
    ScanStyle,
    TruthField,
    edit_distance,
    make_cheque,
    make_form,
    render_digit,
    score_page,
)
from digitd.synth.pages import _Sheet


@pytest.fixture(scope="module")
def bank() -> DigitBank:
    """Ten digits drawn with a Hershey font, ink dark on light, 28x28 like MNIST."""
    images = np.full((10, 28, 28), 255, np.uint8)
    for d in range(10):
        cv2.putText(images[d], str(d), (6, 23), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2, cv2.LINE_AA)
    return DigitBank(images, np.arange(10))


def test_a_digit_is_redrawn_at_handwriting_size_with_a_pen(bank: DigitBank) -> None:
    rng = np.random.default_rng(0)
    alpha = render_digit(bank.draw(8, rng), height_px=71, pen_px=5, rng=rng)
    assert alpha.dtype == np.float32 and alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert alpha.shape[0] == pytest.approx(71, abs=8)  # skeleton tips shorten, the pen adds
    ink = (alpha > 0.5).astype(np.uint8)
    inner = cv2.erode(ink, np.ones((3, 3), np.uint8))
    width = 2 * ink.sum() / max(1, ink.sum() - inner.sum())
    assert width == pytest.approx(5, rel=0.35)  # pen width, not the font's stroke scaled up


def test_a_loop_filled_in_the_source_stays_filled_in_the_pen_drawing() -> None:
    # A 9 whose loop the marker filled: a solid disc on a thin stem. A pen
    # tracing only the centre line would leave a dot on a stick (a 1).
    nine = np.full((28, 28), 255, np.uint8)
    cv2.circle(nine, (12, 9), 5, 0, -1)
    cv2.line(nine, (16, 9), (15, 24), 0, 2)
    alpha = render_digit(nine, height_px=71, pen_px=5, rng=np.random.default_rng(0))
    ink = (alpha > 0.5).astype(np.uint8)
    depth = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    assert depth.max() > 3 * 5 / 2  # a solid disc, much wider than the pen
    stem = ink[int(0.8 * ink.shape[0])]
    assert 2 <= stem.sum() <= 9  # while the stem is thinned to the pen


def test_a_digit_thinner_than_the_pen_leaves_the_paper_around_it_clean() -> None:
    # A hairline 7 drawn with a broad pen: its strokes need no thinning, and
    # the paper inside its box must stay paper, not a half-inked rectangle.
    seven = np.full((28, 28), 255, np.uint8)
    cv2.line(seven, (6, 4), (22, 4), 0, 1)
    cv2.line(seven, (22, 4), (10, 24), 0, 1)
    alpha = render_digit(seven, height_px=71, pen_px=9, rng=np.random.default_rng(0))
    assert alpha.shape[0] > 0
    assert (alpha > 0.05).mean() < 0.5
    h, w = alpha.shape
    assert alpha[h // 5 : h // 2, : w // 3].max() < 0.05  # under the bar, left of the stem


def test_a_bank_needs_every_digit() -> None:
    with pytest.raises(ValueError, match=r"\[3\]"):
        DigitBank(np.zeros((9, 28, 28), np.uint8), np.array([0, 1, 2, 4, 5, 6, 7, 8, 9]))


def test_a_cheque_carries_its_truth(bank: DigitBank) -> None:
    page = make_cheque(bank, np.random.default_rng(1), style=ScanStyle(skew_degrees=2.0))
    h, w = page.image.shape[:2]
    assert (w, h) == (round(CHEQUE_MM[0] * 300 / 25.4), round(CHEQUE_MM[1] * 300 / 25.4))
    assert page.image.dtype == np.uint8 and page.image.ndim == 3
    assert [f.name for f in page.fields] == ["date", "amount", "account"]
    grey = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    for field in page.fields:
        assert field.text.isdigit() and len(field.digit_boxes) == len(field.text)
        x, y, bw, bh = field.box
        assert x >= 0 and x + bw <= w and y >= 0 and y + bh <= h
        assert 4 * 300 / 25.4 * 0.8 < bh < 12 * 300 / 25.4  # digits 4-8 mm tall, with skew
        assert grey[y : y + bh, x : x + bw].min() < 120  # there is writing in the box
    assert len(page.fields[0].text) == 8


def test_a_field_that_runs_off_the_page_leaves_no_ink(bank: DigitBank) -> None:
    # Ink with no truth would be scored as a phantom field.
    sheet = _Sheet((60.0, 20.0), 300.0)
    rng = np.random.default_rng(0)
    sheet.write("far", "12345678", bank, rng, x=30.0, baseline=15.0, height=6.0)
    assert sheet.fields == [] and sheet.hand.max() == 0.0
    sheet.write("near", "12", bank, rng, x=5.0, baseline=15.0, height=6.0)
    assert [f.text for f in sheet.fields] == ["12"] and sheet.hand.max() > 0.5


def test_a_field_keeps_each_digits_source_and_clean_drawing(bank: DigitBank) -> None:
    sheet = _Sheet((60.0, 20.0), 300.0)
    sheet.write("near", "407", bank, np.random.default_rng(0), x=5.0, baseline=15.0, height=6.0)
    (field,) = sheet.fields
    drawn = [np.flatnonzero(np.all(bank.images == s, axis=(1, 2))) for s in field.sources]
    assert [int(bank.labels[d[0]]) for d in drawn] == [4, 0, 7]
    for (x, y, w, h), drawing in zip(field.digit_boxes, field.drawings, strict=True):
        assert drawing.shape == (h, w)
        np.testing.assert_array_equal(sheet.hand[y : y + h, x : x + w] >= drawing, True)


def test_the_same_seed_gives_the_same_page_and_dpi_scales_it(bank: DigitBank) -> None:
    a = make_cheque(bank, np.random.default_rng(2))
    b = make_cheque(bank, np.random.default_rng(2))
    assert np.array_equal(a.image, b.image) and a.fields == b.fields
    hi = make_cheque(bank, np.random.default_rng(2), style=ScanStyle(dpi=400))
    assert hi.image.shape[1] == pytest.approx(a.image.shape[1] * 4 / 3, abs=2)
    assert [f.text for f in hi.fields] == [f.text for f in a.fields]


def test_scan_variants_change_the_pixels_as_asked(bank: DigitBank) -> None:
    rng = np.random.default_rng(3)
    bitonal = make_cheque(bank, rng, style=ScanStyle(bitonal=True, colour=False))
    assert bitonal.image.ndim == 2 and set(np.unique(bitonal.image)) <= {0, 255}
    grey = make_cheque(bank, rng, style=ScanStyle(colour=False, jpeg_quality=40))
    assert grey.image.ndim == 2 and len(np.unique(grey.image)) > 50


def test_a_form_has_ten_fields_and_print_only_pages_have_none(bank: DigitBank) -> None:
    form = make_form(bank, np.random.default_rng(4), style=ScanStyle(dpi=200, tinted=False))
    assert len(form.fields) == 10
    assert [f.box[1] for f in form.fields] == sorted(f.box[1] for f in form.fields)
    blank = make_form(bank, np.random.default_rng(4), handwriting=False)
    assert blank.fields == ()


def _read(name: str, text: str, box: tuple[int, int, int, int]) -> FieldResult:
    return FieldResult(name=name, text=text, confidence=1.0, needs_review=False, box=box, digits=())


def test_scoring_matches_by_overlap_and_counts_edits() -> None:
    assert edit_distance("1250", "1250") == 0
    assert edit_distance("1250", "150") == 1
    assert edit_distance("", "42") == 2
    truth = (
        TruthField("amount", "1250", (100, 100, 200, 60)),
        TruthField("date", "01022024", (400, 100, 300, 60)),
    )
    read = [
        _read("line-1", "1250", (110, 105, 190, 50)),
        _read("line-2", "0102224", (405, 95, 290, 70)),
        _read("line-3", "7", (900, 500, 20, 40)),
    ]
    score = score_page(truth, read)
    assert (score.fields, score.found, score.exact) == (2, 2, 1)
    assert (score.digits, score.digit_errors, score.phantoms) == (12, 1, 1)
    missing = score_page(truth, read[:1])
    assert (missing.found, missing.digit_errors, missing.phantoms) == (1, 8, 0)
