"""Fonts installed on this machine, sorted into printed and handwriting styles.

Used only to generate training and test samples (printed digits, letters,
separators); nothing at recognition time reads a font. The font packages come
from Debian (see README); a machine without them simply yields fewer fonts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["FontStyle", "find_fonts", "render_glyph"]

FontStyle = Literal["printed", "handwriting"]

# File-name stems (lower case, substring match) of the Debian font packages
# whose faces look handwritten. Everything else found is treated as print.
_HANDWRITING = ("dkg", "breip", "becausewe", "femkeklaver", "dancingscript")
# Faces whose glyphs are not Latin digits or letters at all.
_EXCLUDE = ("mathjax_size", "mathjax_ams", "mathjax_winchrome", "mathjax_winie", "mathjax_vector")
_SUFFIXES = {".ttf", ".otf", ".otb"}


def _font_dirs() -> list[Path]:
    data_dirs = os.environ.get("XDG_DATA_DIRS", "/usr/local/share:/usr/share").split(":")
    dirs = [Path(d) / "fonts" for d in data_dirs if d]
    dirs.append(Path.home() / ".local" / "share" / "fonts")
    return [d for d in dirs if d.is_dir()]


def find_fonts(style: FontStyle, *, dirs: Iterable[Path] | None = None) -> list[Path]:
    """Font files of one style, sorted by path so runs are reproducible."""
    found: set[Path] = set()
    for root in dirs if dirs is not None else _font_dirs():
        for path in Path(root).rglob("*"):
            if path.suffix.lower() not in _SUFFIXES:
                continue
            name = path.name.lower()
            if any(x in name for x in _EXCLUDE):
                continue
            is_hand = any(x in name for x in _HANDWRITING)
            if is_hand == (style == "handwriting"):
                found.add(path)
    return sorted(found)


def render_glyph(text: str, font: Path, size_px: int, *, pad: int = 2) -> np.ndarray | None:
    """Render ``text`` black on white and crop it tightly.

    Parameters
    ----------
    text : str
        One or more characters.
    font : Path
        A TrueType/OpenType/bitmap font file.
    size_px : int
        Font size in pixels (the em height).
    pad : int
        White margin kept around the ink.

    Returns
    -------
    glyph : (h, w) uint8 ndarray or None
        Ink dark (0) on light (255); None when the font draws nothing for
        ``text`` (a missing glyph) or cannot be opened at that size.
    """
    try:
        face = ImageFont.truetype(str(font), size_px)
    except OSError:
        return None
    left, top, right, bottom = face.getbbox(text)
    w, h = right - left + 4 * pad, bottom - top + 4 * pad
    if w <= 0 or h <= 0 or w > 20 * size_px or h > 20 * size_px:
        return None
    canvas = Image.new("L", (w, h), 255)
    ImageDraw.Draw(canvas).text((2 * pad - left, 2 * pad - top), text, font=face, fill=0)
    arr = np.asarray(canvas)
    ink = arr < 128
    if not ink.any():
        return None
    ys, xs = np.nonzero(ink)
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + 1 + pad)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + 1 + pad)
    return arr[y0:y1, x0:x1].copy()
