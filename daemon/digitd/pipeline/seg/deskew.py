"""Estimate and undo the page's skew, keeping the map back to the original."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitd.results import Box

__all__ = ["Rotation", "estimate_skew", "map_box_back", "map_boxes_back", "rotate_ink"]

_MAX_POINTS = 25_000
# Rules and rows of print turned with the paper make the sharpest angle's
# projection energy 1.4-2.7 times that of level. Writing rising on its own
# on a straight sheet (a payee, the amount in words, a signature, a lone
# amount) gives 1.0-1.25, at any angle up to the limit: such an angle is the
# writing's, not the paper's.
_MIN_ANCHORED_GAIN = 1.25
# The most a page is turned on the writing's word alone: scanners feed most
# sheets within 2 degrees, and a row of writing rising further must not tilt
# the page's level rows (a boxed date) apart.
_MAX_UNANCHORED_DEGREES = 2.0


@dataclass(frozen=True, slots=True)
class Rotation:
    """How the deskewed image relates to the original.

    Attributes
    ----------
    forward : (2, 3) float64 ndarray
        Affine map from original to deskewed pixel coordinates.
    inverse : (2, 3) float64 ndarray
        Affine map from deskewed back to original coordinates.
    identity : bool
        Both maps are the identity (the page was not rotated).
    """

    forward: np.ndarray
    inverse: np.ndarray
    identity: bool = False


def _projection_energy(ys: np.ndarray, xs: np.ndarray, angles_deg: np.ndarray) -> np.ndarray:
    """Sum of squared row counts of the points projected along each angle.

    One angle at a time: a point's row and the histogram of one angle stay in
    the processor's cache, where all angles at once would stream several
    megabytes of temporaries (about four times slower, same numbers).
    """
    slopes = np.tan(np.deg2rad(angles_deg))
    offset = np.abs(xs).max() * np.abs(slopes).max() + 1.0
    energy = np.empty(len(slopes), np.float64)
    rows = np.empty_like(xs)
    for i, slope in enumerate(slopes.tolist()):
        np.multiply(xs, slope, out=rows)
        np.subtract(ys, rows, out=rows)
        rows += offset
        np.rint(rows, out=rows)
        hist = np.bincount(rows.astype(np.intp))
        energy[i] = float(np.dot(hist, hist))  # integer sum: exact
    return energy


def estimate_skew(ink: np.ndarray, *, px_per_mm: float, max_degrees: float = 5.0) -> float:
    """Angle of the page's lines of writing, print and rules.

    Searches the angle whose row projection of the ink is sharpest (highest
    energy), in half degrees then in tenths, on at most 25,000 ink pixels
    taken evenly from the mask at 4 to 8 px per mm. An angle beyond 2
    degrees that beats level by little (nothing ruled or printed turned
    with it) is the writing's own rise: the page is turned at most 2
    degrees for it.

    Parameters
    ----------
    ink : (H, W) uint8 ndarray
        1 for ink.
    px_per_mm : float
    max_degrees : float
        Largest skew searched, either way.

    Returns
    -------
    degrees : float
        Positive when lines descend to the right (clockwise on screen); 0.0
        when the page has too little ink to tell.
    """
    if max_degrees <= 0:
        return 0.0
    # Every factor-th pixel either way, which keeps 4 to 8 px per mm (a mask
    # coarser than 4 is taken whole): the 200-dpi work image (7.9 px per mm)
    # is searched whole, a 300-dpi one (11.8) at every second pixel.
    factor = max(1, int(px_per_mm / 4.0))
    small = ink[::factor, ::factor] if factor > 1 else ink
    # The ink as flat indices in row-major order: numpy finds the true values
    # of a boolean mask about three times faster than cv2.findNonZero finds
    # the points, and only the points kept are turned into rows and columns.
    flat = np.flatnonzero(small != 0)
    if len(flat) < 50:
        return 0.0
    if len(flat) > _MAX_POINTS:
        flat = flat[:: len(flat) // _MAX_POINTS + 1]
    rows, cols = np.divmod(flat, small.shape[1])
    ys = rows.astype(np.float64)
    xs = cols.astype(np.float64) - cols.mean()
    coarse = np.arange(-max_degrees, max_degrees + 1e-9, 0.5)
    best = coarse[int(np.argmax(_projection_energy(ys, xs, coarse)))]
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1)
    energy = _projection_energy(ys, xs, fine)
    best = float(fine[int(np.argmax(energy))])
    if energy.max() <= energy.min() * 1.0001:
        return 0.0
    limit = max_degrees
    if abs(best) > _MAX_UNANCHORED_DEGREES:
        level = _projection_energy(ys, xs, np.zeros(1))[0]
        if energy.max() < _MIN_ANCHORED_GAIN * level:
            limit = min(limit, _MAX_UNANCHORED_DEGREES)
    return float(np.clip(best, -limit, limit))


def rotate_ink(ink: np.ndarray, degrees: float) -> tuple[np.ndarray, Rotation]:
    """Rotate an ink mask so that lines at ``degrees`` become horizontal.

    The canvas grows so that no corner is cut off.

    Parameters
    ----------
    ink : (H, W) uint8 ndarray
        1 for ink.
    degrees : float
        As returned by `estimate_skew`.

    Returns
    -------
    rotated : (H2, W2) uint8 ndarray
        1 for ink.
    rotation : Rotation
    """
    h, w = ink.shape
    theta = np.deg2rad(degrees)
    cos, sin = abs(np.cos(theta)), abs(np.sin(theta))
    new_w = int(np.ceil(w * cos + h * sin))
    new_h = int(np.ceil(h * cos + w * sin))
    forward = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
    forward[0, 2] += (new_w - w) / 2.0
    forward[1, 2] += (new_h - h) / 2.0
    inverse = cv2.invertAffineTransform(forward)
    rotated = cv2.warpAffine(
        ink * np.uint8(255), forward, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=0
    )
    rotated = (rotated >= 128).astype(np.uint8)
    return rotated, Rotation(forward=forward, inverse=inverse)


def identity_rotation() -> Rotation:
    """The rotation of a page that needs none."""
    eye = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return Rotation(forward=eye, inverse=eye.copy(), identity=True)


def map_box_back(box: Box, rotation: Rotation, *, scale: float, shape: tuple[int, int]) -> Box:
    """Bounding box in the original page of a box in the deskewed work image.

    Parameters
    ----------
    box : (x, y, w, h) tuple of int
        In the deskewed work image.
    rotation : Rotation
    scale : float
        Work-image pixels per original pixel (1.0 when not resampled).
    shape : (H, W) tuple of int
        Size of the original page; the box is clipped to it.

    Returns
    -------
    box : (x, y, w, h) tuple of int
    """
    x0, y0, w, h = map_boxes_back(np.asarray([box]), rotation, scale=scale, shape=shape)[0]
    return (int(x0), int(y0), int(w), int(h))


def map_boxes_back(
    boxes: np.ndarray, rotation: Rotation, *, scale: float, shape: tuple[int, int]
) -> np.ndarray:
    """Bounding boxes in the original page of boxes in the deskewed work image.

    Parameters
    ----------
    boxes : (K, 4) int or float ndarray
        x, y, w, h in the deskewed work image.
    rotation : Rotation
    scale : float
        Work-image pixels per original pixel.
    shape : (H, W) tuple of int
        Size of the original page; the boxes are clipped to it.

    Returns
    -------
    (K, 4) int64 ndarray
        x, y, w, h in the original page.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    x, y, w, h = boxes.T
    xs = np.stack([x, x + w, x, x + w], axis=1)
    ys = np.stack([y, y, y + h, y + h], axis=1)
    if not rotation.identity:
        inv = rotation.inverse
        xs, ys = (
            inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2],
            inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2],
        )
    x0 = np.floor(np.maximum(0.0, xs.min(axis=1) / scale))
    y0 = np.floor(np.maximum(0.0, ys.min(axis=1) / scale))
    x1 = np.ceil(np.minimum(float(shape[1]), xs.max(axis=1) / scale))
    y1 = np.ceil(np.minimum(float(shape[0]), ys.max(axis=1) / scale))
    out = np.stack([x0, y0, np.maximum(1.0, x1 - x0), np.maximum(1.0, y1 - y0)], axis=1)
    return out.astype(np.int64).reshape(-1, 4)
