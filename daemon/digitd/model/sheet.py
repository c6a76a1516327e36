"""Read a training sheet: one row of handwritten samples per digit, 0 to 9 from the top.

A person fills a sheet with any number of samples of 0 in the first row, of 1
in the second, and so on; a scan of it teaches a deployment that person's
hand (``digitd train --base ... --add SHEET``). The sheet should carry only
the handwriting (no printed guide text inside the rows); ruled lines are
ignored when they are much wider than a digit.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitd.errors import InputError

__all__ = ["split_training_sheet"]


def split_training_sheet(image: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Cut a training sheet into labelled digit crops.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) uint8 ndarray
        The scanned sheet, ink dark on light.

    Returns
    -------
    crops : list of (h, w) uint8 ndarray
        Grey crops of single digits, ink dark on light, row by row, left to right.
    labels : (N,) int64 ndarray
        The row number of each crop: the digit.

    Raises
    ------
    InputError
        The sheet does not hold exactly ten rows of marks.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    grey = np.asarray(grey, dtype=np.uint8)
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    boxes = stats[1:, :4].astype(np.int64)
    areas = stats[1:, 4]
    if len(boxes) == 0:
        raise InputError("the training sheet is blank: expected ten rows of digits 0-9")
    heights = boxes[:, 3]
    typical = float(np.median(heights[areas >= np.percentile(areas, 50)]))
    keep = (heights >= 0.3 * typical) | (areas >= 0.1 * typical**2)
    keep &= boxes[:, 2] < 4 * typical  # ruled lines and borders are far wider
    boxes = boxes[keep]
    boxes = _merge_overlapping(boxes)
    rows = _group_rows(boxes, typical)
    if len(rows) != 10:
        raise InputError(
            f"the training sheet has {len(rows)} rows of marks; expected 10 "
            "(one row per digit, 0 at the top to 9 at the bottom)"
        )
    crops: list[np.ndarray] = []
    labels: list[int] = []
    for digit, row in enumerate(rows):
        for x, y, w, h in sorted(row, key=lambda b: b[0]):
            m = max(2, int(0.1 * h))
            y0, x0 = max(0, y - m), max(0, x - m)
            crops.append(grey[y0 : y + h + m, x0 : x + w + m].copy())
            labels.append(digit)
    return crops, np.asarray(labels, dtype=np.int64)


def _merge_overlapping(boxes: np.ndarray) -> np.ndarray:
    """Join pieces of one digit (a 5's flag, a broken 4) that overlap horizontally."""
    merged = [list(b) for b in boxes[np.argsort(boxes[:, 0])]]
    changed = True
    while changed:
        changed = False
        out: list[list[int]] = []
        for b in merged:
            for o in out:
                overlap_x = min(o[0] + o[2], b[0] + b[2]) - max(o[0], b[0])
                gap_y = max(o[1], b[1]) - min(o[1] + o[3], b[1] + b[3])
                if overlap_x > 0.5 * min(o[2], b[2]) and gap_y < 0.5 * max(o[3], b[3]):
                    x0, y0 = min(o[0], b[0]), min(o[1], b[1])
                    x1, y1 = max(o[0] + o[2], b[0] + b[2]), max(o[1] + o[3], b[1] + b[3])
                    o[:] = [x0, y0, x1 - x0, y1 - y0]
                    changed = True
                    break
            else:
                out.append(list(b))
        merged = out
    return np.asarray(merged, dtype=np.int64).reshape(-1, 4)


def _group_rows(boxes: np.ndarray, typical: float) -> list[list[tuple[int, int, int, int]]]:
    centres = boxes[:, 1] + boxes[:, 3] / 2.0
    order = np.argsort(centres)
    rows: list[list[tuple[int, int, int, int]]] = []
    last = -np.inf
    for i in order:
        if centres[i] - last > 0.6 * typical:
            rows.append([])
        rows[-1].append(tuple(int(v) for v in boxes[i]))  # type: ignore[arg-type]
        last = centres[i]
    return rows
