"""Cheque-like and form-like pages with handwritten digit strings and their truth."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from digitd.results import Box
from digitd.synth.paper import compose_ink, degrade_scan, make_paper, rotate_page
from digitd.synth.pen import render_digit

__all__ = [
    "CHEQUE_MM",
    "FORM_MM",
    "DigitBank",
    "ScanStyle",
    "SynthPage",
    "TruthField",
    "make_cheque",
    "make_form",
    "random_style",
]

CHEQUE_MM = (152.4, 69.85)  # a US personal cheque, 6 x 2.75 inches
FORM_MM = (210.0, 297.0)  # A4

_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
)
_HERSHEY_CAP = 21.0  # cap height in pixels at font scale 1
_WORDS = (
    "the",
    "of",
    "and",
    "to",
    "in",
    "for",
    "on",
    "with",
    "by",
    "name",
    "address",
    "please",
    "write",
    "each",
    "number",
    "here",
    "office",
    "use",
    "only",
    "customer",
    "branch",
    "signature",
    "date",
    "amount",
    "total",
    "account",
    "member",
    "application",
    "form",
    "details",
    "payment",
    "received",
    "holder",
    "reference",
    "code",
    "telephone",
    "postal",
    "city",
    "street",
    "country",
    "policy",
    "claim",
    "period",
    "tax",
    "year",
    "month",
    "day",
)
_FORM_LABELS = (
    "Telephone",
    "Postcode",
    "Date of birth",
    "Member number",
    "Amount paid",
    "Reference",
    "Account",
    "Quantity",
    "Branch code",
    "Policy number",
    "Year",
    "Customer id",
)
_BANKS = ("Northfield Savings Bank", "Union Trust Company", "Harbour City Bank", "Riverside Bank")


@dataclass(frozen=True, slots=True)
class TruthField:
    """A handwritten field: its digits and box (x, y, w, h) in the page's pixels.

    ``sources`` are the digit images the field was drawn from (as the bank
    holds them) and ``drawings`` the pen's clean drawing of each, (h, w)
    float32 alpha in [0, 1] before paper, print, skew and scan; both are for
    benchmarks that follow a digit from its source to its page crop, and are
    left out of comparisons.
    """

    name: str
    text: str
    box: Box
    digit_boxes: tuple[Box, ...] = ()
    sources: tuple[np.ndarray, ...] = field(default=(), compare=False, repr=False)
    drawings: tuple[np.ndarray, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SynthPage:
    """A generated scan and what is written on it.

    Attributes
    ----------
    image : (H, W) or (H, W, 3) uint8 ndarray
    dpi : float
    kind : str
        ``"cheque"`` or ``"form"``.
    fields : tuple of TruthField
        In reading order; empty for a page with print only.
    skew_degrees : float
        Positive when lines descend to the right.
    """

    image: np.ndarray
    dpi: float
    kind: str
    fields: tuple[TruthField, ...]
    skew_degrees: float


@dataclass(frozen=True, slots=True)
class ScanStyle:
    """How a page is printed, written and scanned."""

    dpi: float = 300.0
    colour: bool = True
    tinted: bool = True
    skew_degrees: float = 0.0
    blur: float = 0.5
    noise: float = 3.0
    specks: int = 20
    jpeg_quality: int | None = None
    bitonal: bool = False
    touching_rate: float = 0.15
    crossing_rate: float = 0.3


def random_style(rng: np.random.Generator, *, max_skew: float = 3.0) -> ScanStyle:
    """A scan setting drawn from the mix the issue asks for.

    Mostly 300 dpi colour; some 200 and 400 dpi, grey, JPEG and bitonal scans.
    """
    dpi = float(rng.choice([300.0, 300.0, 300.0, 200.0, 400.0]))
    bitonal = bool(rng.random() < 0.12)
    return ScanStyle(
        dpi=dpi,
        colour=bool(rng.random() < 0.6),
        tinted=bool(rng.random() < 0.6),
        skew_degrees=float(rng.uniform(-max_skew, max_skew)),
        blur=float(rng.uniform(0.0, 1.2)),
        noise=float(rng.uniform(0.0, 6.0)),
        specks=int(rng.integers(0, 60)),
        jpeg_quality=None if rng.random() < 0.6 else int(rng.integers(40, 90)),
        bitonal=bitonal,
    )


@dataclass(slots=True)
class DigitBank:
    """Digit images to write with, drawn at random per label.

    Attributes
    ----------
    images : (N, h, w) uint8 ndarray
        Ink dark (0) on light (255).
    labels : (N,) int ndarray
        0-9.
    """

    images: np.ndarray
    labels: np.ndarray
    _by_label: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels)
        self._by_label = [np.flatnonzero(labels == d) for d in range(10)]
        missing = [d for d in range(10) if len(self._by_label[d]) == 0]
        if missing:
            raise ValueError(f"the digit bank has no images of {missing}; give all of 0-9")

    def draw(self, digit: int, rng: np.random.Generator) -> np.ndarray:
        """One image of ``digit``, chosen at random."""
        pool = self._by_label[digit]
        return self.images[pool[int(rng.integers(len(pool)))]]


class _Sheet:
    """Drawing surface in millimetres: a print layer and a handwriting layer."""

    def __init__(self, size_mm: tuple[float, float], dpi: float) -> None:
        self.ppm = dpi / 25.4
        self.shape = (round(size_mm[1] * self.ppm), round(size_mm[0] * self.ppm))
        self.printed = np.zeros(self.shape, np.uint8)
        self.hand = np.zeros(self.shape, np.float32)
        self.fields: list[TruthField] = []

    def px(self, mm: float) -> int:
        return round(mm * self.ppm)

    def thick(self, mm: float) -> int:
        return max(1, round(mm * self.ppm))

    def text(self, words: str, x: float, y: float, cap: float, font: int, weight: float) -> None:
        scale = cap * self.ppm / _HERSHEY_CAP
        org = (self.px(x), self.px(y))
        cv2.putText(self.printed, words, org, font, scale, 255, self.thick(weight), cv2.LINE_AA)

    def line(self, x0: float, y0: float, x1: float, y1: float, weight: float) -> None:
        p0, p1 = (self.px(x0), self.px(y0)), (self.px(x1), self.px(y1))
        cv2.line(self.printed, p0, p1, 255, self.thick(weight), cv2.LINE_AA)

    def rect(self, x: float, y: float, w: float, h: float, weight: float) -> None:
        p0, p1 = (self.px(x), self.px(y)), (self.px(x + w), self.px(y + h))
        cv2.rectangle(self.printed, p0, p1, 255, self.thick(weight), cv2.LINE_AA)

    def write(
        self,
        name: str,
        text: str,
        bank: DigitBank,
        rng: np.random.Generator,
        *,
        x: float,
        baseline: float,
        height: float,
        pitch: float | None = None,
        touching_rate: float = 0.0,
    ) -> None:
        """Write ``text`` by hand from ``x`` on ``baseline``; one digit per ``pitch`` if given."""
        slant = float(rng.uniform(-0.15, 0.3))
        pen = float(rng.uniform(0.3, 0.6)) * self.ppm
        cursor = x * self.ppm
        boxes: list[Box] = []
        inks: list[np.ndarray] = []
        sources: list[np.ndarray] = []
        for i, ch in enumerate(text):
            size = height * float(rng.uniform(0.9, 1.1)) * self.ppm
            image = bank.draw(int(ch), rng)
            alpha = render_digit(image, height_px=size, pen_px=pen, rng=rng, slant=slant)
            if alpha.size == 0:
                continue
            h, w = alpha.shape
            if pitch is not None:
                left = (x + (i + 0.5) * pitch) * self.ppm - w / 2.0
                left += float(rng.normal(0.0, 0.3)) * self.ppm
            else:
                left = cursor
            top = baseline * self.ppm - h + float(rng.normal(0.0, 0.3)) * self.ppm
            left_i, top_i = round(left), round(top)
            if left_i < 0 or top_i < 0 or left_i + w > self.shape[1] or top_i + h > self.shape[0]:
                continue
            inks.append(alpha)
            sources.append(image)
            boxes.append((left_i, top_i, w, h))
            gap = float(rng.uniform(0.5, 1.8))
            if rng.random() < touching_rate:
                gap = -float(rng.uniform(0.2, 0.6))
            cursor = left + w + gap * self.ppm
        if len(boxes) != len(text):
            return  # a field with a digit off the page is not written at all: it has no truth
        for alpha, (left_i, top_i, w, h) in zip(inks, boxes, strict=True):
            region = self.hand[top_i : top_i + h, left_i : left_i + w]
            np.maximum(region, alpha, out=region)
        arr = np.array(boxes)
        x0, y0 = arr[:, 0].min(), arr[:, 1].min()
        x1, y1 = (arr[:, 0] + arr[:, 2]).max(), (arr[:, 1] + arr[:, 3]).max()
        box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
        self.fields.append(
            TruthField(
                name=name,
                text=text,
                box=box,
                digit_boxes=tuple(boxes),
                sources=tuple(sources),
                drawings=tuple(inks),
            )
        )

    def scribble(self, rng: np.random.Generator, *, x: float, baseline: float) -> None:
        """A signature: one long looping pen stroke."""
        width, height = rng.uniform(28, 40), rng.uniform(6, 10)
        t = np.linspace(0, 1, 400)
        loops = rng.uniform(4, 8)
        xs = x + width * t + 2.5 * np.sin(2 * np.pi * loops * t + rng.uniform(0, 6))
        ys = baseline - height / 2 * (1 + np.sin(2 * np.pi * loops * t * 1.3) * 0.9)
        pts = np.stack([xs * self.ppm, ys * self.ppm], axis=1).astype(np.int32)
        layer = np.zeros(self.shape, np.uint8)
        cv2.polylines(layer, [pts], False, 255, self.thick(0.45), cv2.LINE_AA)
        np.maximum(self.hand, layer.astype(np.float32) / 255.0, out=self.hand)


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, size=n))


def _words(rng: np.random.Generator, n: int) -> str:
    return " ".join(str(rng.choice(_WORDS)) for _ in range(n))


def _finish(sheet: _Sheet, kind: str, style: ScanStyle, rng: np.random.Generator) -> SynthPage:
    paper = make_paper(sheet.shape, px_per_mm=sheet.ppm, rng=rng, tinted=style.tinted)
    print_colour = (
        np.array([0.1, 0.12, 0.35]) if kind == "cheque" and rng.random() < 0.4 else np.full(3, 0.1)
    )
    page = compose_ink(paper, sheet.printed.astype(np.float32) / 255.0, print_colour)
    if rng.random() < 0.6:
        hand_colour = np.array([0.08, 0.12, 0.45]) * rng.uniform(0.7, 1.4)
    else:
        hand_colour = np.full(3, rng.uniform(0.05, 0.2))
    page = compose_ink(page, sheet.hand * float(rng.uniform(0.8, 1.0)), hand_colour)
    page, matrix = rotate_page(page, style.skew_degrees)
    scan = degrade_scan(
        page,
        px_per_mm=sheet.ppm,
        rng=rng,
        blur=style.blur,
        noise=style.noise,
        specks=style.specks,
        colour=style.colour,
        jpeg_quality=style.jpeg_quality,
        bitonal=style.bitonal,
    )
    fields = tuple(
        replace(
            f,
            box=_rotate_box(f.box, matrix, sheet.shape),
            digit_boxes=tuple(_rotate_box(b, matrix, sheet.shape) for b in f.digit_boxes),
        )
        for f in sheet.fields
    )
    return SynthPage(
        image=scan, dpi=style.dpi, kind=kind, fields=fields, skew_degrees=style.skew_degrees
    )


def _rotate_box(box: Box, matrix: np.ndarray, shape: tuple[int, int]) -> Box:
    x, y, w, h = box
    corners = np.array([[x, y, 1.0], [x + w, y, 1.0], [x, y + h, 1.0], [x + w, y + h, 1.0]])
    pts = corners @ matrix.T
    x0, y0 = max(0.0, pts[:, 0].min()), max(0.0, pts[:, 1].min())
    x1, y1 = min(float(shape[1]), pts[:, 0].max()), min(float(shape[0]), pts[:, 1].max())
    return (int(x0), int(y0), int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0)))


def make_cheque(
    bank: DigitBank,
    rng: np.random.Generator,
    *,
    style: ScanStyle | None = None,
    handwriting: bool = True,
) -> SynthPage:
    """A cheque with a handwritten date, amount and account number.

    Printed: a logo, the bank's name, labels in letters, the payee and words
    lines, an amount box, date boxes or a date line, a signature line. Written:
    ``date`` (DDMMYYYY), ``amount`` (3-6 digits), ``account`` (6-10 digits),
    and a signature; with ``handwriting=False`` only the print.

    Parameters
    ----------
    bank : DigitBank
    rng : numpy.random.Generator
    style : ScanStyle or None
        Default: a 300-dpi colour scan, no skew.
    handwriting : bool

    Returns
    -------
    SynthPage
    """
    style = style or ScanStyle()
    s = _Sheet(CHEQUE_MM, style.dpi)
    font = int(rng.choice(_FONTS))
    weight = float(rng.uniform(0.15, 0.3))
    # Logo: a disc with a letter cut out, and the bank's name.
    centre = (s.px(12), s.px(11))
    cv2.circle(s.printed, centre, s.px(rng.uniform(4.5, 5.5)), 255, -1, cv2.LINE_AA)
    cv2.putText(s.printed, "B", (centre[0] - s.px(2), centre[1] + s.px(2)), font,
                4.0 * s.ppm / _HERSHEY_CAP, 0, s.thick(0.5), cv2.LINE_AA)  # fmt: skip
    s.text(str(rng.choice(_BANKS)), 20, 11, float(rng.uniform(2.6, 3.4)), font, 0.3)
    s.text(_words(rng, 4), 20, 15.5, 1.6, font, 0.15)
    s.text("Date", 97, 13.5, 2.2, font, weight)
    boxed_date = bool(rng.random() < 0.5)
    if boxed_date:
        for i in range(8):
            s.rect(107 + 5.2 * i, 6.5, 5.2, 7.5, weight)
    else:
        s.line(107, 14.2, 149, 14.2, weight)
    s.text("Pay to the order of", 5, 27, 2.0, font, weight)
    s.line(30, 28, 100, 28, weight)
    s.text("$", 104, 27.5, 3.0, font, weight)
    s.rect(113, 19.5, 35, 10.5, weight)
    s.line(5, 38, 128, 38, weight)
    s.text("Dollars", 131, 38, 2.0, font, weight)
    s.text("Account No.", 5, 50, 2.0, font, weight)
    s.line(27, 50.5, 85, 50.5, weight)
    s.text("Memo", 5, 62, 2.0, font, weight)
    s.line(17, 62.5, 75, 62.5, weight)
    s.line(95, 60, 149, 60, weight)
    s.text("Signature", 112, 64.5, 1.8, font, weight)
    if handwriting:
        cross = style.crossing_rate
        height = float(rng.uniform(4.5, 5.5))
        if boxed_date:
            s.write("date", _date(rng), bank, rng, x=107, baseline=12.8, height=height, pitch=5.2)
        else:
            drop = float(rng.uniform(0.4, 1.0)) if rng.random() < cross else -0.5
            s.write("date", _date(rng), bank, rng, x=110, baseline=14.2 + drop, height=height,
                    touching_rate=style.touching_rate)  # fmt: skip
        s.write("amount", _digits(rng, int(rng.integers(3, 7))), bank, rng, x=117,
                baseline=27.5, height=float(rng.uniform(5.0, 6.5)),
                touching_rate=style.touching_rate)  # fmt: skip
        drop = float(rng.uniform(0.4, 1.2)) if rng.random() < cross else -0.6
        s.write("account", _digits(rng, int(rng.integers(6, 11))), bank, rng, x=31,
                baseline=50.5 + drop, height=float(rng.uniform(4.5, 6.5)),
                touching_rate=style.touching_rate)  # fmt: skip
        if rng.random() < 0.7:
            s.scribble(rng, x=100, baseline=58)
    return _finish(s, "cheque", style, rng)


def _date(rng: np.random.Generator) -> str:
    day, month = int(rng.integers(1, 29)), int(rng.integers(1, 13))
    return f"{day:02d}{month:02d}{int(rng.integers(1990, 2031))}"


def make_form(
    bank: DigitBank,
    rng: np.random.Generator,
    *,
    style: ScanStyle | None = None,
    handwriting: bool = True,
    n_fields: int = 10,
) -> SynthPage:
    """An A4 form: a title, printed paragraphs, and labelled digit fields.

    Each field is an underline, a box, a comb (cells with ticks) or a row of
    one-digit boxes, labelled in letters on its left.

    Parameters
    ----------
    bank : DigitBank
    rng : numpy.random.Generator
    style : ScanStyle or None
    handwriting : bool
        False leaves the fields empty (print only).
    n_fields : int
        At most 11.

    Returns
    -------
    SynthPage
    """
    style = style or ScanStyle(tinted=False)
    s = _Sheet(FORM_MM, style.dpi)
    font = int(rng.choice(_FONTS))
    weight = float(rng.uniform(0.15, 0.3))
    s.text("Application for " + _words(rng, 2), 15, 22, 4.5, font, 0.45)
    for row in range(3):
        s.text(_words(rng, 12), 15, 31 + 4.5 * row, 1.8, font, 0.15)
    s.rect(10, 42, 190, 245, 0.3)
    labels = rng.permutation(len(_FORM_LABELS))
    for i in range(min(n_fields, 11)):
        y = 60 + 21 * i
        s.text(_FORM_LABELS[labels[i]], 15, y, float(rng.uniform(2.0, 2.6)), font, weight)
        kind = int(rng.integers(4))
        n = int(rng.integers(3, 11))
        height = float(rng.uniform(4.5, 7.0))
        name = f"field-{i + 1}"
        text = _digits(rng, n)
        if kind == 0:  # underline
            s.line(70, y + 0.5, 70 + 6.5 * n + 10, y + 0.5, weight)
            drop = float(rng.uniform(0.4, 1.2)) if rng.random() < style.crossing_rate else -0.6
            if handwriting:
                s.write(name, text, bank, rng, x=73, baseline=y + 0.5 + drop, height=height,
                        touching_rate=style.touching_rate)  # fmt: skip
        elif kind == 1:  # one box
            s.rect(70, y - 9.5, 6.5 * n + 10, 12, weight)
            if handwriting:
                s.write(name, text, bank, rng, x=74, baseline=y, height=min(height, 7.5),
                        touching_rate=style.touching_rate)  # fmt: skip
        elif kind == 2:  # comb
            pitch = 6.5
            s.line(70, y + 1, 70 + pitch * n, y + 1, weight)
            for k in range(n + 1):
                s.line(70 + pitch * k, y + 1, 70 + pitch * k, y - 1.5, weight)
            if handwriting:
                s.write(name, text, bank, rng, x=70, baseline=y + 0.3,
                        height=min(height, 6.0), pitch=pitch)  # fmt: skip
        else:  # one box per digit
            pitch = 6.5
            for k in range(n):
                s.rect(70 + pitch * k, y - 8, pitch, 9.5, weight)
            if handwriting:
                s.write(name, text, bank, rng, x=70, baseline=y, height=min(height, 6.0),
                        pitch=pitch)  # fmt: skip
    return _finish(s, "form", style, rng)
