"""Draw recognized fields and digits onto a copy of the page."""

from __future__ import annotations

import cv2
import numpy as np

from digitd.results import PageResult

__all__ = ["annotate_page"]

_FIELD_OK = (0, 160, 0)
_FIELD_REVIEW = (230, 120, 0)
_DIGIT = (0, 90, 255)
_DIGIT_REVIEW = (220, 0, 0)


def annotate_page(image: np.ndarray, page: PageResult) -> np.ndarray:
    """Return an RGB copy of ``image`` with fields outlined and digits labelled.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) uint8 ndarray
        The original page.
    page : PageResult
        Its results; boxes in original page coordinates.

    Returns
    -------
    annotated : (H, W, 3) uint8 ndarray
        Review-flagged fields are drawn in orange, digits of those in red.
    """
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()
    scale = max(canvas.shape[:2]) / 2000.0
    thick = max(1, round(2 * scale))
    for fld in page.fields:
        x, y, w, h = fld.box
        colour = _FIELD_REVIEW if fld.needs_review else _FIELD_OK
        pad = thick * 3
        cv2.rectangle(canvas, (x - pad, y - pad), (x + w + pad, y + h + pad), colour, thick)
        cv2.putText(
            canvas,
            f"{fld.name}: {fld.text}",
            (x, max(12, y - pad - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6 * scale + 0.3,
            colour,
            thick,
        )
        for digit in fld.digits:
            dx, dy, dw, dh = digit.box
            dcol = _DIGIT_REVIEW if fld.needs_review else _DIGIT
            cv2.rectangle(canvas, (dx, dy), (dx + dw, dy + dh), dcol, max(1, thick // 2))
            cv2.putText(
                canvas,
                digit.text,
                (dx, dy + dh + int(18 * scale) + 8),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5 * scale + 0.3,
                dcol,
                max(1, thick // 2),
            )
    return canvas
