"""Classify normalized digits with the k-nearest-neighbours model.

FIRST CUT, to be replaced by the recognition work (issue 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from digitd.model.format import Model
from digitd.pipeline.features import extract_hog
from digitd.pipeline.normalize import normalize_digits

__all__ = ["Predictions", "RecognitionParams", "classify_digits"]


@dataclass(frozen=True, slots=True)
class RecognitionParams:
    review_threshold: float = 0.9
    printed: Literal["ignore", "read"] = "ignore"
    print_threshold: float = 0.5
    max_other_fraction: float = 0.5


@dataclass(frozen=True, slots=True)
class Predictions:
    """Labels of N digit candidates.

    Attributes
    ----------
    labels : (N,) <U1 ndarray
        The best digit.
    confidences : (N,) float32 ndarray
        In [0, 1].
    top_labels : (N, 3) <U1 ndarray
    top_probs : (N, 3) float32 ndarray
    rejected : (N,) bool ndarray
        True where the mark is not a digit.
    """

    labels: np.ndarray
    confidences: np.ndarray
    top_labels: np.ndarray
    top_probs: np.ndarray
    rejected: np.ndarray


def classify_digits(crops: Sequence[np.ndarray], model: Model) -> Predictions:
    """Recognize crops of single digits (ink dark on light)."""
    n = len(crops)
    if n == 0:
        empty = np.zeros((0,), dtype=np.float32)
        return Predictions(
            np.zeros((0,), "<U1"),
            empty,
            np.zeros((0, 3), "<U1"),
            np.zeros((0, 3), np.float32),
            np.zeros((0,), bool),
        )
    feats = extract_hog(normalize_digits(crops))
    ref = model.reference.astype(np.float32)
    d2 = (feats**2).sum(1)[:, None] - 2 * feats @ ref.T + (ref**2).sum(1)[None, :]
    idx = np.argpartition(d2, model.k - 1, axis=1)[:, : model.k]
    w = 1.0 / (np.sqrt(np.maximum(np.take_along_axis(d2, idx, 1), 0)) + 1e-6)
    votes = np.zeros((n, len(model.classes)), np.float32)
    np.add.at(votes, (np.arange(n)[:, None], model.reference_labels[idx]), w)
    probs = votes / votes.sum(1, keepdims=True)
    order = np.argsort(-probs, axis=1)[:, :3]
    classes = np.asarray(model.classes)
    top_labels = classes[order]
    top_probs = np.take_along_axis(probs, order, 1).astype(np.float32)
    return Predictions(
        labels=top_labels[:, 0],
        confidences=top_probs[:, 0],
        top_labels=top_labels,
        top_probs=top_probs,
        rejected=np.zeros(n, bool),
    )
