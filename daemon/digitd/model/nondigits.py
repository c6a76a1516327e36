"""Generated marks that are not digits: the training samples of the reject class.

Forms and cheques carry letters, blots, pieces of printed lines and boxes, and
scraps of signatures beside the digits. These generators draw such marks, at
scan-like sizes and stroke widths, ink dark on light, so that the recognizer
learns to call them non-digits. Shapes that a digit can honestly look like
(O, l, I, S, Z, a vertical bar, a top-right corner like a 7, ...) are left out,
because teaching the model to reject them would reject real digits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from digitd.model.fonts import find_fonts, render_glyph

__all__ = ["NONDIGIT_KINDS", "REJECT_LETTERS", "generate_nondigits"]

# Letters and signs used as non-digits: digit look-alikes are excluded
# (O o Q D C c 0; I l i j J | ! / ( ) 1; Z z 2; S s 5; b G 6; T 7; B 8; g q a 9).
REJECT_LETTERS = "AEFHKLMNPRUVWXYdefhkmnprtuvwxy#%&@*=~<>?"

NONDIGIT_KINDS = ("letter", "blob", "line", "corner", "scribble", "dots")


def generate_nondigits(
    count: int,
    *,
    seed: int = 0,
    fonts: Sequence[Path] | None = None,
    kinds: Sequence[str] = NONDIGIT_KINDS,
) -> list[np.ndarray]:
    """Draw ``count`` non-digit marks, cycling through ``kinds``.

    Parameters
    ----------
    count : int
    seed : int
        Seed of the random shapes (reproducible training).
    fonts : sequence of Path, optional
        Fonts for letters; default every installed printed and handwriting
        font (``digitd.model.fonts``). Without fonts, letters are skipped.
    kinds : sequence of str
        Subset of ``NONDIGIT_KINDS``.

    Returns
    -------
    marks : list of (h, w) uint8 ndarray
        Tightly cropped, ink dark on light, 20-90 pixels on their long side.

    Raises
    ------
    ValueError
        An unknown kind is asked for.
    """
    unknown = set(kinds) - set(NONDIGIT_KINDS)
    if unknown:
        raise ValueError(f"unknown non-digit kinds {sorted(unknown)}; known: {NONDIGIT_KINDS}")
    rng = np.random.default_rng(seed)
    if fonts is None:
        fonts = find_fonts("printed") + find_fonts("handwriting")
    makers: dict[str, Callable[[np.random.Generator], np.ndarray | None]] = {
        "letter": lambda r: _letter(r, fonts) if fonts else None,
        "blob": _blob,
        "line": _line,
        "corner": _corner,
        "scribble": _scribble,
        "dots": _dots,
    }
    active = [k for k in kinds if k != "letter" or fonts]
    marks: list[np.ndarray] = []
    attempts = 0
    while len(marks) < count and active and attempts < 20 * count + 100:
        attempts += 1
        mark = makers[active[len(marks) % len(active)]](rng)
        if mark is not None and (mark < 128).any():
            marks.append(_crop(mark))
    return marks


def _crop(image: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(image < 128)
    m = 2
    return image[
        max(ys.min() - m, 0) : ys.max() + 1 + m, max(xs.min() - m, 0) : xs.max() + 1 + m
    ].copy()


def _canvas(size: int) -> np.ndarray:
    return np.full((size, size), 255, np.uint8)


def _thickness(rng: np.random.Generator, size: int) -> int:
    return max(1, round(size * rng.uniform(0.04, 0.14)))


def _letter(rng: np.random.Generator, fonts: Sequence[Path]) -> np.ndarray | None:
    font = fonts[rng.integers(len(fonts))]
    char = REJECT_LETTERS[rng.integers(len(REJECT_LETTERS))]
    glyph = render_glyph(char, font, int(rng.integers(28, 72)))
    if glyph is None:
        return None
    ink = 255 - glyph
    if rng.random() < 0.4:
        k = int(rng.integers(2, 4))
        ink = cv2.dilate(ink, np.ones((k, k), np.uint8))
    h, w = ink.shape
    angle = rng.uniform(-12, 12)
    pad = max(h, w) // 3 + 2
    ink = np.pad(ink, pad)
    m = cv2.getRotationMatrix2D((ink.shape[1] / 2, ink.shape[0] / 2), angle, 1.0)
    m[0, 1] += rng.uniform(-0.2, 0.2)
    ink = cv2.warpAffine(ink, m, (ink.shape[1], ink.shape[0]))
    return 255 - ink


def _blob(rng: np.random.Generator) -> np.ndarray:
    size = int(rng.integers(24, 80))
    noise = rng.random((size, size)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), size / rng.uniform(5, 10))
    yy, xx = np.mgrid[:size, :size] / size - 0.5
    ry, rx = rng.uniform(0.2, 0.45, 2)
    inside = (yy / ry) ** 2 + (xx / rx) ** 2 < 1.0 + 2.0 * (noise - noise.mean())
    image = np.where(inside, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:  # a grey smudge rather than solid ink
        image = np.where(inside, int(rng.integers(40, 140)), 255).astype(np.uint8)
    return image


def _line(rng: np.random.Generator) -> np.ndarray:
    """A piece of a printed or ruled line, within 35 degrees of horizontal."""
    length = int(rng.integers(30, 90))
    image = _canvas(length + 10)
    angle = np.deg2rad(rng.uniform(-35, 35))
    cx = cy = (length + 10) / 2
    dx, dy = np.cos(angle) * length / 2, np.sin(angle) * length / 2
    p0 = (round(cx - dx), round(cy - dy))
    p1 = (round(cx + dx), round(cy + dy))
    thick = _thickness(rng, length // 2)
    if rng.random() < 0.3:  # dashed or dotted
        steps = int(rng.integers(3, 7))
        for i in range(steps):
            a, b = i / steps, (i + 0.55) / steps
            q0 = (round(p0[0] + (p1[0] - p0[0]) * a), round(p0[1] + (p1[1] - p0[1]) * a))
            q1 = (round(p0[0] + (p1[0] - p0[0]) * b), round(p0[1] + (p1[1] - p0[1]) * b))
            cv2.line(image, q0, q1, 0, thick)
    else:
        cv2.line(image, p0, p1, 0, thick)
        if rng.random() < 0.3:  # a double rule
            off = thick + int(rng.integers(2, 6))
            cv2.line(image, (p0[0], p0[1] + off), (p1[0], p1[1] + off), 0, thick)
    return image


def _corner(rng: np.random.Generator) -> np.ndarray:
    """Box corners and junctions of form lines (not the 7-like top-right corner)."""
    size = int(rng.integers(30, 80))
    image = _canvas(size)
    thick = _thickness(rng, size // 2)
    a, b, mid = 3, size - 4, size // 2
    shape = rng.integers(6)
    if shape == 0:  # top-left corner
        segments = [((a, a), (b, a)), ((a, a), (a, b))]
    elif shape == 1:  # bottom-left corner
        segments = [((a, a), (a, b)), ((a, b), (b, b))]
    elif shape == 2:  # bottom-right corner
        segments = [((b, a), (b, b)), ((a, b), (b, b))]
    elif shape == 3:  # T upside down: a box's bottom edge meeting a divider
        segments = [((a, b), (b, b)), ((mid, a), (mid, b))]
    elif shape == 4:  # a cross of two lines
        segments = [((a, mid), (b, mid)), ((mid, a), (mid, b))]
    else:  # a comb: box bottom with ticks, as under date boxes
        segments = [
            ((a, b), (b, b)),
            ((a, mid), (a, b)),
            ((mid, mid), (mid, b)),
            ((b, mid), (b, b)),
        ]
    for p, q in segments:
        cv2.line(image, p, q, 0, thick)
    return image


def _scribble(rng: np.random.Generator) -> np.ndarray:
    """A wide, looping piece of a signature or of words in cursive."""
    h = int(rng.integers(25, 60))
    w = int(h * rng.uniform(2.2, 4.0))
    image = np.full((h, w), 255, np.uint8)
    n = int(rng.integers(6, 12))
    xs = np.linspace(4, w - 5, n) + rng.normal(0, w / (4 * n), n)
    ys = rng.uniform(4, h - 5, n)
    t = np.linspace(0, 1, 20 * n)
    px = np.interp(t, np.linspace(0, 1, n), xs)
    py = np.interp(t, np.linspace(0, 1, n), ys)
    px = cv2.GaussianBlur(px.reshape(1, -1).astype(np.float32), (0, 0), 4).ravel()
    py = cv2.GaussianBlur(py.reshape(1, -1).astype(np.float32), (0, 0), 4).ravel()
    pts = np.stack([px, py], axis=1).round().astype(np.int32)
    cv2.polylines(image, [pts], False, 0, max(1, round(h * rng.uniform(0.04, 0.1))))
    return image


def _dots(rng: np.random.Generator) -> np.ndarray:
    """Specks and dot clusters: dust, stamp texture, dot-matrix fragments."""
    size = int(rng.integers(20, 60))
    image = _canvas(size)
    for _ in range(int(rng.integers(3, 12))):
        c = (int(rng.integers(2, size - 2)), int(rng.integers(2, size - 2)))
        cv2.circle(image, c, int(rng.integers(1, max(2, size // 10))), 0, -1)
    return image
