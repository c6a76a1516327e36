"""Decoding scans: formats, resolution, limits, and broken files."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from digitd.errors import InputError, InputLimitError
from digitd.pipeline.load import load_pages


def _page(h: int = 120, w: int = 90) -> np.ndarray:
    img = np.full((h, w), 235, np.uint8)
    img[30:90, 40:46] = 20
    return img


def _encode(img: Image.Image | list[Image.Image], fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    if isinstance(img, list):
        img[0].save(buf, format=fmt, save_all=True, append_images=img[1:], **kw)
    else:
        img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "JPEG", "TIFF"])
def test_grey_formats_decode_with_their_dpi(fmt: str) -> None:
    data = _encode(Image.fromarray(_page()), fmt, dpi=(300, 300))
    (page,) = load_pages(data)
    assert page.index == 1
    assert page.image.shape == (120, 90)
    assert page.image.dtype == np.uint8
    assert page.dpi == pytest.approx(300, abs=1)
    assert page.image[60, 42] < 80 and page.image[10, 10] > 200


def test_a_file_without_dpi_says_so() -> None:
    (page,) = load_pages(_encode(Image.fromarray(_page()), "PNG"))
    assert page.dpi is None


def test_bitonal_multipage_g4_tiff_gives_every_page() -> None:
    frames = [Image.fromarray(_page() > 128).convert("1") for _ in range(3)]
    data = _encode(frames, "TIFF", compression="group4", dpi=(200, 200))
    pages = load_pages(data)
    assert [p.index for p in pages] == [1, 2, 3]
    assert all(p.dpi == pytest.approx(200, abs=1) for p in pages)
    assert set(np.unique(pages[0].image)) == {0, 255}


def test_colour_stays_colour_and_grey_in_rgb_becomes_grey() -> None:
    rgb = np.dstack([_page()] * 3)
    rgb[30:90, 40:46] = (20, 30, 140)
    (colour,) = load_pages(_encode(Image.fromarray(rgb), "PNG"))
    assert colour.image.shape == (120, 90, 3)
    (grey,) = load_pages(_encode(Image.fromarray(np.dstack([_page()] * 3)), "PNG"))
    assert grey.image.shape == (120, 90)


def test_transparent_png_lies_on_white_paper() -> None:
    rgba = np.zeros((50, 40, 4), np.uint8)
    rgba[20:30, 10:30] = (0, 0, 0, 255)
    (page,) = load_pages(_encode(Image.fromarray(rgba), "PNG"))
    assert page.image[0, 0] == 255 and page.image[25, 20] == 0


def test_sixteen_bit_scan_is_scaled_not_clipped() -> None:
    img = (_page().astype(np.uint16) * 257).astype(np.uint16)
    (page,) = load_pages(_encode(Image.fromarray(img), "PNG"))
    assert page.image[10, 10] == pytest.approx(235, abs=2)
    assert page.image[60, 42] == pytest.approx(20, abs=2)


def test_pdf_of_a_scan_renders_at_the_scan_resolution() -> None:
    data = _encode(Image.fromarray(_page(600, 450)), "PDF", resolution=200.0)
    (page,) = load_pages(data, pdf_dpi=72)
    assert page.dpi == pytest.approx(200, rel=0.02)
    assert page.image.shape[:2] == pytest.approx((600, 450), abs=3)
    assert page.image.min() < 80


def test_limits_are_checked_before_decoding() -> None:
    big = _encode(Image.fromarray(np.full((400, 400), 255, np.uint8)), "PNG")
    with pytest.raises(InputLimitError, match="max_pixels=10000"):
        load_pages(big, max_pixels=10_000)
    frames = [Image.fromarray(_page()) for _ in range(3)]
    with pytest.raises(InputLimitError, match="max_pages=2"):
        load_pages(_encode(frames, "TIFF"), max_pages=2)
    pdf = _encode([Image.fromarray(_page()) for _ in range(3)], "PDF", resolution=100.0)
    with pytest.raises(InputLimitError, match="max_pages=2"):
        load_pages(pdf, max_pages=2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, not an image", "not an image"),
        (b"%PDF-1.4 garbage", "PDF"),
    ],
)
def test_unreadable_input_is_an_input_error(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_pages(data)


def test_truncated_png_is_an_input_error() -> None:
    data = _encode(
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200), np.uint8)), "PNG"
    )
    with pytest.raises(InputError, match=r"truncated|corrupt"):
        load_pages(data[: len(data) // 2])


def _png_with_rows(pixels: np.ndarray, rows: bytes) -> bytes:
    """A PNG of ``pixels``' header whose IDAT holds ``rows`` (filter bytes included), CRCs right."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    h, w = pixels.shape[:2]
    colour = 2 if pixels.ndim == 3 else 0
    header = struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)
    body = zlib.compress(rows)
    # Several IDAT chunks, as scanners write them.
    idats = [chunk(b"IDAT", body[i : i + 1000]) for i in range(0, len(body), 1000)]
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + b"".join(idats) + chunk(b"IEND", b"")


