"""Paper, print and scanner effects for generated pages."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["compose_ink", "degrade_scan", "make_paper", "rotate_page"]


def make_paper(
    shape: tuple[int, int], *, px_per_mm: float, rng: np.random.Generator, tinted: bool
) -> np.ndarray:
    """A sheet of paper: white or tinted, with grain, texture and uneven light.

    Parameters
    ----------
    shape : (H, W) tuple of int
    px_per_mm : float
    rng : numpy.random.Generator
    tinted : bool
        A pastel tint and a faint wavy security pattern, as on cheques.

    Returns
    -------
    paper : (H, W, 3) float32 ndarray
        RGB in [0, 1].
    """
    h, w = shape
    if tinted:
        base = rng.uniform(0.80, 0.97, size=3).astype(np.float32)
        base[rng.integers(3)] = rng.uniform(0.93, 1.0)
    else:
        base = np.full(3, rng.uniform(0.93, 1.0), np.float32)
    paper = np.ones((h, w, 3), np.float32) * base
    # Low-frequency light falloff and texture.
    coarse = rng.normal(0.0, 1.0, size=(max(2, h // 200), max(2, w // 200))).astype(np.float32)
    light = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    paper *= (1.0 + 0.03 * light)[:, :, None]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gradient = 1.0 - rng.uniform(0.0, 0.12) * (xx / w if rng.random() < 0.5 else yy / h)
    paper *= gradient[:, :, None]
    if tinted:
        period = rng.uniform(1.5, 4.0) * px_per_mm
        wave = np.sin(
            (xx + 3.0 * px_per_mm * np.sin(yy / (7.0 * px_per_mm))) / period * 2 * np.pi
        ) * np.sin(yy / period * 2 * np.pi + xx / (11.0 * px_per_mm))
        pattern_colour = rng.uniform(0.55, 0.9, size=3).astype(np.float32)
        strength = rng.uniform(0.05, 0.15)
        alpha = (strength * np.clip(wave, 0, 1))[:, :, None]
        paper = paper * (1 - alpha) + pattern_colour * alpha
    grain = rng.normal(0.0, 0.015, size=(h, w)).astype(np.float32)
    paper += grain[:, :, None]
    return np.clip(paper, 0.0, 1.0)


def compose_ink(page: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Lay ink of ``colour`` over ``page`` with coverage ``alpha``.

    Parameters
    ----------
    page : (H, W, 3) float32 ndarray
    alpha : (H, W) float32 ndarray
        Coverage in [0, 1].
    colour : (3,) float ndarray
        RGB of the ink in [0, 1].

    Returns
    -------
    page : (H, W, 3) float32 ndarray
        A new array.
    """
    a = np.clip(alpha, 0.0, 1.0)[:, :, None]
    return page * (1.0 - a) + np.asarray(colour, np.float32) * a


def rotate_page(page: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate a page about its centre, as a sheet fed askew; lines descend right for > 0.

    Parameters
    ----------
    page : (H, W, 3) float32 ndarray
    degrees : float

    Returns
    -------
    rotated : (H, W, 3) float32 ndarray
    matrix : (2, 3) float64 ndarray
        Maps unrotated to rotated pixel coordinates.
    """
    h, w = page.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), -degrees, 1.0)
    rotated = cv2.warpAffine(
        page, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return rotated, matrix


def degrade_scan(
    page: np.ndarray,
    *,
    px_per_mm: float,
    rng: np.random.Generator,
    blur: float,
    noise: float,
    specks: int,
    colour: bool,
    jpeg_quality: int | None,
    bitonal: bool,
) -> np.ndarray:
    """What a scanner does to a page.

    Parameters
    ----------
    page : (H, W, 3) float32 ndarray
        RGB in [0, 1].
    px_per_mm : float
    rng : numpy.random.Generator
    blur : float
        Gaussian sigma in pixels (0 for none).
    noise : float
        Sensor noise sigma on the 0-255 scale.
    specks : int
        Number of dust specks.
    colour : bool
        Keep RGB; otherwise grey.
    jpeg_quality : int or None
        Round-trip through JPEG at this quality.
    bitonal : bool
        Threshold to pure black and white (fax, CCITT G4 TIFF).

    Returns
    -------
    scan : (H, W, 3) or (H, W) uint8 ndarray
    """
    h, w = page.shape[:2]
    out = page * 255.0
    for _ in range(specks):
        y, x = int(rng.integers(h)), int(rng.integers(w))
        r = max(1, int(rng.uniform(0.05, 0.25) * px_per_mm))
        cv2.circle(out, (x, y), r, (40.0, 40.0, 40.0), -1, cv2.LINE_AA)
    if blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    if noise > 0:
        out = out + rng.normal(0.0, noise, size=out.shape[:2]).astype(np.float32)[:, :, None]
    scan = np.clip(out, 0, 255).astype(np.uint8)
    if not colour or bitonal:
        scan = cv2.cvtColor(scan, cv2.COLOR_RGB2GRAY)
    if jpeg_quality is not None and not bitonal:
        ok, data = cv2.imencode(".jpg", scan, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        if ok:
            flag = cv2.IMREAD_COLOR if scan.ndim == 3 else cv2.IMREAD_GRAYSCALE
            scan = cv2.imdecode(data, flag)  # RGB went in as BGR and comes back so
    if bitonal:
        scan = np.where(scan < 150, 0, 255).astype(np.uint8)
    return scan
