"""The steps of segmentation on small drawn pages with known answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitd.pipeline.seg.binarize import binarize_page, select_ink_channel
from digitd.pipeline.seg.deskew import estimate_skew, map_box_back, rotate_ink
from digitd.pipeline.seg.group import find_marks, group_fields, join_fragments
from digitd.pipeline.seg.lines import remove_form_lines
from digitd.pipeline.seg.scale import estimate_scale, measure_stroke_width
from digitd.pipeline.seg.split import find_cuts, split_touching
from digitd.pipeline.segment import SegmentationParams, segment_page

PPM = 300 / 25.4  # pixels per mm at 300 dpi


def _one(page: np.ndarray, x: int, y: int, h: int = 70, w: int = 6) -> None:
    """A handwritten-looking 1: a slightly slanted stroke of height ``h``."""
    cv2.line(page, (x + 6, y), (x, y + h), 0, w, cv2.LINE_AA)


def _zero(page: np.ndarray, x: int, y: int, h: int = 70, w: int = 6) -> None:
    cv2.ellipse(page, (x + h // 3, y + h // 2), (h // 3, h // 2), 0, 0, 360, 0, w, cv2.LINE_AA)


def _blank(h: int = 400, w: int = 600) -> np.ndarray:
    return np.full((h, w), 245, np.uint8)


# --- binarization -------------------------------------------------------------


def test_binarize_finds_ink_under_uneven_light_and_texture() -> None:
    rng = np.random.default_rng(0)
    page = _blank()
    _zero(page, 100, 100)
    _one(page, 300, 100)
    truth = page < 128
    yy, xx = np.mgrid[0:400, 0:600]
    light = 1.0 - 0.45 * xx / 600 - 0.1 * yy / 400  # a shadow towards the right
    texture = rng.normal(0, 6, page.shape)
    scan = np.clip(page * light + texture, 0, 255).astype(np.uint8)
    ink = binarize_page(scan, px_per_mm=PPM)
    assert ink.dtype == np.uint8 and ink.shape == scan.shape
    found = ink > 0
    assert (found & truth).sum() / truth.sum() > 0.9
    assert (found & ~cv2.dilate(truth.astype(np.uint8), np.ones((5, 5))).astype(bool)).sum() < 50


def test_binarize_keeps_a_blank_textured_page_blank() -> None:
    rng = np.random.default_rng(1)
    paper = np.clip(rng.normal(225, 8, (300, 300)), 0, 255).astype(np.uint8)
    assert binarize_page(paper, px_per_mm=PPM).mean() < 0.002


def test_binarize_names_the_bad_argument() -> None:
    with pytest.raises(ValueError, match="px_per_mm"):
        binarize_page(_blank(), px_per_mm=0)
    with pytest.raises(ValueError, match="uint8"):
        binarize_page(_blank().astype(np.float32), px_per_mm=PPM)


def test_colour_ink_channel_keeps_blue_writing_and_drops_a_purple_stamp() -> None:
    page = np.full((100, 200, 3), (235, 240, 215), np.uint8)  # tinted paper
    page[20:80, 20:30] = (30, 45, 140)  # blue ballpoint
    page[20:80, 120:130] = (140, 50, 150)  # purple stamp
    page[20:80, 160:170] = (25, 25, 25)  # black ink
    grey = select_ink_channel(page)
    assert grey.shape == (100, 200) and grey.dtype == np.uint8
    paper = int(grey[5, 5])
    assert paper - int(grey[50, 25]) > 150
    assert paper - int(grey[50, 165]) > 150
    assert paper - int(grey[50, 125]) < 40
    assert select_ink_channel(page[:, :, 0]) is not None  # grey passes through


# --- skew ---------------------------------------------------------------------


@pytest.mark.parametrize("angle", [-4.0, -1.5, 0.0, 2.5])
def test_skew_of_ruled_lines_is_measured_with_its_sign(angle: float) -> None:
    ink = np.zeros((600, 800), np.uint8)
    for y in range(100, 550, 60):
        ink[y : y + 3, 100:700] = 1
    matrix = cv2.getRotationMatrix2D((400, 300), -angle, 1.0)  # lines descend right for > 0
    tilted = cv2.warpAffine(ink, matrix, (800, 600), flags=cv2.INTER_NEAREST)
    assert estimate_skew(tilted, px_per_mm=PPM) == pytest.approx(angle, abs=0.15)


def test_boxes_map_back_to_the_original_page_after_deskew() -> None:
    ink = np.zeros((500, 700), np.uint8)
    ink[200:260, 300:340] = 1  # a blob standing for a digit
    for y in (100, 300, 400):
        ink[y : y + 3, 50:650] = 1
    matrix = cv2.getRotationMatrix2D((350, 250), -3.0, 1.0)
    tilted = cv2.warpAffine(ink, matrix, (700, 500), flags=cv2.INTER_NEAREST)
    skew = estimate_skew(tilted, px_per_mm=PPM)
    straight, rotation = rotate_ink(tilted, skew)
    assert straight.shape[0] >= 500 and straight.shape[1] >= 700
    blob = np.zeros_like(tilted)
    blob[200:260, 300:340] = 1
    blob_tilted = cv2.warpAffine(blob, matrix, (700, 500), flags=cv2.INTER_NEAREST)
    by, bx = np.nonzero(blob_tilted)
    blob_straight, _ = rotate_ink(blob_tilted, skew)
    sy, sx = np.nonzero(blob_straight)
    box = (sx.min(), sy.min(), sx.max() - sx.min() + 1, sy.max() - sy.min() + 1)
    back = map_box_back(box, rotation, scale=1.0, shape=(500, 700))
    assert back[0] == pytest.approx(bx.min(), abs=4)
    assert back[1] == pytest.approx(by.min(), abs=4)
    assert back[0] + back[2] == pytest.approx(bx.max() + 1, abs=4)
    assert back[1] + back[3] == pytest.approx(by.max() + 1, abs=4)


# --- form lines -----------------------------------------------------------------


def test_an_underline_goes_and_a_digit_crossing_it_stays_whole() -> None:
    page = _blank()
    cv2.line(page, (50, 200), (550, 200), 0, 3)  # printed underline, 0.25 mm
    _one(page, 200, 150, h=80)  # crosses the line
    _zero(page, 300, 130)  # sits on it
    ink = binarize_page(page, px_per_mm=PPM)
    clean, lines, _ = remove_form_lines(
        ink, px_per_mm=PPM, min_length_mm=12.0, max_thickness_mm=0.9
    )
    assert clean[200:203, 60:180].sum() == 0  # the line is gone away from the digits
    assert lines[200:203, 60:180].all()
    n, _, stats, _ = cv2.connectedComponentsWithStats(clean[:, 180:240], connectivity=8)
    heights = sorted(stats[1:, 3])
    assert n - 1 == 1 and heights[-1] >= 78  # the 1 crossing the line is one piece again
    assert clean[130:200, 300:350].sum() > 0.9 * ink[130:195, 300:350].sum()


def test_box_walls_and_comb_ticks_go_but_a_one_on_the_line_stays() -> None:
    page = _blank()
    for k in range(6):  # a row of one-digit boxes, 6.5 mm pitch, 9 mm tall
        cv2.rectangle(page, (60 + 77 * k, 60), (60 + 77 * (k + 1), 166), 0, 2)
    cv2.line(page, (60, 300), (522, 300), 0, 2)  # a comb: baseline and short ticks
    for k in range(7):
        cv2.line(page, (60 + 77 * k, 300), (60 + 77 * k, 272), 0, 2)
    _one(page, 100, 231, h=68)  # a 1 standing on the comb's baseline
    _zero(page, 80, 80)
    ink = binarize_page(page, px_per_mm=PPM)
    clean, _, _ = remove_form_lines(ink, px_per_mm=PPM, min_length_mm=12.0, max_thickness_mm=0.9)
    assert clean[60:170, 200:530].sum() == 0  # empty boxes leave nothing
    _, _, stats, _ = cv2.connectedComponentsWithStats(clean[265:305, 140:530], connectivity=8)
    assert stats[1:, 3].max(initial=0) <= 3  # nor do the ticks, but for a speck or two
    assert clean[231:298, 95:110].sum() > 0.8 * ink[231:298, 95:110].sum()
    assert clean[80:152, 80:130].sum() > 0.8 * ink[80:152, 80:130].sum()


# --- noise, merging, grouping ---------------------------------------------------


def _marks(page: np.ndarray):
    ink = binarize_page(page, px_per_mm=PPM)
    marks = find_marks(
        ink,
        px_per_mm=PPM,
        speck_mm=0.8,
        min_height_mm=3.0,
        max_height_mm=16.0,
        max_aspect=3.5,
        merge_gap_mm=1.2,
    )
    return join_fragments(marks, px_per_mm=PPM, min_height_mm=3.0)


def test_specks_and_a_punch_hole_are_not_marks() -> None:
    page = _blank()
    _one(page, 300, 150)
    for x, y in [(50, 50), (500, 80), (120, 300)]:
        cv2.circle(page, (x, y), 2, 0, -1)
    cv2.circle(page, (80, 200), 35, 20, -1)  # a 6 mm punch hole
    boxes = _marks(page).boxes
    assert len(boxes) == 1 and boxes[0][3] >= 68


def test_an_eight_written_bold_enough_to_fill_like_a_hole_is_a_mark() -> None:
    # A felt pen closes an 8's loops: it fills its box like a punch hole (0.6
    # and up), but its waist pinches the outline.
    page = _blank()
    cv2.ellipse(page, (150, 130), (36, 24), 0, 0, 360, 0, -1)
    cv2.ellipse(page, (150, 176), (38, 26), 0, 0, 360, 0, -1)
    for y in (130, 176):
        cv2.circle(page, (150, y), 9, 245, -1)
    cv2.circle(page, (400, 200), 35, 20, -1)  # a 6 mm punch hole beside it
    ink = (page < 128).astype(np.uint8)
    box = cv2.boundingRect(ink[:, :300])
    assert ink[:, :300].sum() > 0.6 * box[2] * box[3]
    boxes = _marks(page).boxes
    assert len(boxes) == 1 and boxes[0][0] < 300 and boxes[0][3] >= 90


def test_a_zero_filled_in_by_a_broad_pen_is_a_mark_and_a_filled_square_is_not() -> None:
    page = _blank()
    cv2.ellipse(page, (150, 150), (24, 36), 0, 0, 360, 0, -1)  # 6 mm tall, solid
    cv2.circle(page, (300, 150), 22, 0, -1)  # 3.7 mm round, solid: smaller than a hole
    cv2.rectangle(page, (430, 130), (470, 170), 0, -1)  # a filled check box
    cv2.circle(page, (80, 330), 35, 20, -1)  # a 6 mm punch hole
    boxes = _marks(page).boxes
    assert sorted(int(b[0]) for b in boxes) == [126, 278]


def test_a_bold_printed_o_shorter_than_a_digit_is_not_a_mark() -> None:
    # The o of a bank's name in heavy print, 2.7 mm: a disc with a small
    # counter, under the 3 mm digit limit. A bold 0 written 3.6 mm tall stays.
    page = _blank()
    cv2.circle(page, (150, 150), 16, 0, -1)
    cv2.ellipse(page, (150, 150), (4, 7), 0, 0, 360, 245, -1)
    cv2.ellipse(page, (300, 150), (19, 21), 0, 0, 360, 0, -1)
    cv2.ellipse(page, (300, 150), (6, 10), 15, 0, 360, 245, -1)
    boxes = _marks(page).boxes
    assert [int(b[0]) for b in boxes] == [281]


def test_a_five_with_a_floating_bar_is_one_mark() -> None:
    page = _blank()
    cv2.line(page, (210, 100), (250, 100), 0, 6)  # the bar, 1 mm above the body
    cv2.line(page, (212, 112), (208, 140), 0, 6)
    cv2.ellipse(page, (228, 152), (22, 20), 0, -120, 150, 0, 6)
    marks = _marks(page)
    assert len(marks.boxes) == 1
    assert marks.mask_of(0).sum() > 0


def test_fields_split_at_wide_gaps_and_come_in_reading_order() -> None:
    page = _blank(500, 900)
    for x in (100, 160, 220):  # field 1, lower row
        _zero(page, x, 300)
    for x in (100, 160, 500, 560):  # fields 2 and 3, upper row, a 22 mm gap between
        _one(page, x, 100)
    runs = group_fields(
        _marks(page).boxes, px_per_mm=PPM, min_height_mm=3, max_height_mm=16, field_gap_mm=6
    )
    assert [len(r) for r in runs] == [2, 2, 3]


def test_a_line_of_small_words_is_not_a_field() -> None:
    page = _blank(300, 1200)
    cv2.putText(page, "Please write the amount here", (40, 150), cv2.FONT_HERSHEY_SIMPLEX,
                1.2, 0, 3, cv2.LINE_AA)  # fmt: skip
    runs = group_fields(
        _marks(page).boxes, px_per_mm=PPM, min_height_mm=3, max_height_mm=16, field_gap_mm=6
    )
    assert runs == []


def test_digits_a_little_under_the_size_limit_do_not_make_a_field_text() -> None:
    page = _blank(300, 900)
    for k, h in enumerate((36, 30, 36, 30, 36)):  # zeros 3.4 mm and 2.9 mm tall
        _zero(page, 100 + 45 * k, 150 - h, h=h, w=4)
    runs = group_fields(
        _marks(page).boxes, px_per_mm=PPM, min_height_mm=3, max_height_mm=16, field_gap_mm=6
    )
    assert [len(r) for r in runs] == [5]  # the short zeros stay in the field, in order


# --- touching digits ------------------------------------------------------------


def test_touching_digits_are_cut_at_the_join() -> None:
    mask = np.zeros((80, 110), np.uint8)
    cv2.ellipse(mask, (28, 40), (24, 36), 0, 0, 360, 1, 6)
    cv2.ellipse(mask, (78, 40), (24, 36), 0, 0, 360, 1, 6)  # two 0s touching
    cuts = find_cuts(mask, min_piece=15)
    assert any(abs(int(c) - 53) <= 6 for c in cuts)
    pieces = split_touching(
        mask, digit_height=76, digit_width=50, split_ratio=1.4, score_crops=None
    )
    assert len(pieces) == 2
    assert pieces[0][0] <= 2 and pieces[1][0] + pieces[1][2] >= 104
    assert abs(pieces[0][0] + pieces[0][2] - 53) <= 6

    def likes_halves(crops):
        return np.array([0.3 if c.shape[1] > 70 else 0.95 for c in crops])

    narrow = split_touching(
        mask[:, :100], digit_height=76, digit_width=60, split_ratio=1.4, score_crops=likes_halves
    )
    assert len(narrow) == 2


def test_a_single_wide_digit_is_kept_when_the_recognizer_prefers_it() -> None:
    mask = np.zeros((80, 80), np.uint8)
    cv2.ellipse(mask, (40, 40), (36, 36), 0, 0, 360, 1, 6)

    def likes_whole(crops):
        return np.array([0.99 if c.shape[1] > 60 else 0.4 for c in crops])

    pieces = split_touching(
        mask, digit_height=76, digit_width=45, split_ratio=1.4, score_crops=likes_whole
    )
    assert len(pieces) == 1


# --- scale ------------------------------------------------------------------------


def test_scale_comes_from_dpi_or_from_the_strokes() -> None:
    assert estimate_scale(_blank(), dpi=254.0) == pytest.approx(10.0)
    page = _blank(600, 900)
    for i, x in enumerate(range(100, 700, 90)):  # 6 mm digits, 0.4 mm pen, at 300 dpi
        (_zero if i % 2 else _one)(page, x, 200, h=71, w=4)
    ink = (page < 128).astype(np.uint8)
    assert measure_stroke_width(ink) == pytest.approx(5.0, rel=0.25)
    assert estimate_scale(page, dpi=None) == pytest.approx(PPM, rel=0.25)
    assert estimate_scale(page[::2, ::2].copy(), dpi=None) == pytest.approx(PPM / 2, rel=0.25)


def _strip_of_digits() -> np.ndarray:
    """An amount strip without dpi: 6 mm digits, 0.4 mm pen, at 300 dpi."""
    page = _blank(180, 700)
    for i, x in enumerate(range(80, 600, 90)):
        (_zero if i % 2 else _one)(page, x, 55, h=71, w=4)
    return page


def test_scale_of_a_strip_leaves_out_a_dark_margin_along_its_edges() -> None:
    # Scanned past the paper's edge: a margin as thick as a digit is tall is not a stroke.
    page = _strip_of_digits()
    cv2.rectangle(page, (0, 0), (699, 179), 20, 36)
    assert estimate_scale(page, dpi=None) == pytest.approx(PPM, rel=0.25)


def test_scale_of_a_strip_cut_tight_around_bold_digits_keeps_their_height() -> None:
    # Digits more than half the strip tall, written with a 0.8 mm felt pen: the
    # stroke alone says 2.5 times the scale, and their height tempers it.
    page = _blank(100, 600)
    for i, x in enumerate(range(40, 560, 90)):
        (_zero if i % 2 else _one)(page, x, 14, h=71, w=9)
    assert estimate_scale(page, dpi=None) < 2.0 * PPM


def test_a_dark_margin_around_a_strip_does_not_hide_its_digits() -> None:
    page = _strip_of_digits()
    cv2.rectangle(page, (0, 0), (699, 179), 20, 36)
    ink = binarize_page(page, px_per_mm=PPM)
    marks = find_marks(
        ink, px_per_mm=PPM, speck_mm=0.8, min_height_mm=3.0, max_height_mm=16.0,
        max_aspect=3.5, merge_gap_mm=1.2,
    )  # fmt: skip
    fields = group_fields(
        marks.boxes, px_per_mm=PPM, min_height_mm=3.0, max_height_mm=16.0, field_gap_mm=8.0,
        clutter=marks.clutter,
    )  # fmt: skip
    assert [len(f) for f in fields] == [6]


def test_the_page_carries_the_writing_no_field_took() -> None:
    page = _blank(400, 1400)
    for k in range(4):
        (_zero if k % 2 else _one)(page, 100 + 60 * k, 100)
    # A joined-up word: one stroke digit-tall and three of its heights long.
    xs = np.arange(700, 830)
    word = np.stack([xs, 150 + 20 * np.sin(xs / 9.0)], axis=1).astype(np.int32)
    cv2.polylines(page, [word], False, 0, 5, cv2.LINE_AA)
    xs = np.arange(700, 1300)
    curve = np.stack([xs, 300 + 40 * np.sin(xs / 25.0)], axis=1).astype(np.int32)
    cv2.polylines(page, [curve], False, 0, 5, cv2.LINE_AA)  # a signature, too long for a digit
    segmented = segment_page(page, dpi=300, params=SegmentationParams())
    assert [len(f.digits) for f in segmented.fields] == [4]
    left = segmented.left_out
    assert left.dtype == np.int64 and left.shape[1] == 4
    x0, y0 = left[:, 0], left[:, 1]
    x1, y1 = x0 + left[:, 2], y0 + left[:, 3]
    # The word and the signature, and nothing of the digits.
    assert ((x0 >= 690) & (x1 <= 840) & (y1 <= 200)).any()
    assert ((x0 <= 710) & (x1 >= 1290) & (y0 >= 240)).any()
    assert (x0 >= 650).all()
