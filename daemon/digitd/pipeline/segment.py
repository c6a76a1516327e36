"""Find fields of digit crops on a page.

FIRST CUT, to be replaced by the segmentation work (issue 4): global Otsu
threshold, connected components, lines by vertical overlap, fields by gaps.
The types and the signature of ``segment_page`` are the contract the rest of
the pipeline relies on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from digitd.results import Box

__all__ = [
    "DigitCrop",
    "Field",
    "SegmentationParams",
    "SegmentedPage",
    "Template",
    "Zone",
    "segment_page",
]

CropScorer = Callable[[Sequence[np.ndarray]], np.ndarray]


@dataclass(frozen=True, slots=True)
class SegmentationParams:
    """Tuning of segmentation; every size is in millimetres so it scales with dpi."""

    min_digit_height_mm: float = 2.0
    max_digit_height_mm: float = 25.0
    field_gap_mm: float = 6.0


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
        The cleaned crop, ink dark (0) on light (255).
    """

    box: Box
    image: np.ndarray


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    box: Box
    digits: tuple[DigitCrop, ...]


@dataclass(frozen=True, slots=True)
class SegmentedPage:
    fields: tuple[Field, ...]
    skew_degrees: float


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image


def _union(boxes: Sequence[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def segment_page(
    image: np.ndarray,
    *,
    dpi: float | None,
    params: SegmentationParams,
    template: Template | None = None,
    score_crops: CropScorer | None = None,
) -> SegmentedPage:
    """Segment a page into fields of digit crops, in reading order.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) uint8 ndarray
        The page, ink dark on light.
    dpi : float or None
        Scan resolution; None when unknown.
    params : SegmentationParams
    template : Template or None
        When given, only its zones are read and fields carry zone names.
    score_crops : callable or None
        Recognizer confidence for a list of crops, used to choose cuts.

    Returns
    -------
    SegmentedPage
    """
    grey = _grey(image)
    px_per_mm = (dpi or 300.0) / 25.4
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    min_h = params.min_digit_height_mm * px_per_mm
    max_h = params.max_digit_height_mm * px_per_mm
    boxes: list[Box] = []
    for i in range(1, n):
        x, y, w, h, _area = (int(v) for v in stats[i])
        if min_h <= h <= max_h and w <= 1.5 * max_h:
            boxes.append((x, y, w, h))
    boxes.sort(key=lambda b: b[1] + b[3] / 2)
    lines: list[list[Box]] = []
    for b in boxes:
        cy = b[1] + b[3] / 2
        for line in lines:
            lb = _union(line)
            if lb[1] <= cy <= lb[1] + lb[3]:
                line.append(b)
                break
        else:
            lines.append([b])
    fields: list[Field] = []
    gap = params.field_gap_mm * px_per_mm
    for line in sorted(lines, key=lambda ln: _union(ln)[1]):
        line.sort(key=lambda b: b[0])
        groups: list[list[Box]] = [[line[0]]]
        for b in line[1:]:
            prev = groups[-1][-1]
            if b[0] - (prev[0] + prev[2]) > gap:
                groups.append([b])
            else:
                groups[-1].append(b)
        for group in groups:
            crops = tuple(
                DigitCrop(box=b, image=255 - ink[b[1] : b[1] + b[3], b[0] : b[0] + b[2]])
                for b in group
            )
            fields.append(Field(name=f"line-{len(fields) + 1}", box=_union(group), digits=crops))
    return SegmentedPage(fields=tuple(fields), skew_degrees=0.0)
