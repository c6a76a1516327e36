"""Marks into fields on real layouts: comb-box dates, print above digits, drifting lines."""

from __future__ import annotations

import cv2
import numpy as np

from digitd.pipeline.seg.binarize import binarize_page
from digitd.pipeline.seg.group import (
    Marks,
    erase_wall_rows,
    find_box_cells,
    find_marks,
    find_wall_rows,
    find_wall_stubs,
    group_fields,
    join_fragments,
)
from digitd.pipeline.seg.lines import remove_form_lines

PPM = 300 / 25.4  # pixels per mm at 300 dpi
GROUPING = {"px_per_mm": PPM, "min_height_mm": 3.0, "max_height_mm": 16.0, "field_gap_mm": 8.0}


def _blank(h: int = 300, w: int = 900) -> np.ndarray:
    return np.full((h, w), 245, np.uint8)


def _zero(page: np.ndarray, x: int, y: int, h: int = 60, w: int = 5) -> None:
    """A zero ``h`` pixels tall with its top-left corner at (x, y)."""
    cv2.ellipse(page, (x + h // 3, y + h // 2), (h // 3, h // 2), 0, 0, 360, 0, w, cv2.LINE_AA)


def _find(ink: np.ndarray) -> Marks:
    """The marks of a binary ``ink`` image, at the settings every test here uses."""
    return find_marks(
        ink,
        px_per_mm=PPM,
        speck_mm=0.8,
        min_height_mm=3.0,
        max_height_mm=16.0,
        max_aspect=3.5,
        merge_gap_mm=1.2,
    )


def _marks(page: np.ndarray) -> Marks:
    ink = binarize_page(page, px_per_mm=PPM)
    return join_fragments(_find(ink), px_per_mm=PPM, min_height_mm=3.0)


def test_comb_ticks_between_the_digits_of_a_date_do_not_make_it_text() -> None:
    page = _blank()
    for k in range(8):  # DDMMYYYY, one digit per 5.5 mm cell, a tick between cells
        x = 60 + 65 * k
        _zero(page, x, 100)
        cv2.line(page, (x + 54, 145), (x + 54, 168), 0, 4)  # 2 mm tick at the baseline
    runs = group_fields(_marks(page).boxes, **GROUPING)
    assert [len(r) for r in runs] == [8]


def test_a_line_of_print_just_above_digits_is_not_joined_to_them() -> None:
    page = _blank()
    cv2.putText(page, "No 506089", (300, 88), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2, cv2.LINE_AA)
    for k in range(6):  # digits 5 mm tall, 0.6 mm under the print's baseline
        _zero(page, 250 + 60 * k, 95)
    marks = _marks(page)
    tall = marks.boxes[:, 3] >= 3.0 * PPM
    assert tall.sum() == 6
    assert marks.boxes[tall, 3].max() <= 70  # each zero (67 px) alone, nothing above it
    assert marks.is_print_row()[~tall].all()
    assert [len(r) for r in group_fields(marks.boxes, **GROUPING)] == [6]


def test_a_serial_number_as_tall_as_a_digit_over_a_date_is_print_and_not_joined() -> None:
    page = _blank()
    # A serial printed 3.3 mm tall (just over the 3 mm digit limit), a handwritten
    # date 1 mm under it: the bridge and the overlap join would stack them.
    cv2.putText(page, "No. 772431", (230, 85), cv2.FONT_HERSHEY_SIMPLEX, 1.9, 0, 3, cv2.LINE_AA)
    for k in range(6):
        _zero(page, 250 + 62 * k, 98)
    marks = _marks(page)
    printed = marks.is_print_row()
    assert marks.boxes[:, 3].max() <= 70  # no serial digit stacked on a zero
    serial = marks.boxes[:, 1] + marks.boxes[:, 3] <= 90
    assert serial.sum() >= 6 and printed[serial].all()
    assert not printed[marks.boxes[:, 1] >= 95].any()
    runs = group_fields(marks.boxes, printed=printed, **GROUPING)
    assert [len(r) for r in runs] == [6]
    assert all(marks.boxes[i, 1] >= 95 for i in runs[0])


def test_pieces_of_a_handwritten_digit_still_join_next_to_a_line_of_print() -> None:
    page = _blank()
    cv2.putText(page, "No 506089", (500, 88), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2, cv2.LINE_AA)
    cv2.line(page, (210, 100), (250, 100), 0, 6)  # a 5 whose bar floats 1 mm above it
    cv2.line(page, (212, 112), (208, 140), 0, 6)
    cv2.ellipse(page, (228, 152), (22, 20), 0, -120, 150, 0, 6)
    marks = _marks(page)
    tall = np.flatnonzero(marks.boxes[:, 3] >= 3.0 * PPM)
    assert len(tall) == 1 and marks.boxes[tall[0], 1] <= 100


def test_a_date_drifting_across_two_rows_is_one_field() -> None:
    page = _blank(400, 900)
    for k in range(8):  # the line falls 1 mm per digit: the last digit is 7 mm lower
        _zero(page, 60 + 70 * k, 100 + 12 * k)
    runs = group_fields(_marks(page).boxes, **GROUPING)
    assert [len(r) for r in runs] == [8]
    assert runs[0] == sorted(runs[0], key=lambda i: int(_marks(page).boxes[i, 0]))


def test_two_fields_one_above_the_other_stay_apart() -> None:
    page = _blank(400, 900)
    for k in range(4):
        _zero(page, 60 + 70 * k, 60)
        _zero(page, 60 + 70 * k, 200)
    runs = group_fields(_marks(page).boxes, **GROUPING)
    assert [len(r) for r in runs] == [4, 4]


def test_a_bold_zero_is_not_taken_for_a_punch_hole() -> None:
    page = _blank()
    cv2.ellipse(page, (200, 150), (24, 30), 0, 0, 360, 0, 16, cv2.LINE_AA)  # pen 1.4 mm
    cv2.circle(page, (500, 150), 35, 20, -1)  # a 6 mm punch hole
    boxes = _marks(page).boxes
    assert len(boxes) == 1 and abs(int(boxes[0, 0]) - 168) <= 4


def test_a_small_digit_in_the_line_joins_the_field_and_separators_do_not_split_it() -> None:
    page = _blank()
    for x in [60, 125, 215, 280, 345, 435, 500]:  # 1,25,000 with a comma after 1 and 25
        _zero(page, x, 100)
    cv2.line(page, (108, 158), (103, 172), 0, 5)  # commas at the baseline
    cv2.line(page, (263, 158), (258, 172), 0, 5)
    _zero(page, 570, 122, h=38, w=4)  # a 3.2 mm zero: a digit, ...
    _zero(page, 640, 130, h=30, w=4)  # ... and a 2.5 mm one written small
    cv2.line(page, (780, 130), (800, 130), 0, 4)  # a dash well after the field stays out
    cv2.line(page, (300, 40), (312, 40), 0, 4)  # a stroke above the line stays out
    marks = _marks(page)
    runs = group_fields(marks.boxes, printed=marks.print_row, **GROUPING)
    assert len(runs) == 1
    b = marks.boxes[runs[0]]
    assert len(b) == 9  # the digits; the commas are left to the classifier of marks
    assert list(b[:, 0]) == sorted(b[:, 0])
    assert b[-1, 3] < 3.0 * PPM


def test_a_small_digit_filling_a_wide_gap_keeps_a_boxed_date_whole() -> None:
    page = _blank(300, 900)
    for k in range(8):  # a date one digit per 6 mm box; the third written 2.8 mm tall
        if k == 2:
            _zero(page, 40 + 70 * k + 8, 122, h=28, w=4)
        else:
            _zero(page, 40 + 70 * k, 100, h=50)
    marks = _marks(page)
    runs = group_fields(marks.boxes, printed=marks.print_row, **GROUPING)
    # Without the small zero the gap is wider than a field's: it carries the field across.
    assert [len(r) for r in runs] == [8]
    assert marks.boxes[runs[0][2], 3] < 3.0 * PPM


def test_comb_ticks_beside_the_digits_do_not_join_the_field() -> None:
    page = _blank()
    for k in range(8):  # ticks drawn by hand: not alike enough to be print
        x = 60 + 65 * k
        _zero(page, x, 100)
        cv2.line(page, (x + 54, 150 - 3 * (k % 3)), (x + 54 + k % 2, 168), 0, 3 + k % 2)
    marks = _marks(page)
    runs = group_fields(marks.boxes, printed=marks.print_row, **GROUPING)
    assert [len(r) for r in runs] == [8]


def test_digits_cut_flat_by_an_underline_are_not_taken_for_print() -> None:
    page = _blank()
    for k in range(6):  # alternately whole zeros and zeros whose bottom was cut flat
        h = 60 if k % 2 == 0 else 30
        _zero(page, 100 + 70 * k, 100 + 60 - h if k % 2 == 0 else 130, h=60)
        if k % 2:
            page[160:, 100 + 70 * k : 170 + 70 * k] = 245
    marks = _marks(page)
    assert not marks.is_print_row().any()


def test_commas_in_an_amount_do_not_make_it_text() -> None:
    page = _blank()
    for k, x in enumerate([60, 150, 215, 305]):  # 1,25,0 written with round commas
        _zero(page, x, 100)
        if k in (0, 2):
            cv2.ellipse(page, (x + 68, 160), (5, 9), 20, -90, 150, 0, 5, cv2.LINE_AA)
    marks = _marks(page)
    runs = group_fields(marks.boxes, printed=marks.print_row, **GROUPING)
    assert [len(r) for r in runs] == [4]


def _scribble(page: np.ndarray, x: int, y: int, w: int, h: int, loops: float) -> None:
    """A signature-like looping stroke in the box (x, y, w, h)."""
    t = np.linspace(0, 1, 400)
    xs = x + w * t + 0.08 * w * np.sin(2 * np.pi * loops * t)
    ys = y + h / 2 * (1 + 0.95 * np.sin(2 * np.pi * loops * 1.3 * t))
    pts = np.stack([xs, ys], axis=1).astype(np.int32)
    cv2.polylines(page, [pts], False, 0, 5, cv2.LINE_AA)


def test_a_lone_short_signature_is_not_a_field_but_touching_digits_in_a_field_are() -> None:
    page = _blank(400, 900)
    _scribble(page, 100, 60, 220, 90, 3)  # 19 x 8 mm, one stroke
    for x in (100, 147, 215):  # a field whose first two zeros touch
        _zero(page, x, 250)
    marks = _marks(page)
    runs = group_fields(marks.boxes, printed=marks.print_row, clutter=marks.clutter, **GROUPING)
    assert len(runs) == 1
    assert marks.boxes[runs[0], 1].min() >= 240


def test_strokes_beside_a_dropped_cursive_word_are_not_a_field() -> None:
    page = _blank(400, 900)
    _scribble(page, 150, 100, 420, 60, 7)  # a joined-up word, too long for a digit
    cv2.line(page, (120, 100), (118, 160), 0, 6)  # the stem of a capital before it
    _scribble(page, 150, 260, 420, 60, 7)  # the same, a digit field 6 mm after it
    for x in (640, 700, 760):
        _zero(page, x, 255)
    marks = _marks(page)
    assert marks.clutter is not None and len(marks.clutter) == 2
    runs = group_fields(marks.boxes, printed=marks.print_row, clutter=marks.clutter, **GROUPING)
    assert [len(r) for r in runs] == [3]


def test_an_amount_with_a_rupee_sign_a_slash_dash_end_and_uneven_digits_is_kept() -> None:
    page = _blank(300, 1000)
    # A written rupee sign: two bars, a bowl and a leg.
    cv2.line(page, (60, 100), (110, 100), 0, 5)
    cv2.line(page, (60, 115), (110, 115), 0, 5)
    cv2.ellipse(page, (72, 115), (22, 15), 0, -90, 90, 0, 5)
    cv2.line(page, (72, 130), (105, 165), 0, 5)
    x = 130
    for h in (62, 44, 58, 42, 60, 45):  # digits of uneven size on one baseline
        _zero(page, x, 165 - h, h=h)
        x += h * 2 // 3 + 14
    cv2.line(page, (x + 30, 95), (x, 175), 0, 5)  # "/-": a slash taller than the digits
    cv2.line(page, (x + 22, 130), (x + 55, 130), 0, 5)
    marks = _marks(page)
    runs = group_fields(marks.boxes, printed=marks.print_row, clutter=marks.clutter, **GROUPING)
    assert len(runs) == 1 and len(runs[0]) >= 8


def test_hyphens_carry_a_date_across_wide_gaps_but_words_do_not() -> None:
    page = _blank(400, 1600)
    x = 40
    for part in (2, 2, 4):  # 00-00-0000, 9 mm between the groups, a dash in each gap
        for _ in range(part):
            _zero(page, x, 60)
            x += 50
        if part != 4:
            cv2.line(page, (x + 25, 95), (x + 60, 95), 0, 5)
            x += 106
    _zero(page, 40, 250)  # a field, then a word of x-height letters 9 mm on, then a field
    _zero(page, 90, 250)
    cv2.putText(page, "ace", (240, 310), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 0, 4, cv2.LINE_AA)
    _zero(page, 440, 250)
    _zero(page, 490, 250)
    marks = _marks(page)
    runs = group_fields(marks.boxes, printed=marks.print_row, clutter=marks.clutter, **GROUPING)
    assert [len(r) for r in runs] == [8, 2, 2]


def test_a_written_date_whose_digits_fall_in_two_rows_is_one_field() -> None:
    # Marks of 22-03-2022 as read from a generated cheque at 200 dpi: digits
    # of uneven size and height, the hyphens in gaps wider than the field gap.
    boxes = np.array(
        [
            [1141, 69, 46, 41], [1204, 64, 32, 42], [1244, 87, 26, 6], [1283, 76, 28, 32],
            [1318, 72, 25, 34], [1361, 88, 19, 6], [1388, 69, 37, 37], [1432, 60, 34, 41],
            [1477, 72, 23, 31], [1514, 58, 35, 44],
        ]
    )  # fmt: skip
    grouping = {**GROUPING, "px_per_mm": 200 / 25.4}
    runs = group_fields(boxes, **grouping)
    assert runs == [[0, 1, 3, 4, 6, 7, 8, 9]]
    # The 5 of 758 whose flag floats apart, and its neighbours in another row.
    boxes = np.array(
        [[1157, 297, 20, 32], [1188, 301, 23, 28], [1204, 291, 31, 7], [1244, 287, 27, 38],
         [1291, 277, 33, 44], [1330, 278, 7, 44]]
    )  # fmt: skip
    runs = group_fields(boxes, **{**GROUPING, "px_per_mm": 188 / 25.4})
    assert runs == [[0, 1, 3, 4, 5]]


def test_boxes_of_dilated_ink_come_from_the_ink_itself() -> None:
    from digitd.pipeline.seg.components import label_components
    from digitd.pipeline.seg.group import _boxes_of

    rng = np.random.default_rng(7)
    ink = (rng.random((90, 120)) < 0.01).astype(np.uint8)
    ink[0, 5] = ink[89, 7] = 1  # dilation clipped at the top and the bottom
    gap = 4
    joined = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * gap + 1)))
    n, labels, stats = label_components(joined, areas=False)
    ys, xs = np.nonzero(ink)
    got = _boxes_of(n, labels, ys, xs, gap=gap, rows=ink.shape[0])
    np.testing.assert_array_equal(got, stats)


