"""Parameters and results of page segmentation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from digitd.results import Box

__all__ = [
    "CropScorer",
    "DigitCrop",
    "Field",
    "SegmentationParams",
    "SegmentedPage",
    "Template",
    "Zone",
    "read_crops",
]

CropScorer = Callable[[Sequence[np.ndarray]], np.ndarray]
"""Recognizer confidence, (N,) float array in [0, 1], for a list of N crops; or
(N, 2), the second column each crop's distance to the nearest known digit (in
the recognizer's feature space: how unlike every digit it is)."""


def read_crops(score_crops: CropScorer, crops: Sequence[np.ndarray]) -> np.ndarray:
    """What ``score_crops`` says of ``crops``, as an (N, 2) float64 ndarray.

    Column 0 is the confidence, column 1 the nearest-digit distance (NaN
    when the scorer gives only confidences).
    """
    read = np.asarray(score_crops(crops), dtype=np.float64)
    if read.ndim == 2:
        return read[:, :2]
    return np.column_stack([read, np.full(len(read), np.nan)])


@dataclass(frozen=True, slots=True)
class SegmentationParams:
    """Tuning of segmentation.

    Every size is in millimetres so that it scales with the page's dpi (or
    with the scale measured from the page when the file carries no dpi).
    """

    min_digit_height_mm: float = 3.0
    max_digit_height_mm: float = 16.0
    field_gap_mm: float = 8.0
    split_ratio: float = 1.4
    overlap_ratio: float = 1.1
    max_mark_aspect: float = 3.5
    merge_gap_mm: float = 1.2
    line_min_length_mm: float = 12.0
    line_max_thickness_mm: float = 0.9
    speck_size_mm: float = 0.8
    max_skew_degrees: float = 5.0
    work_dpi: float = 200.0
    separate_colour: bool = True


@dataclass(frozen=True, slots=True)
class Zone:
    """A named rectangle of a template, measured from the page's top-left.

    ``unit`` is ``"mm"`` (millimetres, converted with the page's dpi) or
    ``"fraction"`` (of the page's width and height).
    """

    name: str
    x: float
    y: float
    w: float
    h: float
    unit: Literal["mm", "fraction"] = "mm"


@dataclass(frozen=True, slots=True)
class Template:
    """Named zones for one document type, chosen by a filename glob (``match``)."""

    name: str
    zones: tuple[Zone, ...]
    match: str = "*"


@dataclass(frozen=True, slots=True)
class DigitCrop:
    """One digit candidate.

    Attributes
    ----------
    box : (x, y, w, h) tuple of int
        In original page coordinates.
    image : (h, w) uint8 ndarray
        The cleaned crop, ink dark (0) on light (255), in the deskewed page.
    """

    box: Box
    image: np.ndarray


@dataclass(frozen=True, slots=True)
class Field:
    """Digit candidates of one field, left to right.

    Attributes
    ----------
    name : str
        The template zone's name, or ``line-N`` in full-page mode.
    box : (x, y, w, h) tuple of int
        In original page coordinates.
    digits : tuple of DigitCrop
    """

    name: str
    box: Box
    digits: tuple[DigitCrop, ...]


@dataclass(frozen=True, slots=True)
class SegmentedPage:
    """Fields in reading order, and the skew that was corrected.

    Attributes
    ----------
    fields : tuple of Field
    skew_degrees : float
        Angle of the page's text lines, positive when they descend to the right.
    px_per_mm : float
        The scale used: from the dpi, or measured from the page.
    left_out : (K, 4) int64 ndarray
        x, y, w, h (original page pixels) of the writing no field took:
        marks grouping left out (words, letters, signature pieces, stray
        strokes) and writing dropped as too long or too big for a digit. Small
        print and box walls are not in it. Evidence for judging a field by the
        ink around it: a field that runs on into letters is part of a word.
    """

    fields: tuple[Field, ...]
    skew_degrees: float
    px_per_mm: float = 300.0 / 25.4
    left_out: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int64))
