"""Vectorized HOG against scikit-image's reference implementation."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.feature import hog

from digitd.pipeline.features import HogParams, extract_hog, hog_length


@pytest.mark.parametrize(
    "params",
    [
        HogParams(),
        HogParams(orientations=8, cell=7, block=2, block_norm="L2-Hys"),
        HogParams(orientations=12, cell=5, block=2, block_norm="L2"),
        HogParams(orientations=6, cell=4, block=1, block_norm="L1"),
    ],
)
def test_extract_hog_equals_skimage(params: HogParams) -> None:
    rng = np.random.default_rng(1)
    images = rng.random((5, 28, 30)).astype(np.float32)
    images[0] = 0.0  # flat image: no gradient at all
    got = extract_hog(images, params)
    assert got.dtype == np.float32
    assert got.shape == (5, hog_length((28, 30), params))
    for image, row in zip(images, got, strict=True):
        expected = hog(
            image.astype(np.float64),
            orientations=params.orientations,
            pixels_per_cell=(params.cell, params.cell),
            cells_per_block=(params.block, params.block),
            block_norm=params.block_norm,
        )
        np.testing.assert_allclose(row, expected, atol=1e-5)


def test_extract_hog_of_an_empty_stack_has_the_right_width() -> None:
    out = extract_hog(np.zeros((0, 28, 28), np.float32))
    assert out.shape == (0, 2025)


def test_extract_hog_names_the_smallest_image_size() -> None:
    with pytest.raises(ValueError, match="at least 12x12"):
        extract_hog(np.zeros((1, 11, 28), np.float32))
    with pytest.raises(ValueError, match="block_norm"):
        extract_hog(np.zeros((1, 28, 28)), HogParams(block_norm="L3"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(N, h, w\)"):
        extract_hog(np.zeros((28, 28)))


def test_soft_bins_agree_with_hard_bins_at_a_bin_centre_and_split_elsewhere() -> None:
    yy, xx = np.mgrid[:28, :28].astype(np.float32)
    at_centre = np.radians(10.0)  # the centre of bin 0 (0-20 degrees)
    between = np.radians(20.0)  # the edge between bins 0 and 1
    ramp = np.stack([yy * np.sin(a) + xx * np.cos(a) for a in (at_centre, between)]) / 40.0
    hard = extract_hog(ramp, HogParams(block_norm="L1"))
    soft = extract_hog(ramp, HogParams(block_norm="L1", soft_bins=True))
    # The central block (2, 2) of the 5x5 blocks: away from the border, where
    # the gradient is cut to zero in one direction.
    centre = slice(12 * 81, 13 * 81)
    np.testing.assert_allclose(soft[0, centre], hard[0, centre], atol=1e-4)
    first_cell = soft[1, centre][:9]  # its first cell's nine orientation bins
    assert first_cell[0] == pytest.approx(first_cell[1], rel=0.05)
    assert first_cell[0] > 0 and first_cell[2:].sum() < 1e-6


def test_second_cell_appends_the_coarse_hog_of_the_same_images() -> None:
    rng = np.random.default_rng(2)
    images = rng.random((3, 28, 28)).astype(np.float32)
    fine = HogParams()
    both = extract_hog(images, HogParams(second_cell=7))
    assert both.shape == (3, hog_length((28, 28), HogParams(second_cell=7)))
    np.testing.assert_allclose(both[:, :2025], extract_hog(images, fine), atol=1e-6)
    for image, row in zip(images, both, strict=True):
        expected = hog(
            image.astype(np.float64),
            orientations=9,
            pixels_per_cell=(7, 7),
            cells_per_block=(2, 2),
            block_norm="L1-sqrt",
        )
        np.testing.assert_allclose(row[2025:], expected, atol=1e-5)