def test_the_hyphen_closing_an_amount_joins_it_for_the_classifier_of_marks() -> None:
    page = _blank()
    for x in [60, 125, 190]:
        _zero(page, x, 100)
    cv2.line(page, (270, 160), (290, 100), 0, 5)  # the slash of "/-" ...
    cv2.line(page, (315, 130), (340, 130), 0, 5)  # ... and its hyphen, mid-height
    cv2.line(page, (440, 130), (465, 130), 0, 5)  # a dash far after the field
    cv2.line(page, (350, 185), (375, 185), 0, 5)  # and one under the line
    marks = _marks(page)
    runs = group_fields(marks.boxes, printed=marks.print_row, **GROUPING)
    assert len(runs) == 1
    b = marks.boxes[runs[0]]
    assert len(b) == 5 and b[-1, 0] >= 310 and b[-1, 2] > 2 * b[-1, 3]


def test_a_box_wall_left_by_line_removal_is_found_and_a_one_spanning_a_cell_is_not() -> None:
    # Line removal took the rules of a row of cells but left its left wall: the
    # rules stop there and run on to the right. A 1 in the second cell spans the
    # cell from rule to rule, with the rules running past it on both sides.
    ink = np.zeros((300, 900), np.uint8)
    horizontal = np.zeros_like(ink)
    horizontal[100:103, 100:700] = 1
    horizontal[180:183, 100:700] = 1
    ink[101:182, 100:104] = 1  # the wall, 80 px tall
    ink[101:182, 250:256] = 1  # the 1, as tall, in the row
    cv2.ellipse(ink, (190, 140), (20, 30), 0, 0, 360, 1, 5)  # a 0 in the first cell
    marks = _find(ink)
    walls = find_wall_stubs(marks, horizontal, px_per_mm=PPM, min_height_mm=3.0)
    assert len(marks.boxes) == 3
    assert marks.boxes[walls, 0].tolist() == [100]


