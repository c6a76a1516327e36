"""Turn crops of single digits into 28x28 images in the MNIST convention.

One function, ``normalize_digits``, serves training and recognition alike, so
the model always sees digits prepared the same way. Crops of any size (a digit
is 20-250 pixels tall on 150-600 dpi scans), grey or binary, are processed as
whole stacks: crops of similar size are padded into one array and resampled
with per-crop weight matrices, never one Python call per digit.

The steps:

1. contrast: each crop is stretched so that its paper is 0 and its ink 1;
2. fit: the ink's bounding box is scaled, aspect kept, into the 20x20 box of
   the 28x28 field, with the ink's centre of mass at the field's centre
   (MNIST's convention), by area averaging (anti-aliased) when shrinking and
   linear interpolation when enlarging;
3. deskew (optional): the slant measured by the image moments is sheared away;
4. stroke width (optional): strokes are thinned or thickened towards a target
   width, so the thick ink of a felt pen at 300 dpi looks like MNIST's pencil.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from digitd.errors import InputError

__all__ = ["BOX", "SIZE", "estimate_stroke_width", "normalize_digits"]

SIZE = 28  # side of the output field, pixels
BOX = 20  # side of the box the ink is fitted into
_CENTRE = 14.5  # centre of mass target in edge coordinates (MNIST: pixel index 14)
_MAX_SKEW = 1.0  # largest shear applied by deskew (|dx/dy|)
_CHUNK_PIXELS = 1 << 22  # padded pixels per resampling batch
_MAX_FLOOR = 0.4  # largest ink level taken for paper noise
_DETAIL = 64  # crops at least twice this on their short side are averaged down first


def normalize_digits(
    crops: Sequence[np.ndarray] | np.ndarray,
    *,
    deskew: bool = True,
    stroke_width: float | None = None,
) -> np.ndarray:
    """Normalize crops of single digits into the MNIST convention.

    Parameters
    ----------
    crops : sequence of (h, w) uint8 or bool ndarray, or (N, h, w) ndarray
        One digit per crop, any size. uint8: ink dark on light paper, grey or
        binary (0/255). bool: True where there is ink.
    deskew : bool
        Shear each digit upright by its second-order moments.
    stroke_width : float, optional
        Thin or thicken strokes towards this width, in output pixels
        (MNIST's median is about 2.6). None leaves strokes as they are.

    Returns
    -------
    digits : (N, 28, 28) float32 ndarray
        Ink bright (1.0) on black (0.0), fitted in the central 20x20 box,
        centred by centre of mass. A crop without ink gives all zeros.

    Raises
    ------
    InputError
        A crop is not a non-empty 2-D uint8 or bool array.
    """
    items = _check_crops(crops)
    out = np.zeros((len(items), SIZE, SIZE), dtype=np.float32)
    for index, ink in _ink_batches(items):
        field = _fit_box(ink)
        if deskew:
            field = _deskew(field)
        if stroke_width is not None:
            field = _adjust_stroke(field, target=stroke_width)
        out[index] = field
    np.clip(out, 0.0, 1.0, out=out)
    return out


def estimate_stroke_width(digits: np.ndarray) -> np.ndarray:
    """Mean stroke width of each image, as twice its ink area over its perimeter.

    Parameters
    ----------
    digits : (N, h, w) float ndarray
        Ink bright on black, in [0, 1].

    Returns
    -------
    widths : (N,) float32 ndarray
        In pixels; 0 for an image without ink.
    """
    digits = np.asarray(digits, dtype=np.float32)
    area = digits.sum(axis=(1, 2))
    gy, gx = np.gradient(digits, axis=(1, 2))
    perimeter = np.hypot(gy, gx).sum(axis=(1, 2))
    return np.where(perimeter > 0, 2.0 * area / np.maximum(perimeter, 1e-6), 0.0).astype(np.float32)


def _check_crops(crops: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    items = list(crops)
    for i, crop in enumerate(items):
        crop = np.asarray(crop)
        if crop.ndim != 2 or crop.size == 0:
            raise InputError(
                f"digit crop {i} has shape {crop.shape}; expected a non-empty 2-D image"
            )
        if crop.dtype not in (np.uint8, np.bool_):
            raise InputError(
                f"digit crop {i} has dtype {crop.dtype}; expected uint8 (ink dark on light) "
                "or bool (True = ink)"
            )
        items[i] = crop
    return items


def _ink_batches(items: list[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (indices, ink) with ink an (n, H, W) float32 stack in [0, 1], padded with 0.

    Crops are grouped by size so that padding stays small; contrast is
    stretched per crop over its own pixels only.
    """
    if not items:
        return
    shapes = np.array([c.shape for c in items])
    order = np.lexsort((shapes[:, 1], shapes[:, 0]))
    start = 0
    while start < len(order):
        stop = start + 1
        h, w = shapes[order[start]]
        while stop < len(order):
            nh, nw = np.maximum((h, w), shapes[order[stop]])
            if (stop - start + 1) * nh * nw > _CHUNK_PIXELS or nh > 2 * h + 8 or nw > 2 * w + 8:
                break
            h, w = nh, nw
            stop += 1
        index = order[start:stop]
        yield index, _stack_ink([items[i] for i in index], int(h), int(w))
        start = stop


def _stack_ink(crops: list[np.ndarray], h: int, w: int) -> np.ndarray:
    n = len(crops)
    ink = np.zeros((n, h, w), dtype=np.float32)
    valid = np.zeros((n, h, w), dtype=bool)
    same = all(c.shape == (h, w) for c in crops)
    if same and crops[0].dtype == np.uint8 and all(c.dtype == np.uint8 for c in crops):
        ink[:] = np.stack(crops)
        ink *= -1.0 / 255.0
        ink += 1.0
        valid[:] = True
    else:
        for i, crop in enumerate(crops):  # copying into the padded stack only
            ch, cw = crop.shape
            if crop.dtype == np.bool_:
                ink[i, :ch, :cw] = crop
            else:
                ink[i, :ch, :cw] = 1.0 - crop.astype(np.float32) / 255.0
            valid[i, :ch, :cw] = True
    ink, valid = _reduce_detail(ink, valid)
    paper = np.where(valid, ink, np.inf).min(axis=(1, 2))
    darkest = ink.max(axis=(1, 2))
    span = darkest - paper
    scale = np.where(span >= 0.1, 1.0 / np.maximum(span, 1e-6), 0.0).astype(np.float32)
    ink -= paper[:, None, None]
    ink *= scale[:, None, None]
    np.clip(ink, 0.0, 1.0, out=ink)
    ink *= valid
    # Paper texture and scanner noise: whatever is lighter than the typical
    # light pixel plus two deviations is paper, not ink.
    light = valid & (ink < 0.5)
    count = np.maximum(light.sum(axis=(1, 2)), 1)
    mean = np.where(light, ink, 0.0).sum(axis=(1, 2)) / count
    spread = np.sqrt(
        np.where(light, (ink - mean[:, None, None]) ** 2, 0.0).sum(axis=(1, 2)) / count
    )
    floor = np.minimum(mean + 2.0 * spread, _MAX_FLOOR).astype(np.float32)[:, None, None]
    ink -= floor
    ink /= 1.0 - floor
    np.clip(ink, 0.0, 1.0, out=ink)
    return ink


def _reduce_detail(ink: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average big crops down by a whole factor: a 20x20 box needs no 250-pixel detail."""
    n, h, w = ink.shape
    factor = min(h, w) // _DETAIL
    if factor < 2:
        return ink, valid
    ph, pw = -h % factor, -w % factor
    if ph or pw:
        ink = np.pad(ink, ((0, 0), (0, ph), (0, pw)), mode="edge")
        valid = np.pad(valid, ((0, 0), (0, ph), (0, pw)))
    hh, ww = (h + ph) // factor, (w + pw) // factor
    ink = ink.reshape(n, hh, factor, ww, factor).mean(axis=(2, 4), dtype=np.float32)
    valid = valid.reshape(n, hh, factor, ww, factor).any(axis=(2, 4))
    return ink, valid


def _fit_box(ink: np.ndarray) -> np.ndarray:
    """Resample each ink image into the 20x20 box of the 28x28 field."""
    _, h, w = ink.shape
    solid = ink > 0.5
    rows, cols = solid.any(axis=2), solid.any(axis=1)
    has_ink = rows.any(axis=1)
    top, bottom = rows.argmax(axis=1), h - rows[:, ::-1].argmax(axis=1)
    left, right = cols.argmax(axis=1), w - cols[:, ::-1].argmax(axis=1)
    extent = np.maximum(bottom - top, right - left).astype(np.float64)
    mass = ink.sum(axis=(1, 2), dtype=np.float64)
    safe_mass = np.where(mass > 0, mass, 1.0)
    cy = (ink.sum(axis=2) @ (np.arange(h) + 0.5)) / safe_mass
    cx = (ink.sum(axis=1) @ (np.arange(w) + 0.5)) / safe_mass
    step = np.where(has_ink, extent / BOX, 1.0)  # source pixels per output pixel
    ry = _resample_weights(cy, step, h)
    rx = _resample_weights(cx, step, w)
    field = np.matmul(np.matmul(ry, ink), rx.transpose(0, 2, 1))
    field[~has_ink] = 0.0
    return field


def _resample_weights(centre: np.ndarray, step: np.ndarray, length: int) -> np.ndarray:
    """(n, 28, length) weights mapping source pixels to output pixels along one axis."""
    m = np.arange(SIZE, dtype=np.float32)
    sub = step.astype(np.float32)[:, None, None]  # source length of one output pixel
    lo = (
        centre.astype(np.float32)[:, None, None]
        + (m[None, :, None] - _CENTRE) * (step.astype(np.float32)[:, None, None])
    )
    p = np.arange(length, dtype=np.float32)[None, None, :]
    shrink = sub[:, 0, 0] >= 1.0
    if shrink.all():
        return _overlap_weights(lo, sub, p)
    if not shrink.any():
        return _tent_weights(lo, sub, p)
    return np.where(sub >= 1.0, _overlap_weights(lo, sub, p), _tent_weights(lo, sub, p))


def _overlap_weights(lo: np.ndarray, sub: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Shrinking: the average over the output pixel's footprint (area weights)."""
    overlap = np.minimum(lo + sub, p + 1.0)
    overlap -= np.maximum(lo, p)
    np.maximum(overlap, 0.0, out=overlap)
    overlap /= sub
    return overlap


def _tent_weights(lo: np.ndarray, sub: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Enlarging: linear interpolation at the output pixel's centre."""
    tent = np.abs(lo + 0.5 * sub - (p + 0.5))
    np.subtract(1.0, tent, out=tent)
    np.maximum(tent, 0.0, out=tent)
    return tent


def _moments(images: np.ndarray) -> tuple[np.ndarray, ...]:
    _, h, w = images.shape
    y = np.arange(h, dtype=np.float64) + 0.5
    x = np.arange(w, dtype=np.float64) + 0.5
    mass = images.sum(axis=(1, 2), dtype=np.float64)
    safe = np.where(mass > 0, mass, 1.0)
    py, px = images.sum(axis=2), images.sum(axis=1)
    cy, cx = py @ y / safe, px @ x / safe
    dy = y[None, :] - cy[:, None]
    dx = x[None, :] - cx[:, None]
    mu02 = (py * dy**2).sum(axis=1) / safe
    mu11 = np.einsum("nyx,ny,nx->n", images, dy, dx) / safe
    return mass, cy, cx, mu02, mu11


def _deskew(images: np.ndarray) -> np.ndarray:
    """Shear each image horizontally so that its principal slant is vertical."""
    n, h, w = images.shape
    _, cy, _, mu02, mu11 = _moments(images)
    skew = np.where(mu02 > 1e-3, mu11 / np.maximum(mu02, 1e-3), 0.0)
    skew = np.clip(skew, -_MAX_SKEW, _MAX_SKEW)
    # Row y takes its pixels from x + skew * (y - cy): one fractional shift per
    # row, done by picking a shifted window of the zero-padded row.
    shift = (skew[:, None] * ((np.arange(h) + 0.5)[None, :] - cy[:, None])).ravel()
    pad = int(np.ceil(np.abs(shift).max(initial=0.0))) + 1
    whole = np.floor(shift)
    frac = (shift - whole).astype(np.float32)[:, None]
    start = (whole + pad).astype(np.intp)
    rows = np.pad(images.reshape(n * h, w), ((0, 0), (pad, pad + 1)))
    windows = sliding_window_view(rows, w + 1, axis=1)  # (n*h, 2*pad+1, w+1)
    picked = windows[np.arange(n * h), start]  # (n*h, w+1)
    out = picked[:, :-1] * (1.0 - frac) + picked[:, 1:] * frac
    return out.reshape(n, h, w)


def _cross_filter(images: np.ndarray, op: np.ufunc) -> np.ndarray:
    """Apply ``op`` (np.minimum: erode, np.maximum: dilate) over each pixel's 4-neighbour cross."""
    out = images.copy()
    op(out[:, 1:, :], images[:, :-1, :], out=out[:, 1:, :])
    op(out[:, :-1, :], images[:, 1:, :], out=out[:, :-1, :])
    op(out[:, :, 1:], images[:, :, :-1], out=out[:, :, 1:])
    op(out[:, :, :-1], images[:, :, 1:], out=out[:, :, :-1])
    if op is np.minimum:  # beyond the border there is no ink
        out[:, 0, :] = 0.0
        out[:, -1, :] = 0.0
        out[:, :, 0] = 0.0
        out[:, :, -1] = 0.0
    return out


def _adjust_stroke(images: np.ndarray, *, target: float) -> np.ndarray:
    """Erode or dilate (fractionally, up to 3 pixels a side) towards ``target`` width."""
    width = estimate_stroke_width(images)
    has_ink = width > 0
    # One erosion or dilation with a cross changes the width by 2 pixels.
    steps = np.where(has_ink, np.clip((width - target) / 2.0, -3.0, 3.0), 0.0)
    out = images.astype(np.float32, copy=True)
    for k in range(3):
        amount = np.clip(np.abs(steps) - k, 0.0, 1.0).astype(np.float32)
        for sign, op in ((1.0, np.minimum), (-1.0, np.maximum)):
            chosen = np.flatnonzero((np.sign(steps) == sign) & (amount > 0))
            if len(chosen) == 0:
                continue
            part = out[chosen]
            share = amount[chosen][:, None, None]
            out[chosen] = part + share * (_cross_filter(part, op) - part)
    return out.astype(np.float32)