@pytest.mark.parametrize("shape", [(150, 130, 3), (300, 260, 3), (150, 130), (400, 300)])
def test_png_decodes_to_the_same_pixels_as_pillow(shape: tuple[int, ...]) -> None:
    # The larger pages need several stored blocks of 64 KB when handed to libspng.
    pixels = np.random.default_rng(1).integers(0, 255, shape, np.uint8)
    for level in (1, 6, 9):
        data = _encode(Image.fromarray(pixels), "PNG", compress_level=level)
        np.testing.assert_array_equal(load_pages(data)[0].image, pixels)


def test_png_of_many_idat_chunks_and_every_row_filter_decodes() -> None:
    pixels = np.random.default_rng(3).integers(0, 255, (120, 100, 3), np.uint8)
    rows = np.zeros((120, 1 + 300), np.uint8)
    rows[:, 1:] = pixels.reshape(120, 300)
    rows[:, 0] = 0  # filter "None" on every row: the rows are the pixels
    np.testing.assert_array_equal(
        load_pages(_png_with_rows(pixels, rows.tobytes()))[0].image, pixels
    )
    # Pillow's own encoder, adaptive filtering: Sub, Up, Average and Paeth rows.
    smooth = np.clip(np.cumsum(pixels.astype(np.int64) - 127, axis=1) // 40 + 128, 0, 255)
    data = _encode(Image.fromarray(smooth.astype(np.uint8)), "PNG", optimize=True)
    np.testing.assert_array_equal(load_pages(data)[0].image, smooth)


def test_png_whose_rows_stop_short_is_an_input_error_and_extra_rows_are_ignored() -> None:
    pixels = np.random.default_rng(4).integers(0, 255, (80, 60), np.uint8)
    rows = np.zeros((80, 61), np.uint8)
    rows[:, 1:] = pixels
    with pytest.raises(InputError, match=r"truncated|corrupt"):
        load_pages(_png_with_rows(pixels, rows.tobytes()[:-7]))
    # Bytes after the last row are ignored, as Pillow and libpng ignore them.
    extra = _png_with_rows(pixels, rows.tobytes() + bytes(61))
    np.testing.assert_array_equal(load_pages(extra)[0].image, pixels)


def test_colour_png_with_damaged_pixel_data_is_an_input_error() -> None:
    rgb = np.random.default_rng(2).integers(0, 255, (200, 200, 3), np.uint8)
    data = bytearray(_encode(Image.fromarray(rgb), "PNG"))
    data[len(data) // 2] ^= 0xFF  # inside the compressed pixels; the chunk's CRC no longer matches
    with pytest.raises(InputError, match=r"truncated|corrupt"):
        load_pages(bytes(data))


def test_a_phone_jpeg_is_turned_upright_by_its_exif_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    data = _encode(Image.fromarray(_page(120, 90)), "JPEG", exif=exif)
    (page,) = load_pages(data)
    assert page.image.shape == (90, 120)


def test_a_png_with_an_exif_orientation_is_turned_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(Image.fromarray(np.dstack([_page(120, 90)] * 3)), "PNG", exif=exif)
    assert b"eXIf" in data
    (page,) = load_pages(data)
    assert page.image.shape == (90, 120)


def test_a_png_too_large_to_inflate_first_goes_to_libspng_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import digitd.pipeline.load as load_module

    monkeypatch.setattr(load_module, "_MAX_STORED_ROWS", 1000)
    pixels = np.random.default_rng(5).integers(0, 255, (60, 50, 3), np.uint8)
    data = _encode(Image.fromarray(pixels), "PNG")
    np.testing.assert_array_equal(load_pages(data)[0].image, pixels)
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0xFF
    with pytest.raises(InputError, match=r"truncated|corrupt"):
        load_pages(bytes(damaged))