def test_a_leaning_one_whose_foot_passes_under_a_zero_stays_its_own_mark() -> None:
    # The 1's foot comes within the bridge's reach below the 0's lower right,
    # in the same columns, without touching it: two digits side by side.
    ink = np.zeros((300, 400), np.uint8)
    cv2.ellipse(ink, (150, 135), (20, 30), 0, 0, 360, 1, 5)
    cv2.line(ink, (191, 100), (171, 176), 1, 5)
    labels = cv2.connectedComponents(ink)[1]
    assert cv2.connectedComponents(ink)[0] == 3
    marks = _find(ink)
    assert len(marks.boxes) == 2
    assert sorted(int(marks.mask_of(g).sum()) for g in range(2)) == sorted(
        int((labels == k).sum()) for k in (1, 2)
    )


def test_the_floating_bar_of_a_five_still_joins_it() -> None:
    ink = np.zeros((300, 400), np.uint8)
    cv2.line(ink, (150, 100), (185, 100), 1, 5)
    cv2.ellipse(ink, (160, 150), (22, 25), 0, -150, 150, 1, 5)
    cv2.line(ink, (145, 110), (140, 135), 1, 5)
    assert cv2.connectedComponents(ink)[0] == 3
    marks = _find(ink)
    assert len(marks.boxes) == 1
    assert marks.mask_of(0).sum() == ink.sum()


