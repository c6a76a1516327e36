"""Random distortions of digit crops, to widen the training set.

Training-time only. Each crop (ink dark on light, uint8) gets its own random
rotation, scale, shear, stroke thickness change and elastic distortion; the
crop is padded first so that nothing is cut off. Shifts are not offered:
``normalize_digits`` recentres every crop anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["AugmentParams", "augment_crops"]


@dataclass(frozen=True, slots=True)
class AugmentParams:
    """How strongly to distort; zeros switch a distortion off.

    Attributes
    ----------
    copies : int
        Distorted copies made of every crop.
    rotation_degrees : float
        Largest rotation either way.
    scale : float
        Largest relative change of width against height (0.15: 0.85-1.15).
    shear : float
        Largest horizontal shear (dx/dy).
    thickness : float
        Probability of thinning or thickening strokes by one pixel (at 28 px).
    elastic : float
        Largest displacement of the smooth random field, in pixels per 28.
    """

    copies: int = 1
    rotation_degrees: float = 10.0
    scale: float = 0.15
    shear: float = 0.15
    thickness: float = 0.3
    elastic: float = 1.5


def augment_crops(
    crops: Sequence[np.ndarray],
    labels: np.ndarray,
    *,
    params: AugmentParams,
    seed: int = 0,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Distorted copies of labelled crops (the originals are not included).

    Parameters
    ----------
    crops : sequence of (h, w) uint8 ndarray
        Ink dark on light.
    labels : (N,) int ndarray
    params : AugmentParams
    seed : int
        Seed of the random distortions (reproducible training).

    Returns
    -------
    images : list of (h', w') uint8 ndarray
        ``params.copies`` per input crop, ink dark on light.
    labels : (N * copies,) int64 ndarray
    """
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    for _ in range(params.copies):
        for crop in crops:
            out.append(_distort(np.asarray(crop, dtype=np.uint8), params, rng))
    return out, np.tile(np.asarray(labels, dtype=np.int64), params.copies)


def _distort(crop: np.ndarray, params: AugmentParams, rng: np.random.Generator) -> np.ndarray:
    h, w = crop.shape
    unit = max(h, w) / 28.0  # pixels per MNIST pixel
    pad = int(np.ceil(max(h, w) * 0.3)) + 2
    ink = 255.0 - np.pad(crop, pad, constant_values=255).astype(np.float32)
    ph, pw = ink.shape
    angle = rng.uniform(-1, 1) * params.rotation_degrees
    sx = 1.0 + rng.uniform(-1, 1) * params.scale
    shear = rng.uniform(-1, 1) * params.shear
    rot = cv2.getRotationMatrix2D((pw / 2.0, ph / 2.0), angle, 1.0)
    extra = np.array([[sx, shear, 0.0], [0.0, 1.0, 0.0]], dtype=np.float64)
    extra[0, 2] = pw / 2.0 - sx * pw / 2.0 - shear * ph / 2.0
    matrix = (np.vstack([rot, [0, 0, 1]]) @ np.vstack([extra, [0, 0, 1]]))[:2]
    ink = cv2.warpAffine(ink, matrix, (pw, ph), flags=cv2.INTER_LINEAR, borderValue=0.0)
    if params.elastic > 0:
        ink = _elastic(ink, params.elastic * unit, 4.0 * unit, rng)
    if params.thickness > 0 and rng.random() < params.thickness:
        radius = max(1, round(unit))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        op = cv2.dilate if rng.random() < 0.5 else cv2.erode
        thinner = op(ink, kernel)
        if op is cv2.dilate or thinner.max() > 0.5 * ink.max():
            ink = thinner
    return (255.0 - np.clip(ink, 0, 255)).astype(np.uint8)


def _elastic(
    ink: np.ndarray, amplitude: float, smooth: float, rng: np.random.Generator
) -> np.ndarray:
    h, w = ink.shape
    fields = []
    for _ in range(2):
        noise = rng.uniform(-1, 1, size=(h, w)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), smooth)
        peak = float(np.abs(noise).max()) or 1.0
        fields.append(noise / peak * amplitude)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(ink, xs + fields[0], ys + fields[1], cv2.INTER_LINEAR, borderValue=0.0)
