"""Connected components: the same labels and statistics as OpenCV's own."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitd.pipeline.seg.components import ink_coordinates, label_components, label_points


@pytest.mark.parametrize("density", [0.02, 0.3, 0.7])
@pytest.mark.parametrize("value", [1, 255])
def test_label_components_matches_opencv_stats(density: float, value: int) -> None:
    rng = np.random.default_rng(3)
    mask = np.where(rng.random((97, 131)) < density, value, 0).astype(np.uint8)
    n, labels, stats = label_components(mask)
    n_cv, labels_cv, stats_cv, _ = cv2.connectedComponentsWithStats(
        mask, connectivity=8, ltype=cv2.CV_32S
    )
    assert n == n_cv >= 2
    np.testing.assert_array_equal(labels, labels_cv)
    assert stats.dtype == np.int64 and stats.shape == (n, 5)
    np.testing.assert_array_equal(stats[1:], stats_cv[1:])
    np.testing.assert_array_equal(stats[0], 0)


def test_label_components_without_areas_leaves_the_area_column_zero() -> None:
    mask = np.zeros((20, 30), np.uint8)
    mask[2:5, 3:9] = 1
    mask[10:18, 20] = 1
    n, _, stats = label_components(mask, areas=False)
    assert n == 3
    assert stats[1:, :4].tolist() == [[3, 2, 6, 3], [20, 10, 1, 8]]
    assert (stats[:, 4] == 0).all()


def test_label_components_of_an_empty_mask() -> None:
    n, labels, stats = label_components(np.zeros((5, 7), np.uint8))
    assert n == 1
    assert labels.shape == (5, 7) and not labels.any()
    assert stats.shape == (1, 5) and not stats.any()


def test_ink_coordinates_are_those_of_np_nonzero() -> None:
    rng = np.random.default_rng(5)
    mask = (rng.random((40, 57)) < 0.1).astype(np.uint8) * 255
    ys, xs = ink_coordinates(mask[::2, 1::3])  # a strided view as well
    want_y, want_x = np.nonzero(mask[::2, 1::3])
    np.testing.assert_array_equal(ys, want_y)
    np.testing.assert_array_equal(xs, want_x)
    ys, xs = ink_coordinates(np.zeros((4, 4), np.uint8))
    assert len(ys) == len(xs) == 0


def test_label_points_gives_each_foreground_pixel_with_its_label() -> None:
    rng = np.random.default_rng(5)
    mask = (rng.random((61, 83)) < 0.2).astype(np.uint8)
    n, labels, stats, (ys, xs, owner) = label_points(mask)
    n_ref, labels_ref, stats_ref = label_components(mask)
    assert n == n_ref
    np.testing.assert_array_equal(labels, labels_ref)
    np.testing.assert_array_equal(stats, stats_ref)
    ys_ref, xs_ref = np.nonzero(mask)
    np.testing.assert_array_equal(ys, ys_ref)
    np.testing.assert_array_equal(xs, xs_ref)
    np.testing.assert_array_equal(owner, labels_ref[ys_ref, xs_ref])


def test_label_points_of_an_empty_mask() -> None:
    n, _, stats, (ys, xs, owner) = label_points(np.zeros((4, 6), np.uint8))
    assert n == 1 and not stats.any()
    assert len(ys) == len(xs) == len(owner) == 0
