"""Draw a confusion matrix as a PNG with Pillow (no plotting library needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["draw_confusion", "render_confusion"]

_CELL = 44
_MARGIN = 60


def draw_confusion(confusion: np.ndarray) -> Image.Image:
    """The confusion matrix as an image: rows true digit, columns read as.

    Parameters
    ----------
    confusion : (10, C) int ndarray
        C = 10, or 11 with a last 'rejected' column.

    Returns
    -------
    PIL.Image.Image
        RGB; each cell shaded by its share of the row (blue on the diagonal,
        red off it) and labelled with its count.
    """
    confusion = np.asarray(confusion)
    rows, cols = confusion.shape
    width, height = _MARGIN + cols * _CELL + 10, _MARGIN + rows * _CELL + 10
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    totals = np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    share = confusion / totals
    draw.text((_MARGIN, 8), "read as", fill="black", font=font)
    draw.text((4, _MARGIN - 18), "true", fill="black", font=font)
    for c in range(cols):
        label = str(c) if c < 10 else "rej"
        draw.text((_MARGIN + c * _CELL + 14, _MARGIN - 22), label, fill="black", font=font)
    for r in range(rows):
        draw.text((_MARGIN - 20, _MARGIN + r * _CELL + 14), str(r), fill="black", font=font)
        for c in range(cols):
            x0, y0 = _MARGIN + c * _CELL, _MARGIN + r * _CELL
            s = float(share[r, c])
            if r == c:
                colour = (int(255 * (1 - s)), int(255 * (1 - 0.6 * s)), 255)
            else:
                s = min(1.0, 10 * s) if confusion[r, c] else 0.0
                colour = (255, int(255 * (1 - s)), int(255 * (1 - s)))
            draw.rectangle([x0, y0, x0 + _CELL - 1, y0 + _CELL - 1], fill=colour, outline="grey")
            if confusion[r, c]:
                text = str(int(confusion[r, c]))
                draw.text((x0 + 4, y0 + 16), text, fill="black", font=font)
    return image


def render_confusion(confusion: np.ndarray, path: Path) -> None:
    """Write ``draw_confusion(confusion)`` as a PNG file."""
    draw_confusion(confusion).save(Path(path), format="PNG")
