"""Training, augmentation, non-digits, adding a person's samples, training sheets."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitd.errors import InputError
from digitd.model.augment import AugmentParams, augment_crops
from digitd.model.fonts import find_fonts, render_glyph
from digitd.model.nondigits import NONDIGIT_KINDS, REJECT_LETTERS, generate_nondigits
from digitd.model.sheet import split_training_sheet
from digitd.model.training import TrainParams, add_samples, build_model
from digitd.pipeline.recognize import classify_digits


def _accuracy(model, images, labels) -> float:
    p = classify_digits(images, model)
    return float(((p.labels.astype(int) == labels) & ~p.rejected).mean())


def test_model_predicts_its_own_samples(trained) -> None:
    assert _accuracy(trained.model, trained.train_images[::4], trained.train_labels[::4]) > 0.995


def test_held_out_figures_are_reported_and_plausible(trained) -> None:
    v = trained.result.validation
    assert trained.result.validation_count > 300
    assert 0.9 < v.accuracy <= 1.0
    assert v.accepted_accuracy >= v.accuracy
    assert sum(row["count"] for row in v.reliability) > 0
    assert trained.model.calibration is not None


def _scanned(image: np.ndarray, *, scale: int, thicken: int, binary: bool) -> np.ndarray:
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    if thicken:
        big = cv2.erode(big, np.ones((thicken, thicken), np.uint8))  # dark ink grows
    if binary:
        big = np.where(big < 128, 0, 255).astype(np.uint8)
    else:  # grey paper, grey ink, a little noise
        rng = np.random.default_rng(0)
        big = (40 + big.astype(np.float64) * 0.75 + rng.normal(0, 4, big.shape)).clip(0, 255)
        big = big.astype(np.uint8)
    return big


@pytest.mark.parametrize(
    ("scale", "thicken", "binary"),
    [(3, 0, True), (6, 5, True), (10, 13, False), (2, 0, False)],
)
def test_accuracy_holds_on_scan_like_crops(trained, scale, thicken, binary) -> None:
    images, labels = trained.test_images[::2], trained.test_labels[::2]
    base = _accuracy(trained.model, images, labels)
    scans = [_scanned(im, scale=scale, thicken=thicken, binary=binary) for im in images]
    assert base > 0.94
    assert _accuracy(trained.model, scans, labels) > base - 0.03


def test_augment_crops_makes_reproducible_distinct_copies() -> None:
    rng = np.random.default_rng(0)
    crops = [np.where(rng.random((40, 30)) < 0.2, 0, 255).astype(np.uint8) for _ in range(4)]
    labels = np.array([1, 2, 3, 4])
    params = AugmentParams(copies=2)
    a, la = augment_crops(crops, labels, params=params, seed=7)
    b, _ = augment_crops(crops, labels, params=params, seed=7)
    assert len(a) == 8 and la.tolist() == [1, 2, 3, 4, 1, 2, 3, 4]
    assert all(x.dtype == np.uint8 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], a[4])


def test_nondigits_are_ink_marks_of_every_kind() -> None:
    marks = generate_nondigits(60, seed=0)
    assert len(marks) == 60
    assert all(m.dtype == np.uint8 and m.ndim == 2 and (m < 128).any() for m in marks)
    assert all(max(m.shape) >= 10 for m in marks)
    assert not set(REJECT_LETTERS) & set("0123456789OoIlSsZzBgq")
    assert generate_nondigits(5, kinds=("blob",), seed=1)[0].shape != (0, 0)
    with pytest.raises(ValueError, match="unknown non-digit kinds"):
        generate_nondigits(1, kinds=("stamp",))
    assert "letter" in NONDIGIT_KINDS


def _person_digits(font, count: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """One person's hand: a handwriting font, thick pen, with small distortions."""
    glyphs = {d: render_glyph(str(d), font, 64) for d in range(10)}
    base = [cv2.erode(glyphs[d], np.ones((3, 3), np.uint8)) for d in range(10)]
    labels = np.repeat(np.arange(10), count)
    crops, _ = augment_crops(
        [base[d] for d in labels],
        labels,
        params=AugmentParams(rotation_degrees=6, scale=0.1, shear=0.1, thickness=0.0, elastic=1.5),
        seed=seed,
    )
    return crops, labels


def test_adding_a_persons_samples_raises_accuracy_on_their_other_digits(trained) -> None:
    fonts = [f for f in find_fonts("handwriting") if "femkeklaver" in f.name.lower()]
    fonts = fonts or find_fonts("handwriting")
    assert fonts, "handwriting fonts are installed by .ci/run (fonts-femkeklaver and others)"
    sheet, sheet_labels = _person_digits(fonts[0], 10, seed=1)
    others, other_labels = _person_digits(fonts[0], 20, seed=2)
    before = _accuracy(trained.model, others, other_labels)
    taught = add_samples(trained.model, sheet, sheet_labels)
    after = _accuracy(taught, others, other_labels)
    assert len(taught.reference) == len(trained.model.reference) + 100
    assert after > before + 0.1
    assert after > 0.9
    # The model's other knowledge is kept.
    assert _accuracy(taught, trained.test_images, trained.test_labels) > (
        _accuracy(trained.model, trained.test_images, trained.test_labels) - 0.01
    )


def test_add_samples_refuses_bad_labels(trained) -> None:
    with pytest.raises(InputError, match="labels to add"):
        add_samples(trained.model, [np.zeros((20, 20), np.uint8)], np.array([11]))


def test_build_model_refuses_too_few_samples() -> None:
    with pytest.raises(InputError, match="at least 10"):
        build_model(
            [np.zeros((9, 9), np.uint8)] * 3, np.arange(3), params=TrainParams(), model_id="x"
        )


def _sheet(images: np.ndarray, labels: np.ndarray, per_row: int) -> np.ndarray:
    page = np.full((10 * 120 + 40, per_row * 100 + 40), 255, np.uint8)
    for digit in range(10):
        picks = images[labels == digit][:per_row]
        for j, im in enumerate(picks):
            big = cv2.resize(im, (84, 84), interpolation=cv2.INTER_LINEAR)
            y, x = 20 + digit * 120 + 10, 20 + j * 100 + 8
            page[y : y + 84, x : x + 84] = np.minimum(page[y : y + 84, x : x + 84], big)
    cv2.line(page, (5, 5), (page.shape[1] - 5, 5), 0, 2)  # a ruled line at the top
    return page


def test_training_sheet_gives_rows_as_labels(trained) -> None:
    page = _sheet(trained.test_images, trained.test_labels, per_row=6)
    crops, labels = split_training_sheet(page)
    assert np.bincount(labels, minlength=10).tolist() == [6] * 10
    assert _accuracy(trained.model, crops, labels) > 0.9


def test_training_sheet_with_missing_rows_is_refused(trained) -> None:
    page = _sheet(trained.test_images, trained.test_labels, per_row=3)[: 5 * 120]
    with pytest.raises(InputError, match="expected 10"):
        split_training_sheet(page)
