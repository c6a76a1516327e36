"""Decode the bytes of a scan into pages."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import cv2
import deflate
import numpy as np
import pyspng
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from digitd.errors import InputError, InputLimitError

__all__ = ["Page", "load_pages"]

# Pillow's own bomb check would raise before ours with a less useful message.
Image.MAX_IMAGE_PIXELS = None

_PDF_MAGIC = b"%PDF-"
_EXIF_ORIENTATION = 0x0112
# PNG's EXIF chunk; Pillow finds one after the pixel data only by decoding them.
_PNG_EXIF = b"eXIf"
_JPEG_END = b"\xff\xd9"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A zlib header (deflate, 32K window, no preset dictionary) and the largest stored block.
_ZLIB_STORED_HEADER = b"\x78\x01"
_STORED_BLOCK = 65535
# Rows larger than this (a 300-dpi A3 colour scan) go to libspng as they are:
# inflating them first holds three copies at once, too much memory for the time.
_MAX_STORED_ROWS = 64 * 1024 * 1024
# OpenCV 4.10 and later decode colour straight to RGB.
_IMREAD_RGB = getattr(cv2, "IMREAD_COLOR_RGB", cv2.IMREAD_COLOR)


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
    """Grey or RGB uint8 pixels: alpha laid on white, 16-bit scaled, EXIF rotation applied."""
    if img.getexif().get(_EXIF_ORIENTATION, 1) != 1:
        img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(img, dtype=np.float64)
        top = float(values.max()) if values.size else 0.0
        scale = 255.0 / (65535.0 if top > 255 else max(top, 1.0))
        return np.clip(values * scale, 0, 255).astype(np.uint8)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img.convert("RGBA"))
    if img.mode in ("1", "L", "LA"):
        grey = img if img.mode == "L" else img.convert("L")
        return np.array(grey, dtype=np.uint8)
    rgb = np.array(img if img.mode == "RGB" else img.convert("RGB"), dtype=np.uint8)
    return _grey_if_grey(rgb)


def _grey_if_grey(rgb: np.ndarray) -> np.ndarray:
    """A colour file holding a grey scan is read as grey (a third of the work)."""
    sample = rgb[::7, ::7].astype(np.int16)
    if int(np.abs(sample - sample[:, :, :1]).max(initial=0)) <= 2:
        return np.ascontiguousarray(rgb[:, :, 0])
    return rgb


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]] | None:
    """Type, start and end of the data of every chunk of a PNG up to IEND, or None.

    None when the file is not a PNG, a chunk is cut short or its CRC does not
    match: libspng as pyspng drives it decodes past a CRC mismatch, where
    libpng (and so Pillow and OpenCV) refuses the file; this check keeps a
    corrupt file an input error. libdeflate's CRC reads 10 MB in 0.3 ms.
    """
    if not data.startswith(_PNG_SIGNATURE):
        return None
    view = memoryview(data)
    chunks: list[tuple[bytes, int, int]] = []
    pos, end = len(_PNG_SIGNATURE), len(data)
    while pos + 12 <= end:
        (length,) = struct.unpack_from(">I", data, pos)
        stop = pos + 8 + length
        if stop + 4 > end:
            return None
        (crc,) = struct.unpack_from(">I", data, stop)
        if deflate.crc32(view[pos + 4 : stop]) != crc:
            return None
        kind = bytes(view[pos + 4 : pos + 8])
        chunks.append((kind, pos + 8, stop))
        if kind == b"IEND":
            return chunks
        pos = stop + 4
    return None


def _png_chunk(kind: bytes, parts: list[bytes | memoryview]) -> list[bytes | memoryview]:
    """One PNG chunk of the data ``parts`` (to be joined): length, type, data and CRC."""
    length = sum(len(part) for part in parts)
    crc = deflate.crc32(kind)
    for part in parts:
        crc = deflate.crc32(part, crc)
    return [struct.pack(">I", length) + kind, *parts, struct.pack(">I", crc)]


def _stored_zlib(raw: bytes | bytearray) -> list[bytes | memoryview]:
    """``raw`` as the parts (to be joined) of a zlib stream of stored deflate blocks."""
    view = memoryview(raw)
    parts: list[bytes | memoryview] = [_ZLIB_STORED_HEADER]
    n = len(raw)
    for start in range(0, n, _STORED_BLOCK):
        size = min(_STORED_BLOCK, n - start)
        last = start + size == n
        parts.append(struct.pack("<BHH", int(last), size, size ^ 0xFFFF))
        parts.append(view[start : start + size])
    if n == 0:
        parts.append(struct.pack("<BHH", 1, 0, 0xFFFF))
    parts.append(struct.pack(">I", deflate.adler32(raw)))
    return parts


def _decode_png(data: bytes, chunks: list[tuple[bytes, int, int]], mode: str) -> np.ndarray | None:
    """Pixels of an intact 8-bit grey or RGB PNG through libdeflate and libspng, or None.

    zlib's inflate is nearly all of libspng's time on a scan; libdeflate
    inflates the pixel rows almost three times as fast, and libspng is handed
    them stored (uncompressed) to undo the row filters only. Interlaced
    files and very large pages go to libspng whole; a stream that does not
    inflate to exactly the image's rows returns None (and goes through
    Pillow).
    """
    view = memoryview(data)
    kind, start, stop = chunks[0]
    if kind != b"IHDR" or stop - start != 13:
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack_from(">IIBBBBB", data, start)
    channels = {0: 1, 2: 3}.get(colour)
    if depth != 8 or channels is None or channels != len(mode):
        return None
    spng_format = "RGB" if channels == 3 else "L"
    size = height * (1 + width * channels)
    if interlace or size > _MAX_STORED_ROWS:
        source = data
    else:
        idat = b"".join(view[a:b] for k, a, b in chunks if k == b"IDAT")
        try:
            raw = deflate.zlib_decompress(idat, size)
        except deflate.DeflateError:
            return None
        if len(raw) != size:
            return None
        source = b"".join(
            [
                _PNG_SIGNATURE,
                *_png_chunk(b"IHDR", [view[start:stop]]),
                *_png_chunk(b"IDAT", _stored_zlib(raw)),
                *_png_chunk(b"IEND", []),
            ]
        )
        del raw, idat  # libspng copies its input and fills its output: three copies, not four
    try:
        pixels = pyspng.load(source, format=spng_format)
    except (RuntimeError, ValueError):
        return None
    return pixels


def _decode_plain(img: Image.Image, data: bytes) -> np.ndarray | None:
    """Pixels of a single-page 8-bit grey or RGB PNG or JPEG, decoded straight to an array.

    A PNG is inflated by libdeflate and unfiltered by libspng (pyspng),
    see `_decode_png`: less than two thirds of libspng's own time on an A4
    page, and a third of libpng's; a JPEG goes through OpenCV. Both
    decode straight into an array, where Pillow decodes into its own
    storage and then copies out. The pixels are the same as Pillow's;
    anything else (EXIF rotation, palettes, alpha, 16 bits, CMYK, several
    frames, a damaged file) returns None and goes through Pillow.
    """
    if img.format not in ("PNG", "JPEG") or img.mode not in ("L", "RGB"):
        return None
    if getattr(img, "n_frames", 1) != 1 or len(img.tile) != 1:
        return None
    if img.format == "PNG" and img.tile[0].args != img.mode:
        return None  # fewer than 8 bits
    if img.format == "JPEG" and (
        img.getexif().get(_EXIF_ORIENTATION, 1) != 1 or _JPEG_END not in data[-64:]
    ):
        return None  # rotated, or truncated (OpenCV would fill the rest with grey)
    if img.format == "PNG":
        chunks = _png_chunks(data)
        if chunks is None or any(kind == _PNG_EXIF for kind, _, _ in chunks):
            return None  # damaged, or EXIF (maybe a rotation) that Pillow finds after the pixels
        pixels = _decode_png(data, chunks, img.mode)
    else:
        flag = cv2.IMREAD_GRAYSCALE if img.mode == "L" else _IMREAD_RGB
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flag | cv2.IMREAD_IGNORE_ORIENTATION)
        if pixels is not None and pixels.ndim == 3 and _IMREAD_RGB == cv2.IMREAD_COLOR:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)  # an OpenCV that decodes to BGR
    if pixels is None or pixels.shape[:2] != (img.size[1], img.size[0]):
        return None
    if pixels.ndim == 2:
        return pixels
    return _grey_if_grey(pixels)


def _pdf_page_dpi(page: object, fallback: float) -> float:
    """Resolution of the scan a PDF page holds: its largest image's pixels per inch."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    best = 0.0
    width_pt = float(page.get_width())  # type: ignore[attr-defined]
    try:
        objects = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])  # type: ignore[attr-defined]
        for obj in objects:
            if not isinstance(obj, pdfium.PdfImage):
                continue
            px_w, _ = obj.get_px_size()
            left, _, right, _ = obj.get_bounds()
            if right - left > 0.5 * width_pt:
                best = max(best, px_w / ((right - left) / 72.0))
    except pdfium.PdfiumError:
        return fallback
    if 100.0 <= best <= 1200.0:
        return best
    return fallback


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
        for i in range(n):
            page = pdf[i]
            dpi = _pdf_page_dpi(page, pdf_dpi)
            scale = dpi / 72.0
            w_pt, h_pt = page.get_size()
            pixels = int(w_pt * scale) * int(h_pt * scale)
            if pixels > max_pixels:
                raise InputLimitError(
                    f"page {i + 1} would render to {pixels} pixels, "
                    f"more than limits.max_pixels={max_pixels}"
                )
            bitmap = page.render(scale=scale)
            arr = _to_array(bitmap.to_pil())
            pages.append(Page(index=i + 1, image=arr, dpi=round(dpi, 2)))
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
        Resolution at which PDF pages are rendered when a page holds no
        scanned image; a scanned page is rendered at its image's resolution.

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
    frames = int(getattr(img, "n_frames", 1))
    if frames > max_pages:
        raise InputLimitError(
            f"image has {frames} pages, more than limits.max_pages={max_pages}; "
            "split the file or raise the limit"
        )
    w, h = img.size
    if frames == 1 and w * h <= max_pixels:
        plain = _decode_plain(img, data)
        if plain is not None:
            return [Page(index=1, image=plain, dpi=_dpi_of(img))]
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