def test_the_walls_of_boxes_whose_rules_were_lost_are_found_and_written_ones_are_not() -> None:
    # A date's eight 6 mm boxes, printed light: line removal found neither rule,
    # and the walls (one lost to the scan) stand among the digits.
    page = _blank(300, 1200)
    for k in range(9):
        if k != 4:
            cv2.line(page, (40 + 71 * k, 60), (40 + 71 * k, 140), 0, 2)
    for k in range(8):  # the seventh digit touches its box's right wall
        _zero(page, 55 + 71 * k + (14 if k == 6 else 0), 75 + 3 * (k % 3), h=55)
    # Handwritten ones, evenly spaced but not level, on the line below.
    for k in range(6):
        top = 200 + (k * 7) % 11
        cv2.line(page, (60 + 70 * k, top), (62 + 70 * k, top + 60 + k % 4), 0, 4)
    marks = _marks(page)
    rows = find_wall_rows(marks, px_per_mm=PPM, min_height_mm=3.0)
    assert len(rows) == 1
    (row,) = rows
    # All nine walls, the lost one placed by the pitch; none among the ones below.
    assert np.allclose(row.centres, 40 + 71 * np.arange(9), atol=2)
    assert row.top < 65 and row.bottom > 135
    clean = erase_wall_rows(marks.ink, rows)
    boxes = _find(clean).boxes
    assert len(boxes) == 8 + 6 and not np.any((boxes[:, 3] >= 78) & (boxes[:, 1] < 150))


