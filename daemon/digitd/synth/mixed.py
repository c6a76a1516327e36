"""Cheque-like pages that mix handwriting with everything that is not.

The benchmark page of issue 5: handwritten digit strings (a date, an amount
with separators and a currency sign, and sometimes a date written one digit
per printed box, as on Indian CTS-2010 cheques)
among printed digits in many faces (account number, cheque number, IFSC and
phone numbers), a MICR-style code line, a number stamped in purple, printed
words, words in handwriting fonts (payee, amount in words), a signature, on a
tinted patterned background, scanned at 150-400 dpi; and amount strips cut
from such pages without dpi. Every glyph carries its truth (box, kind,
character), so a reader can be scored on what it must read and on what it
must leave alone.

Pure functions: handwritten digits come in as arrays, randomness from the
``numpy.random.Generator`` passed in, fonts from ``digitd.model.fonts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from digitd.model.fonts import find_fonts
from digitd.model.marks_training import (
    PlacedGlyph,
    as_ink_bright,
    draw_hand_digit,
    draw_hand_font_text,
    draw_scribble,
    layout_handwriting,
    make_blocky,
    make_dotted,
    make_stamped,
    random_amount_text,
    render_text_line,
)
from digitd.results import Box
from digitd.synth.paper import compose_ink, degrade_scan, make_paper

__all__ = [
    "MIXED_CHEQUE_MM",
    "MIXED_FORM_MM",
    "GlyphKind",
    "MixedField",
    "MixedPage",
    "TruthGlyph",
    "cut_amount_strip",
    "make_mixed_cheque",
    "make_mixed_form",
]

MIXED_CHEQUE_MM = (202.0, 92.0)  # an Indian CTS-2010 cheque
MIXED_FORM_MM = (210.0, 297.0)  # A4

GlyphKind = Literal["hand", "printed", "separator", "letter", "other"]

_BANKS = ("STATE BANK", "UNION BANK", "CITY TRUST BANK", "FIRST NATIONAL", "CO-OPERATIVE BANK")
_PAYEES = ("Ravi Kumar", "Anita Desai", "John Mathew", "Meera Nair", "Arjun Rao", "Sunil Shah")
_WORDS_AMOUNT = (
    "Five Thousand Only",
    "Twelve Lakh Only",
    "Seven Hundred Fifty",
    "Two Thousand Rupees",
    "Ninety Eight Only",
)
_NAMES = ("Maria Lopez", "Kenji Sato", "Priya Menon", "Tom Becker", "Olga Ivanova", "Ade Bello")
_CITIES = ("Springfield", "Bangalore", "Rotterdam", "Quebec", "Lagos", "Osaka", "Zagreb")
_PASSAGES = (
    "We the people of the united states in order to form a more perfect union",
    "establish justice insure domestic tranquility provide for the common defense",
    "promote the general welfare and secure the blessings of liberty to ourselves",
    "the quick brown fox jumps over the lazy dog while the zebra sleeps",
)
_INK_BLUE = np.array([0.10, 0.14, 0.45], np.float32)
_INK_BLACK = np.array([0.08, 0.08, 0.10], np.float32)
_PRINT = np.array([0.12, 0.12, 0.14], np.float32)
_PURPLE = np.array([0.45, 0.20, 0.62], np.float32)


@dataclass(frozen=True, slots=True)
class TruthGlyph:
    """One mark on a generated page.

    Attributes
    ----------
    box : (x, y, w, h) tuple of int
        Ink box in page pixels.
    kind : {"hand", "printed", "separator", "letter", "other"}
        ``hand`` handwritten digit; ``printed`` printed or stamped digit;
        ``separator`` punctuation or currency sign (written or printed);
        ``letter`` printed or handwritten letter; ``other`` signature pieces
        and MICR symbols.
    char : str
        The character ("" for signatures and symbols).
    """

    box: Box
    kind: GlyphKind
    char: str


@dataclass(frozen=True, slots=True)
class MixedField:
    """A handwritten field digitd must read.

    ``text`` holds its digits only; ``raw`` the field as written, separators
    and currency signs included (comb-box ticks left out).
    """

    name: str
    text: str
    raw: str
    box: Box


@dataclass(frozen=True, slots=True)
class MixedPage:
    """A generated page and its truth.

    Attributes
    ----------
    image : (H, W, 3) or (H, W) uint8 ndarray
        Colour or grey scan.
    dpi : float or None
        None for strips cut out without resolution metadata.
    fields : tuple of MixedField
        The handwritten fields, in reading order.
    glyphs : tuple of TruthGlyph
        Every mark on the page.
    """

    image: np.ndarray
    dpi: float | None
    fields: tuple[MixedField, ...]
    glyphs: tuple[TruthGlyph, ...]


class _Canvas:
    """Ink layers of one colour each over a paper, with the truth gathered."""

    def __init__(self, shape: tuple[int, int], px_per_mm: float) -> None:
        self.shape = shape
        self.px_per_mm = px_per_mm
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        self.glyphs: list[TruthGlyph] = []

    def layer(self, colour: np.ndarray) -> np.ndarray:
        alpha = np.zeros(self.shape, np.float32)
        self.layers.append((alpha, colour))
        return alpha

    def put(self, alpha: np.ndarray, ink: np.ndarray, x: int, y: int) -> Box | None:
        """Lay ``ink`` with its top-left at (x, y); return its ink box on the page."""
        h, w = ink.shape
        H, W = self.shape
        x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
        if x1 <= x0 or y1 <= y0:
            return None
        part = ink[y0 - y : y1 - y, x0 - x : x1 - x]
        region = alpha[y0:y1, x0:x1]
        np.maximum(region, part, out=region)
        ys, xs = np.nonzero(part > 0.5)
        if len(ys) == 0:
            return None
        return (x0 + int(xs.min()), y0 + int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)

    def mm(self, value: float) -> int:
        return round(value * self.px_per_mm)


def _kind_of(label: str, char: str) -> GlyphKind:
    if label in ("hand", "printed"):
        return label  # type: ignore[return-value]
    if label.startswith("sep:"):
        return "separator"
    return "letter" if char.isalpha() else "other"


def _put_glyphs(
    canvas: _Canvas, alpha: np.ndarray, glyphs: Sequence[PlacedGlyph], x: int, y: int
) -> list[tuple[TruthGlyph, PlacedGlyph]]:
    placed = []
    for g in glyphs:
        box = canvas.put(alpha, g.ink, x + g.x, y + g.y)
        if box is not None:
            truth = TruthGlyph(box=box, kind=_kind_of(g.label, g.char), char=g.char)
            canvas.glyphs.append(truth)
            placed.append((truth, g))
    return placed


def _printed(
    canvas: _Canvas,
    text: str,
    font: Path,
    *,
    points: float,
    x_mm: float,
    baseline_mm: float,
    colour: np.ndarray = _PRINT,
    style: str = "plain",
    rng: np.random.Generator,
) -> Box | None:
    """Print ``text`` with its baseline at ``baseline_mm``; return the union box."""
    size = max(6, round(points / 72 * 25.4 * canvas.px_per_mm))
    rendered = render_text_line(text, font, size)
    if rendered is None:
        return None
    ink, boxes = rendered
    if style == "stamp":
        ink = make_stamped(ink, rng)
    elif style == "blocky":
        ink = make_blocky(ink, rng)
    elif style == "dotted":
        ink = make_dotted(ink, rng, max(2, size // 12))
    # Digits and capitals sit on the baseline: the lowest box bottom is close enough.
    bottom = max(b[1] + b[3] for b in boxes)
    x0 = canvas.mm(x_mm) - boxes[0][0]
    y0 = canvas.mm(baseline_mm) - bottom
    alpha = canvas.layer(colour)
    chars = [c for c in text if c != " "]
    union: list[Box] = []
    for ch, (bx, by, bw, bh) in zip(chars, boxes, strict=True):
        part = ink[by : by + bh, bx : bx + bw]
        box = canvas.put(alpha, part, x0 + bx, y0 + by)
        if box is None:
            continue
        if ch.isdigit():
            kind: GlyphKind = "printed"
        elif ch.isalpha():
            kind = "letter"
        elif ch in ",.-/₹$€£":
            kind = "separator"
        else:
            kind = "other"
        canvas.glyphs.append(TruthGlyph(box=box, kind=kind, char=ch))
        union.append(box)
    return _union(union) if union else None


def _union(boxes: Sequence[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _handwritten_field(
    canvas: _Canvas,
    name: str,
    text: str,
    pick_digit: _DigitPicker,
    *,
    x_mm: float,
    baseline_mm: float,
    height_mm: float,
    ink: np.ndarray,
    rng: np.random.Generator,
    fonts: Sequence[Path],
    right_mm: float | None = None,
) -> MixedField | None:
    height = max(12, canvas.mm(height_mm))
    right = canvas.shape[1] - canvas.mm(3.0) if right_mm is None else canvas.mm(right_mm)
    room = right - canvas.mm(x_mm)
    for _ in range(4):
        glyphs = layout_handwriting(text, pick_digit, height=height, rng=rng, fonts=fonts)
        if not glyphs:
            return None
        width = max(g.x + g.ink.shape[1] for g in glyphs) - int(height * 0.5)
        if width <= room:
            break
        # A writer short of room writes smaller; a field cut off by the
        # page's edge would carry truth nobody can read.
        height = max(12, int(height * room / width * 0.95))
    else:
        return None
    alpha = canvas.layer(ink)
    x = canvas.mm(x_mm) - int(height * 0.5)
    y = canvas.mm(baseline_mm) - int(height * 1.5)
    placed = _put_glyphs(canvas, alpha, glyphs, x, y)
    if not placed:
        return None
    digits = "".join(t.char for t, _ in placed if t.kind == "hand")
    raw = "".join(t.char for t, _ in placed if t.kind in ("hand", "separator") and t.char != "|")
    return MixedField(name=name, text=digits, raw=raw, box=_union([t.box for t, _ in placed]))


class _DigitPicker:
    """Handwritten digit images by label, drawn without replacement per page."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> None:
        self.by_label = {str(d): np.flatnonzero(labels == d) for d in range(10)}
        self.images = images
        self.rng = rng

    def __call__(self, char: str) -> np.ndarray:
        pool = self.by_label[char]
        return as_ink_bright(self.images[pool[self.rng.integers(len(pool))]])


