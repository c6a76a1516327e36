"""Deskew: the skew measured, the ink turned level, boxes mapped back to the scan."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitd.pipeline.seg.deskew import (
    _projection_energy,
    estimate_skew,
    identity_rotation,
    map_box_back,
    map_boxes_back,
    rotate_ink,
)

PPM = 200 / 25.4  # the work image's pixels per mm

# Digit-sized blobs (x, y, w, h) on a 1000x1400 straight page, ruled lines at LINES.
BLOBS = ((120, 150, 30, 50), (700, 160, 34, 48), (1250, 900, 28, 52), (400, 620, 40, 40))
LINES = (230, 500, 760)


def _draw(blobs: tuple[tuple[int, int, int, int], ...], lines: tuple[int, ...]) -> np.ndarray:
    page = np.zeros((1000, 1400), np.uint8)
    for x, y, w, h in blobs:
        cv2.ellipse(page, (x + w // 2, y + h // 2), (w // 2, h // 2), 0, 0, 360, 1, 4)
    for y in lines:
        page[y : y + 3, 60:1340] = 1
    return page


def _tilt(page: np.ndarray, degrees: float) -> np.ndarray:
    """The page as scanned askew: lines descend to the right for ``degrees > 0``."""
    matrix = cv2.getRotationMatrix2D((700, 500), -degrees, 1.0)
    return cv2.warpAffine(page, matrix, (1400, 1000), flags=cv2.INTER_NEAREST)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return (int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)


@pytest.mark.parametrize("degrees", [-2.7, -0.6, 0.4, 1.5, 4.5])
def test_boxes_of_a_skewed_page_map_back_within_a_pixel_or_two(degrees: float) -> None:
    scan = _tilt(_draw(BLOBS, LINES), degrees)
    skew = estimate_skew(scan, px_per_mm=PPM)
    assert skew == pytest.approx(degrees, abs=0.15)
    level, rotation = rotate_ink(scan, skew)
    for blob in BLOBS:
        alone = _tilt(_draw((blob,), ()), degrees)
        turned, _ = rotate_ink(alone, skew)
        box = _box(turned)
        # Upright again: the blob has its drawn size in the deskewed image ...
        drawn = _box(_draw((blob,), ()))
        assert box[2] == pytest.approx(drawn[2], abs=2)
        assert box[3] == pytest.approx(drawn[3], abs=2)
        # ... it is where the whole page put it, and it maps back onto the scan.
        assert level[box[1] : box[1] + box[3], box[0] : box[0] + box[2]].sum() == turned.sum()
        back = np.array(map_box_back(box, rotation, scale=1.0, shape=scan.shape))
        truth = np.array(_box(alone))
        # The box maps back onto the blob in the scan: centred on it within a
        # pixel or two, holding it, and no bigger than a box turned by the skew.
        centre = back[:2] + back[2:] / 2.0
        assert np.abs(centre - (truth[:2] + truth[2:] / 2.0)).max() <= 1.5, (back, truth)
        assert (back[:2] <= truth[:2] + 1).all()
        assert (back[:2] + back[2:] >= truth[:2] + truth[2:] - 1).all()
        slack = (box[2] + box[3]) * abs(np.sin(np.deg2rad(degrees))) + 2
        assert (back[2:] - truth[2:] <= slack).all(), (back, truth)


@pytest.mark.parametrize("degrees", [-3.0, 0.3, 2.2])
def test_rotated_ink_is_level_and_keeps_its_ink(degrees: float) -> None:
    scan = _tilt(_draw(BLOBS, LINES), degrees)
    level, rotation = rotate_ink(scan, degrees)
    assert level.dtype == np.uint8 and set(np.unique(level)) == {0, 1}
    assert abs(int(level.sum()) - int(scan.sum())) <= 0.02 * scan.sum()
    assert not rotation.identity
    eye = rotation.forward @ np.vstack([rotation.inverse, [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(eye, [[1, 0, 0], [0, 1, 0]], atol=1e-12)
    # Each 3-px rule now spans a band of a few rows, all the way across.
    rows = np.flatnonzero(level.sum(axis=1) > 600)
    bands = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    assert len(bands) == len(LINES)
    assert all(len(band) <= 5 for band in bands)
    # Nothing is cut off: every corner of the scan maps into the canvas.
    h, w = scan.shape
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64)
    mapped = corners @ rotation.forward.T
    assert mapped.min() >= -1.0
    assert (mapped[:, 0] <= level.shape[1] + 1).all() and (mapped[:, 1] <= level.shape[0] + 1).all()


def test_projection_energy_is_the_sum_of_squared_row_counts() -> None:
    rng = np.random.default_rng(3)
    ys = rng.integers(0, 400, 3000).astype(np.float64)
    xs = rng.integers(0, 900, 3000).astype(np.float64)
    xs -= xs.mean()
    angles = np.arange(-5.0, 5.0 + 1e-9, 0.5)
    energy = _projection_energy(ys, xs, angles)
    slopes = np.tan(np.deg2rad(angles))
    offset = np.abs(xs).max() * np.abs(slopes).max() + 1.0
    for angle, slope, got in zip(angles, slopes, energy, strict=True):
        rows = np.rint(ys - xs * slope + offset).astype(np.int64)
        _, counts = np.unique(rows, return_counts=True)
        assert got == float((counts.astype(np.int64) ** 2).sum()), angle


def _print_and_rising_writing(rise_degrees: float) -> np.ndarray:
    """A straight page without rules: a level row of small print, two rows of writing rising."""
    page = np.zeros((1000, 1400), np.uint8)
    for i in range(30):
        x = 80 + i * 22
        cv2.rectangle(page, (x, 300), (x + 12, 318), 1, 2)
    for row_y, x0, degrees in ((600, 300, rise_degrees), (800, 200, 0.7 * rise_degrees)):
        for k in range(12):
            x = x0 + k * 70
            y = round(row_y - (x - x0) * np.tan(np.deg2rad(degrees)))
            cv2.ellipse(page, (x, y), (22, 30), 0, 0, 360, 1, 5)
    return page


@pytest.mark.parametrize("rise", [3.5, 4.5])
def test_writing_rising_on_a_straight_page_turns_it_at_most_two_degrees(rise: float) -> None:
    # The sharpest angle follows the writing (3 degrees and more), but it beats
    # level by little: nothing printed or ruled turned with it.
    page = _print_and_rising_writing(rise)
    slopes = np.arange(-5.0, 5.01, 0.1)
    ys, xs = (v.astype(np.float64) for v in np.nonzero(page))
    energy = _projection_energy(ys, xs - xs.mean(), slopes)
    assert abs(slopes[int(np.argmax(energy))]) > 2.5
    assert estimate_skew(page, px_per_mm=PPM) == pytest.approx(-2.0, abs=0.05)


def test_rules_turned_further_than_two_degrees_are_followed_beside_rising_writing() -> None:
    # The scanner turned the whole sheet: rules, print and writing together.
    page = _print_and_rising_writing(4.5)
    for y in (200, 450, 900):
        page[y : y + 3, 60:1340] = 1
    scan = _tilt(page, 3.0)
    assert estimate_skew(scan, px_per_mm=PPM) == pytest.approx(3.0, abs=0.15)


@pytest.mark.parametrize("degrees", [0.0, 2.5])
def test_many_boxes_map_back_as_each_one_does(degrees: float) -> None:
    ink = np.zeros((400, 600), np.uint8)
    _, rotation = rotate_ink(ink, degrees) if degrees else (ink, identity_rotation())
    rng = np.random.default_rng(3)
    boxes = np.column_stack(
        [rng.integers(-20, 560, 50), rng.integers(-20, 360, 50), rng.integers(1, 80, (50, 2))]
    )
    many = map_boxes_back(boxes, rotation, scale=0.6, shape=(700, 1000))
    one = [
        map_box_back(tuple(int(v) for v in b), rotation, scale=0.6, shape=(700, 1000))
        for b in boxes
    ]
    assert many.tolist() == [list(b) for b in one]
    # Each box is the bounds of its four corners turned back, clipped to the page.
    for (x, y, w, h), got in zip(boxes, many, strict=True):
        corners = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], np.float64)
        back = cv2.transform(corners[None], rotation.inverse)[0] / 0.6
        x0, y0 = np.floor(np.maximum(0.0, back.min(axis=0)))
        x1, y1 = np.ceil(np.minimum([1000.0, 700.0], back.max(axis=0)))
        assert got.tolist() == [x0, y0, max(1.0, x1 - x0), max(1.0, y1 - y0)]
