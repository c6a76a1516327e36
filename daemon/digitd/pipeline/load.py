"""Decode the bytes of a scan into pages."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from digitd.errors import InputError, InputLimitError

__all__ = ["Page", "load_pages"]

# Pillow's own bomb check would raise before ours with a less useful message.
Image.MAX_IMAGE_PIXELS = None

_PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True, slots=True)
class Page:
    """One decoded page.

    Attributes
    ----------
    index : int
        1-based page number within the document.
    image : (H, W) or (H, W, 3) uint8 ndarray
        Grey or RGB pixels, ink dark on light.
    dpi : float or None
        Resolution read from the file, or None when the file does not say.
    """

    index: int
    image: np.ndarray
    dpi: float | None


def _dpi_of(img: Image.Image) -> float | None:
    info = img.info.get("dpi")
    if not info:
        return None
    try:
        value = float(info[0] if isinstance(info, tuple) else info)
    except (TypeError, ValueError):
        return None
    # Many writers store 1 or 72 dpi when they know nothing.
    return value if 100.0 <= value <= 2400.0 else None


def _to_array(img: Image.Image) -> np.ndarray:
    if img.mode in ("1", "L", "I;16", "I", "F", "P", "LA") and not (
        img.mode == "P" and "transparency" not in img.info and img.palette.mode == "RGB"
    ):
        grey = img.convert("L")
        return np.asarray(grey, dtype=np.uint8).copy()
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def _load_pdf(data: bytes, *, max_pixels: int, max_pages: int, pdf_dpi: float) -> list[Page]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise InputError(f"not a readable PDF: {exc}") from exc
    try:
        n = len(pdf)
        if n == 0:
            raise InputError("PDF has no pages")
        if n > max_pages:
            raise InputLimitError(f"PDF has {n} pages, more than limits.max_pages={max_pages}")
        pages = []
        scale = pdf_dpi / 72.0
        for i in range(n):
            page = pdf[i]
            w_pt, h_pt = page.get_size()
            pixels = int(w_pt * scale) * int(h_pt * scale)
            if pixels > max_pixels:
                raise InputLimitError(
                    f"page {i + 1} would render to {pixels} pixels, "
                    f"more than limits.max_pixels={max_pixels}"
                )
            bitmap = page.render(scale=scale, grayscale=True)
            arr = np.asarray(bitmap.to_pil().convert("L"), dtype=np.uint8).copy()
            pages.append(Page(index=i + 1, image=arr, dpi=pdf_dpi))
        return pages
    finally:
        pdf.close()


def load_pages(
    data: bytes, *, max_pixels: int = 60_000_000, max_pages: int = 50, pdf_dpi: float = 300.0
) -> list[Page]:
    """Decode an image or PDF file's bytes into pages.

    Parameters
    ----------
    data : bytes
        The whole file.
    max_pixels : int
        Largest page (width * height) accepted; checked from the header,
        before the pixels are decoded.
    max_pages : int
        Most pages accepted in one document.
    pdf_dpi : float
        Resolution at which PDF pages are rendered.

    Returns
    -------
    pages : list of Page
        At least one page.

    Raises
    ------
    InputError
        The bytes are empty, truncated, or not an image or PDF.
    InputLimitError
        A page has more than ``max_pixels`` pixels, or there are more than
        ``max_pages`` pages.
    """
    if not data:
        raise InputError("file is empty (0 bytes)")
    if data.startswith(_PDF_MAGIC):
        return _load_pdf(data, max_pixels=max_pixels, max_pages=max_pages, pdf_dpi=pdf_dpi)
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise InputError("not an image file Pillow can identify (PNG, JPEG, TIFF, BMP)") from exc
    except OSError as exc:
        raise InputError(f"cannot read image header: {exc}") from exc
    pages: list[Page] = []
    try:
        for i, frame in enumerate(ImageSequence.Iterator(img)):
            if i >= max_pages:
                raise InputLimitError(f"more than limits.max_pages={max_pages} pages")
            w, h = frame.size
            if w * h > max_pixels:
                raise InputLimitError(
                    f"page {i + 1} is {w}x{h} = {w * h} pixels, "
                    f"more than limits.max_pixels={max_pixels}"
                )
            try:
                frame.load()
                arr = _to_array(frame)
            except (OSError, ValueError, SyntaxError) as exc:
                raise InputError(f"page {i + 1} is truncated or corrupt: {exc}") from exc
            pages.append(Page(index=i + 1, image=arr, dpi=_dpi_of(frame)))
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(f"image is truncated or corrupt: {exc}") from exc
    if not pages:
        raise InputError("image has no pages")
    return pages