def _micr_line(
    canvas: _Canvas, font: Path, rng: np.random.Generator, *, baseline_mm: float
) -> None:
    """A MICR-style code line: blocky digits between transit and on-us symbols."""
    groups = [
        "".join(rng.choice(list("0123456789"), size=n)) for n in (6, 9, 6, int(rng.integers(2, 3)))
    ]
    x_mm = 40.0
    alpha = canvas.layer(_PRINT)
    height = canvas.mm(2.9)
    for group in groups:
        # The symbol before each group: two bars and a square, about a digit tall.
        bar = max(2, height // 6)
        symbol = np.zeros((height, bar * 5), np.float32)
        symbol[:, :bar] = 1.0
        symbol[height // 3 : 2 * height // 3, 2 * bar : 3 * bar] = 1.0
        symbol[: height // 2, 4 * bar :] = 1.0
        box = canvas.put(alpha, symbol, canvas.mm(x_mm), canvas.mm(baseline_mm) - height)
        if box is not None:
            canvas.glyphs.append(TruthGlyph(box=box, kind="other", char=""))
        x_mm += symbol.shape[1] / canvas.px_per_mm + 1.0
        box = _printed(
            canvas,
            group,
            font,
            points=11.5,
            x_mm=x_mm,
            baseline_mm=baseline_mm,
            style="blocky",
            rng=rng,
        )
        if box is not None:
            x_mm = (box[0] + box[2]) / canvas.px_per_mm + 3.5


def _date_boxes(
    canvas: _Canvas,
    digits: str,
    pick_digit: _DigitPicker,
    face: Path,
    *,
    x_mm: float,
    y_mm: float,
    ink: np.ndarray,
    rng: np.random.Generator,
) -> MixedField | None:
    """An Indian CTS-2010 date: eight printed boxes, one handwritten digit in each.

    The boxes are about 5 mm wide and a little taller, printed thin in a
    light colour, with the legend ``D D M M Y Y Y Y`` printed faintly inside
    the boxes or just above them. Each digit is written in its own box, 3 to
    4.5 mm tall, a little off centre, sometimes touching a wall.
    """
    cell = float(rng.uniform(4.5, 5.5))
    tall = cell * float(rng.uniform(1.05, 1.3))
    tint = np.array([0.45, 0.5, 0.6], np.float32) if rng.random() < 0.5 else np.full(3, 0.35)
    alpha = canvas.layer(tint.astype(np.float32))
    x0, y0 = canvas.mm(x_mm), canvas.mm(y_mm)
    cell_px, tall_px = cell * canvas.px_per_mm, canvas.mm(tall)
    t = max(1, canvas.mm(float(rng.uniform(0.12, 0.25))))
    for i in range(len(digits) + 1):
        x = x0 + round(i * cell_px)
        alpha[y0 : y0 + tall_px + t, x : x + t] = 1.0
    right = x0 + round(len(digits) * cell_px) + t
    alpha[y0 : y0 + t, x0:right] = 1.0
    alpha[y0 + tall_px : y0 + tall_px + t, x0:right] = 1.0
    inside = rng.random() < 0.5
    legend_colour = np.full(3, float(rng.uniform(0.6, 0.75)), np.float32)
    first_legend = len(canvas.glyphs)
    for i, letter in enumerate("DDMMYYYY"[: len(digits)]):
        _printed(
            canvas, letter, face, points=float(rng.uniform(5.0, 6.5)),
            x_mm=x_mm + (i + 0.35) * cell,
            baseline_mm=y_mm + tall * 0.62 if inside else y_mm - 0.7,
            colour=legend_colour, rng=rng,
        )  # fmt: skip
    # The legend's truth goes after the digits', so a digit written over a
    # letter of it is scored as the digit it is.
    legend = canvas.glyphs[first_legend:]
    del canvas.glyphs[first_legend:]
    hand = canvas.layer(ink)
    pen = max(1.5, canvas.px_per_mm * float(rng.uniform(0.25, 0.5)))
    boxes: list[Box] = []
    for i, ch in enumerate(digits):
        height = canvas.mm(float(rng.uniform(3.0, 4.5)))
        glyph = draw_hand_digit(pick_digit(ch), height, pen, rng)
        h, w = glyph.shape
        cx = x0 + (i + 0.5) * cell_px + rng.normal(0.0, 0.3) * canvas.px_per_mm
        bottom = y0 + tall_px - canvas.mm(0.7) + rng.normal(0.0, 0.3) * canvas.px_per_mm
        box = canvas.put(hand, glyph, round(cx - w / 2.0), round(bottom - h))
        if box is None:
            return None
        canvas.glyphs.append(TruthGlyph(box=box, kind="hand", char=ch))
        boxes.append(box)
    canvas.glyphs.extend(legend)
    return MixedField(name="date", text=digits, raw=digits, box=_union(boxes))


def _start_page(
    digit_images: np.ndarray,
    digit_labels: np.ndarray,
    rng: np.random.Generator,
    size_mm: tuple[float, float],
    dpi: float | None,
    printed_fonts: Sequence[Path] | None,
    hand_fonts: Sequence[Path] | None,
) -> tuple[_Canvas, _DigitPicker, list[Path], list[Path], float]:
    """Check the inputs of a page maker; a blank canvas, a digit picker, the fonts and dpi."""
    digit_labels = np.asarray(digit_labels)
    missing = sorted(set(range(10)) - {int(v) for v in np.unique(digit_labels)})
    if missing:
        raise ValueError(f"digit_labels lacks the digits {missing}; give some of every digit")
    printed = list(printed_fonts if printed_fonts is not None else find_fonts("printed"))
    hand = list(hand_fonts if hand_fonts is not None else find_fonts("handwriting"))
    if not printed:
        raise ValueError("no printed font found; install the Debian font packages in the README")
    dpi = float(dpi if dpi is not None else rng.uniform(150, 400))
    px_per_mm = dpi / 25.4
    w_mm, h_mm = size_mm
    canvas = _Canvas((round(h_mm * px_per_mm), round(w_mm * px_per_mm)), px_per_mm)
    pick = _DigitPicker(np.asarray(digit_images), digit_labels, rng)
    return canvas, pick, printed, hand, dpi


def make_mixed_cheque(
    digit_images: np.ndarray,
    digit_labels: np.ndarray,
    rng: np.random.Generator,
    *,
    dpi: float | None = None,
    printed_fonts: Sequence[Path] | None = None,
    hand_fonts: Sequence[Path] | None = None,
) -> MixedPage:
    """A cheque with handwriting among print, stamps, a code line and words.

    Parameters
    ----------
    digit_images : (M, h, w) uint8 ndarray
        Handwritten digits, ink bright on black or dark on light.
    digit_labels : (M,) int ndarray
        Their labels 0-9; every label must occur.
    rng : numpy.random.Generator
    dpi : float, optional
        Scan resolution; random in 150-400 when not given.
    printed_fonts, hand_fonts : sequence of Path, optional
        Default to ``find_fonts("printed")`` and ``find_fonts("handwriting")``.

    Returns
    -------
    MixedPage

    Raises
    ------
    ValueError
        A digit label is missing from ``digit_labels`` or no printed font is
        installed.
    """
    canvas, pick, printed_fonts, hand_fonts, dpi = _start_page(
        digit_images, digit_labels, rng, MIXED_CHEQUE_MM, dpi, printed_fonts, hand_fonts
    )

    def face() -> Path:
        return printed_fonts[rng.integers(len(printed_fonts))]

    mono = [f for f in printed_fonts if "Mono" in f.name or "Courier" in f.name] or printed_fonts
    hand_ink = _INK_BLUE if rng.random() < 0.7 else _INK_BLACK

    # Printed matter: bank, branch codes, labels, account and cheque numbers.
    bank = face()
    _printed(canvas, str(rng.choice(_BANKS)), bank, points=15, x_mm=8, baseline_mm=10, rng=rng)
    ifsc = f"IFSC {rng.choice(['SBIN', 'UBIN', 'CITI'])}000{rng.integers(1000, 9999)}"
    _printed(canvas, ifsc, face(), points=8, x_mm=8, baseline_mm=16, rng=rng)
    phone = f"Ph {rng.integers(20, 99)}-{rng.integers(2000000, 9999999)}"
    _printed(canvas, phone, face(), points=7, x_mm=60, baseline_mm=16, rng=rng)
    _printed(canvas, "Date", face(), points=9, x_mm=130, baseline_mm=12, rng=rng)
    _printed(canvas, "Pay", face(), points=10, x_mm=8, baseline_mm=30, rng=rng)
    _printed(canvas, "Rupees", face(), points=10, x_mm=8, baseline_mm=42, rng=rng)
    _printed(canvas, "A/c No.", face(), points=9, x_mm=8, baseline_mm=57, rng=rng)
    account = "".join(rng.choice(list("0123456789"), size=int(rng.integers(11, 17))))
    style = str(rng.choice(["plain", "plain", "dotted", "blocky"]))
    _printed(
        canvas, account, face(), points=rng.uniform(9, 14), x_mm=24, baseline_mm=57,
        style=style, rng=rng,
    )  # fmt: skip
    serial = "".join(rng.choice(list("0123456789"), size=6))
    _printed(canvas, f"No. {serial}", face(), points=rng.uniform(8, 12), x_mm=172,
             baseline_mm=7, rng=rng)  # fmt: skip
    # A number stamped in purple, often a little tilted.
    stamp = "".join(rng.choice(list("0123456789"), size=int(rng.integers(4, 8))))
    _printed(
        canvas, stamp, face(), points=rng.uniform(14, 22), x_mm=95, baseline_mm=70,
        colour=_PURPLE, style="stamp", rng=rng,
    )  # fmt: skip
    _printed(canvas, "Please sign above", face(), points=7, x_mm=150, baseline_mm=80, rng=rng)
    _micr_line(canvas, mono[rng.integers(len(mono))], rng, baseline_mm=88)

    # Handwriting: date, payee, amount in words, amount in figures, signature.
    fields: list[MixedField] = []
    fonts_for_signs = [*hand_fonts, *printed_fonts]
    if rng.random() < 0.4:
        d, m, y = rng.integers(1, 29), rng.integers(1, 13), rng.integers(2000, 2031)
        field = _date_boxes(
            canvas, f"{d:02d}{m:02d}{y}", pick, face(), x_mm=150.0, y_mm=10.0,
            ink=hand_ink, rng=rng,
        )  # fmt: skip
    else:
        sep = str(rng.choice(["/", "-", "."]))
        d, m, y = rng.integers(1, 29), rng.integers(1, 13), rng.integers(2000, 2031)
        date = f"{d:02d}{sep}{m:02d}{sep}{y}"
        field = _handwritten_field(
            canvas, "date", date, pick, x_mm=145.0, baseline_mm=14.0, height_mm=5.0,
            ink=hand_ink, rng=rng, fonts=fonts_for_signs,
        )  # fmt: skip
    if field is not None:
        fields.append(field)
    for text, baseline, x_mm in (
        (str(rng.choice(_PAYEES)), 30.0, 22.0),
        (str(rng.choice(_WORDS_AMOUNT)), 42.0, 28.0),
    ):
        ink = draw_hand_font_text(
            text, hand_fonts or printed_fonts, canvas.mm(4.5), canvas.mm(0.5), rng
        )
        if ink is not None:
            alpha = canvas.layer(hand_ink)
            x, y = canvas.mm(x_mm), canvas.mm(baseline) - ink.shape[0]
            _put_components(canvas, alpha, ink, x, y, "letter")
    # The amount box: a printed currency sign, then the written amount.
    for _ in range(8):
        if _printed(canvas, "₹", face(), points=14, x_mm=148, baseline_mm=44, rng=rng):
            break
    amount = random_amount_text(rng).lstrip("₹$€£")
    field = _handwritten_field(
        canvas, "amount", amount, pick, x_mm=156, baseline_mm=44.0,
        height_mm=rng.uniform(4.5, 7.0), ink=hand_ink, rng=rng, fonts=fonts_for_signs,
    )  # fmt: skip
    if field is not None:
        fields.append(field)
    signature = draw_scribble(canvas.mm(7), canvas.mm(0.45), rng)
    alpha = canvas.layer(hand_ink)
    _put_components(canvas, alpha, signature, canvas.mm(150), canvas.mm(62), "other")

    image = _scan(canvas, rng, tinted=True, specks=20, colour_share=0.7)
    return _page(canvas, image, dpi, fields)


def make_mixed_form(
    digit_images: np.ndarray,
    digit_labels: np.ndarray,
    rng: np.random.Generator,
    *,
    dpi: float | None = None,
    printed_fonts: Sequence[Path] | None = None,
    hand_fonts: Sequence[Path] | None = None,
) -> MixedPage:
    """A handwriting sample form: printed prompts above boxes the writer fills.

    An A4 page: a printed title and instructions; boxes for a name and a
    city (handwritten words) and for a date and a postcode (handwritten
    digits); rows of boxes with the digits to copy printed above each; the
    alphabet in lower and upper case printed above boxes where it is written
    again by hand; and a printed passage above a box where it is copied out
    in handwriting. The writer's digits are the fields to read; the printed
    prompts, the handwritten letters and the passage must yield nothing.

    Parameters, result and errors are those of `make_mixed_cheque`.
    """
    w_mm = MIXED_FORM_MM[0]
    canvas, pick, printed_fonts, hand_fonts, dpi = _start_page(
        digit_images, digit_labels, rng, MIXED_FORM_MM, dpi, printed_fonts, hand_fonts
    )
    face = printed_fonts[rng.integers(len(printed_fonts))]  # one face for the whole form
    hand_ink = _INK_BLUE if rng.random() < 0.6 else _INK_BLACK
    # One writer, one hand: the words come from one handwriting font.
    writer = [hand_fonts[rng.integers(len(hand_fonts))]] if hand_fonts else printed_fonts
    rules = canvas.layer(_PRINT)
    rule = max(1, canvas.mm(float(rng.uniform(0.15, 0.3))))
    fields: list[MixedField] = []

    def box(x_mm: float, y_mm: float, width_mm: float, height_mm: float) -> None:
        x0, y0 = canvas.mm(x_mm), canvas.mm(y_mm)
        x1, y1 = canvas.mm(x_mm + width_mm), canvas.mm(y_mm + height_mm)
        rules[y0 : y0 + rule, x0 : x1 + rule] = 1.0
        rules[y1 : y1 + rule, x0 : x1 + rule] = 1.0
        rules[y0 : y1 + rule, x0 : x0 + rule] = 1.0
        rules[y0 : y1 + rule, x1 : x1 + rule] = 1.0

    def label(text: str, x_mm: float, baseline_mm: float, points: float = 8.0) -> None:
        _printed(canvas, text, face, points=points, x_mm=x_mm, baseline_mm=baseline_mm, rng=rng)

    def words(
        text: str, x_mm: float, baseline_mm: float, height_mm: float, right_mm: float
    ) -> None:
        # A few words or letters at a time, so the warp of a hand font stays a
        # wobble and does not carry a long line out of its box.
        parts = text.split() if " " in text else [text[i : i + 7] for i in range(0, len(text), 7)]
        chunks = [" ".join(parts[i : i + 2]) for i in range(0, len(parts), 2)]
        inks = [
            ink
            for chunk in chunks
            if (ink := draw_hand_font_text(
                chunk, writer, canvas.mm(height_mm), canvas.mm(0.45), rng
            )) is not None
        ]  # fmt: skip
        if not inks:
            return
        space = canvas.mm(height_mm * float(rng.uniform(0.5, 0.9)))
        room = canvas.mm(right_mm - x_mm)
        total = sum(ink.shape[1] for ink in inks) + space * (len(inks) - 1)
        f = min(1.0, room / total)  # a writer short of room writes smaller
        alpha = canvas.layer(hand_ink)
        x = canvas.mm(x_mm)
        for ink in inks:
            if f < 1.0:
                size = (max(2, round(ink.shape[1] * f)), max(2, round(ink.shape[0] * f)))
                ink = (cv2.resize(ink, size, interpolation=cv2.INTER_AREA) > 0.5).astype(np.float32)
            y = canvas.mm(baseline_mm + float(rng.normal(0.0, 0.3))) - ink.shape[0]
            _put_components(canvas, alpha, ink, x, y, "letter")
            x += ink.shape[1] + round(space * f)

    def digits(name: str, text: str, x_mm: float, baseline_mm: float, right_mm: float) -> None:
        field = _handwritten_field(
            canvas, name, text, pick, x_mm=x_mm, baseline_mm=baseline_mm,
            height_mm=float(rng.uniform(4.5, 6.5)), ink=hand_ink, rng=rng,
            fonts=[*hand_fonts, *printed_fonts], right_mm=right_mm,
        )  # fmt: skip
        if field is not None:
            fields.append(field)

    label("HANDWRITING SAMPLE FORM", 15, 18, points=16)
    label("Print each entry inside its box, as shown above the box.", 15, 25, points=9)
    # Who and when: words and digits in boxes of their own.
    box(15, 32, 100, 13)
    label("NAME", 16, 35.5, points=6)
    words(str(rng.choice(_NAMES)), 20, 42.5, float(rng.uniform(4.0, 5.5)), 113)
    box(122, 32, 73, 13)
    label("DATE", 123, 35.5, points=6)
    d, m, y = rng.integers(1, 29), rng.integers(1, 13), rng.integers(1950, 2031)
    sep = str(rng.choice(["/", "-", "."]))
    digits("date", f"{d:02d}{sep}{m:02d}{sep}{y}", 130, 42.5, 193)
    box(15, 49, 100, 13)
    label("CITY", 16, 52.5, points=6)
    words(str(rng.choice(_CITIES)), 20, 59.5, float(rng.uniform(4.0, 5.5)), 113)
    box(122, 49, 73, 13)
    label("ZIP", 123, 52.5, points=6)
    digits("zip", "".join(rng.choice(list("0123456789"), size=5)), 130, 59.5, 193)
    # Digits to copy: each string printed above its box.
    y_mm = 72.0
    for row in range(4):
        x_mm = 15.0
        texts = (
            ["0123456789"]
            if row == 0
            else ["".join(rng.choice(list("0123456789"), size=int(rng.integers(2, 7))))
                  for _ in range(3)]
        )  # fmt: skip
        for k, text in enumerate(texts):
            width = 9.0 * len(text) + 8.0
            if x_mm + width > w_mm - 12:
                break
            label(text, x_mm + 1, y_mm, points=float(rng.uniform(9, 12)))
            box(x_mm, y_mm + 2, width, 14)
            digits(f"copy-{row + 1}-{k + 1}", text, x_mm + 5, y_mm + 13, x_mm + width - 1)
            x_mm += width + 8.0
        y_mm += 24.0
    # The alphabet, then a passage: printed to be copied by hand.
    for alphabet in ("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        label(alphabet, 16, y_mm, points=float(rng.uniform(9, 12)))
        box(15, y_mm + 2, 180, 15)
        words(alphabet, 20, y_mm + 13, float(rng.uniform(4.0, 5.5)), 193)
        y_mm += 24.0
    passage = [str(p) for p in rng.choice(_PASSAGES, size=2, replace=False)]
    label("Copy this passage into the box below:", 16, y_mm, points=9)
    for i, line in enumerate(passage):
        label(line, 16, y_mm + 5 + 4.5 * i, points=8)
    box(15, y_mm + 13, 180, 30)
    for i, line in enumerate(passage):
        words(line, 20, y_mm + 24 + 12 * i, float(rng.uniform(4.0, 5.0)), 193)

    image = _scan(canvas, rng, tinted=rng.random() < 0.3, specks=30, colour_share=0.6)
    return _page(canvas, image, dpi, fields)


def _scan(
    canvas: _Canvas, rng: np.random.Generator, *, tinted: bool, specks: int, colour_share: float
) -> np.ndarray:
    """The canvas's ink laid on paper and scanned: in colour ``colour_share`` of the time."""
    px_per_mm = canvas.px_per_mm
    page = make_paper(canvas.shape, px_per_mm=px_per_mm, rng=rng, tinted=tinted)
    for alpha, colour in canvas.layers:
        page = compose_ink(page, alpha, colour)
    return degrade_scan(
        page,
        px_per_mm=px_per_mm,
        rng=rng,
        blur=rng.uniform(0.3, 0.5) * px_per_mm / 11.8 + 0.2,
        noise=rng.uniform(1.0, 5.0),
        specks=int(rng.integers(0, specks)),
        colour=rng.random() < colour_share,
        jpeg_quality=int(rng.integers(70, 95)) if rng.random() < 0.4 else None,
        bitonal=False,
    )


def _page(canvas: _Canvas, image: np.ndarray, dpi: float, fields: list[MixedField]) -> MixedPage:
    """The scanned page with its fields in reading order: rows top to bottom, each left to right."""
    return MixedPage(
        image=image,
        dpi=dpi,
        fields=_reading_order(fields, canvas.mm(8)),
        glyphs=tuple(canvas.glyphs),
    )


def _reading_order(fields: Sequence[MixedField], row_gap: int) -> tuple[MixedField, ...]:
    """Fields in rows (tops within ``row_gap`` px of the row's first), rows by top, fields by x.

    Cutting the page into fixed bands of ``row_gap`` would part a row whose
    fields straddle a band's edge and read its right field before its left.
    """
    rows: list[list[MixedField]] = []
    for field in sorted(fields, key=lambda f: f.box[1]):
        if rows and field.box[1] - rows[-1][0].box[1] < row_gap:
            rows[-1].append(field)
        else:
            rows.append([field])
    return tuple(f for row in rows for f in sorted(row, key=lambda f: f.box[0]))


def _put_components(
    canvas: _Canvas, alpha: np.ndarray, ink: np.ndarray, x: int, y: int, kind: GlyphKind
) -> None:
    """Lay ink and record each connected piece of it as one truth glyph."""
    canvas.put(alpha, ink, x, y)
    n, _, stats, _ = cv2.connectedComponentsWithStats((ink > 0.5).astype(np.uint8), connectivity=8)
    for i in range(1, n):
        cx, cy, w, h, _ = (int(v) for v in stats[i])
        canvas.glyphs.append(TruthGlyph(box=(x + cx, y + cy, w, h), kind=kind, char=""))


def cut_amount_strip(page: MixedPage, rng: np.random.Generator) -> MixedPage:
    """The amount field cut out with a small margin, as a JPEG strip without dpi.

    Raises
    ------
    ValueError
        The page has no amount field.
    """
    amounts = [f for f in page.fields if f.name == "amount"]
    if not amounts:
        raise ValueError("the page has no amount field to cut out")
    field = amounts[0]
    x, y, w, h = field.box
    margin_x, margin_y = int(h * rng.uniform(0.3, 1.2)), int(h * rng.uniform(0.3, 0.8))
    H, W = page.image.shape[:2]
    x0, y0 = max(0, x - margin_x), max(0, y - margin_y)
    x1, y1 = min(W, x + w + margin_x), min(H, y + h + margin_y)
    image = page.image[y0:y1, x0:x1].copy()
    glyphs = tuple(
        replace(g, box=(g.box[0] - x0, g.box[1] - y0, g.box[2], g.box[3]))
        for g in page.glyphs
        if g.box[0] >= x0
        and g.box[1] >= y0
        and g.box[0] + g.box[2] <= x1
        and g.box[1] + g.box[3] <= y1
    )
    moved = replace(field, box=(x - x0, y - y0, w, h))
    return MixedPage(image=image, dpi=None, fields=(moved,), glyphs=glyphs)