def test_walls_hidden_in_the_digits_that_touch_them_count_towards_the_row() -> None:
    # The same light date boxes, but five digits touch their left wall and the
    # last its right one: only three walls stand alone, two of them adjacent.
    page = _blank(300, 1200)
    for k in range(9):
        cv2.line(page, (40 + 71 * k, 60), (40 + 71 * k, 140), 0, 2)
    lefts = [55, 55 + 71] + [40 + 71 * k for k in range(2, 7)] + [40 + 71 * 8 - 2 * (55 // 3)]
    for k, x in enumerate(lefts):
        _zero(page, x, 75 + 3 * (k % 3), h=55)
    marks = _marks(page)
    assert np.sum(marks.boxes[:, 2] < 10) == 3
    rows = find_wall_rows(marks, px_per_mm=PPM, min_height_mm=3.0)
    assert len(rows) == 1
    assert np.allclose(rows[0].centres, 40 + 71 * np.arange(9), atol=2)
    boxes = _find(erase_wall_rows(marks.ink, rows)).boxes
    assert len(boxes) == 8 and np.all(boxes[:, 3] < 70)


def test_a_short_digit_standing_in_a_date_box_is_a_digit_and_a_printed_guide_is_not() -> None:
    # DDMMYYYY in printed boxes 6 mm wide and 6.5 mm tall, and two boxes more,
    # empty but for their printed "Y" guides (1 mm). The last digit, a slanted
    # 1, is 2.8 mm tall: under the 3 mm digit limit, but 0.4 of its box.
    page = _blank(300, 1100)
    x0, y0, cell, tall = 60, 90, 71, 77
    for k in range(10):
        cv2.rectangle(page, (x0 + cell * k, y0), (x0 + cell * (k + 1), y0 + tall), 0, 2)
    for k in range(7):
        _zero(page, x0 + cell * k + 18, y0 + 12, h=55)
    cv2.line(page, (x0 + cell * 7 + 40, y0 + 38), (x0 + cell * 7 + 32, y0 + 66), 0, 4)
    for k in (7, 8, 9):
        cv2.putText(page, "Y", (x0 + cell * k + 8, y0 + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 80, 2)
    ink = binarize_page(page, px_per_mm=PPM)
    clean, horizontal, vertical = remove_form_lines(
        ink, px_per_mm=PPM, min_length_mm=12.0, max_thickness_mm=0.9
    )
    marks = join_fragments(_find(clean), px_per_mm=PPM, min_height_mm=3.0)
    cells = find_box_cells(
        horizontal, vertical, [], px_per_mm=PPM, min_height_mm=3.0, max_height_mm=16.0
    )
    assert len(cells) == 10
    assert (np.abs(cells[:, 3] - (tall - 2)) <= 4).all()  # inside the rules
    one = np.flatnonzero((marks.boxes[:, 3] < 3.0 * PPM) & (marks.boxes[:, 3] >= 25))
    assert len(one) == 1  # the 1 is short, and no guide is as tall
    assert [len(r) for r in group_fields(marks.boxes, **GROUPING)] == [7]
    runs = group_fields(marks.boxes, cells=cells, **GROUPING)
    assert [len(r) for r in runs] == [8]
    assert runs[0][-1] == one[0]


def test_a_hair_thin_wall_left_of_a_light_box_is_dropped_and_a_fine_one_is_kept() -> None:
    # At the working 200 dpi, what binarization keeps of a light box's wall: a
    # one-pixel column with a pixel of the rule it met on top. A one written
    # with a fine pen is two pixels wide (0.25 mm).
    ink = np.zeros((200, 400), np.uint8)
    ink[60:100, 100] = 1
    ink[60, 99] = 1
    ink[60:100, 200:202] = 1
    marks = find_marks(
        ink,
        px_per_mm=200 / 25.4,
        speck_mm=0.8,
        min_height_mm=3.0,
        max_height_mm=16.0,
        max_aspect=3.5,
        merge_gap_mm=1.2,
    )
    assert marks.boxes[:, 0].tolist() == [200]


def test_line_boxes_are_the_components_of_the_whole_mask() -> None:
    from digitd.pipeline.seg.components import label_components
    from digitd.pipeline.seg.group import _line_boxes

    rng = np.random.default_rng(3)
    mask = np.zeros((120, 300), np.uint8)
    mask[:, rng.choice(300, 40, replace=False)] = rng.random((120, 40)) < 0.7
    # Lines one blank column apart stay apart; columns touching by a corner join.
    mask[10:60, 200] = mask[10:60, 202] = 1
    mask[70:90, 250] = mask[90:110, 251] = 1
    mask[:, 299] = 1  # the last column
    np.testing.assert_array_equal(_line_boxes(mask), label_components(mask)[2][1:, :4])
    assert len(_line_boxes(np.zeros((5, 5), np.uint8))) == 0


def test_box_cells_of_two_box_rows_beside_a_table_rule() -> None:
    # Two rows of 8 printed boxes (6 and 5 mm wide) and a rule down the page,
    # too tall to be a box wall: 16 cells, each inside its walls and rules.
    page = _blank(600, 1400)
    for row, (x0, cell) in enumerate([(60, 71), (700, 60)]):
        for k in range(8):
            y0 = 90 + 220 * row
            cv2.rectangle(page, (x0 + cell * k, y0), (x0 + cell * (k + 1), y0 + 77), 0, 2)
    cv2.line(page, (40, 40), (40, 560), 0, 3)
    ink = binarize_page(page, px_per_mm=PPM)
    _, horizontal, vertical = remove_form_lines(
        ink, px_per_mm=PPM, min_length_mm=12.0, max_thickness_mm=0.9
    )
    cells = find_box_cells(
        horizontal, vertical, [], px_per_mm=PPM, min_height_mm=3.0, max_height_mm=16.0
    )
    left = np.concatenate([60 + 71 * np.arange(8), 700 + 60 * np.arange(8)])
    assert len(cells) == 16
    assert (np.abs(cells[:, 0] - left) <= 4).all()
    assert (np.abs(cells[:, 2] - np.repeat([71, 60], 8)) <= 6).all()
    assert (cells[:8, 1] > 90).all() and (cells[:8, 1] + cells[:8, 3] < 90 + 77).all()
