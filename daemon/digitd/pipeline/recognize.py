"""Classify crops of single digits with the k-nearest-neighbours model.

normalize -> HOG -> PCA projection -> nearest reference samples -> votes.
The reference set holds digits and generated non-digits (letters, blots, line
pieces, scribbles); a mark whose neighbours vote for the non-digit class is
reported as rejected. The confidence of the chosen digit is a logistic
function of neighbour statistics, fitted on held-out data when the model was
trained, so that it reads as the probability that the digit is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from digitd.model.format import Model
from digitd.pipeline.features import extract_hog
from digitd.pipeline.neighbours import find_neighbours
from digitd.pipeline.normalize import normalize_digits

__all__ = [
    "CONFIDENCE_NEIGHBOURS",
    "Predictions",
    "RecognitionParams",
    "calibrate_confidence",
    "classify_digits",
    "classify_normalized",
    "confidence_features",
    "embed_digits",
    "predictions_from_scores",
    "score_vectors",
]

# Neighbours looked at for the confidence and the alternatives (k votes the label).
CONFIDENCE_NEIGHBOURS = 10
_EPS = 1e-3


@dataclass(frozen=True, slots=True)
class RecognitionParams:
    """Recognition settings (the ``recognition:`` section of the configuration).

    Attributes
    ----------
    review_threshold : float
        A field is flagged needs_review when any digit's confidence (the
        calibrated probability that it is right) is below this. 0.95 keeps
        about 2% of MNIST digits for review and 99.8% of the rest right.
    printed : {"ignore", "read"}
        Printed digits (account numbers, code lines, stamps) are left out, or
        reported as their own fields with ``printed`` true.
    print_threshold : float
        A digit is printed when its pooled print probability (its own and its
        field's) exceeds this.
    max_other_fraction : float
        A field (with its neighbours on the line) whose marks are on average
        more likely than this to be letters or scribbles is dropped whole.
    """

    review_threshold: float = 0.95
    printed: Literal["ignore", "read"] = "ignore"
    print_threshold: float = 0.5
    max_other_fraction: float = 0.5


@dataclass(frozen=True, slots=True)
class Predictions:
    """Labels of N digit candidates.

    Attributes
    ----------
    labels : (N,) <U1 ndarray
        The best digit (also for rejected marks: the digit they look most like).
    confidences : (N,) float32 ndarray
        Calibrated probability in [0, 1] that ``labels`` is right.
    top_labels : (N, 3) <U1 ndarray
        The three most likely digits, best first.
    top_probs : (N, 3) float32 ndarray
        Their probabilities; the first equals ``confidences``.
    rejected : (N,) bool ndarray
        True where the mark is not a digit (non-digit class won the vote, or
        the crop holds no ink).
    reject_scores : (N,) float32 ndarray or None
        Distance-weighted share of non-digit samples among the neighbours
        (None when whoever built the predictions did not know it).
    nearest : (N,) float64 ndarray or None
        Distance to the nearest reference sample in the model's feature
        space: how unlike every known digit a crop is (NaN without
        references; None when whoever built the predictions did not know it).
    """

    labels: np.ndarray
    confidences: np.ndarray
    top_labels: np.ndarray
    top_probs: np.ndarray
    rejected: np.ndarray
    reject_scores: np.ndarray | None = None
    nearest: np.ndarray | None = None


def embed_digits(digits: np.ndarray, model: Model) -> np.ndarray:
    """HOG vectors of normalized digits, projected as the model was trained.

    Parameters
    ----------
    digits : (N, 28, 28) float32 ndarray
        From ``normalize_digits``.
    model : Model

    Returns
    -------
    vectors : (N, D) float32 ndarray
    """
    features = extract_hog(digits, model.hog)
    if model.projection is None:
        return features
    mean = model.mean if model.mean is not None else 0.0
    return ((features - mean) @ model.projection).astype(np.float32)


def classify_digits(
    crops: Sequence[np.ndarray] | np.ndarray, model: Model, *, batch_size: int = 4096
) -> Predictions:
    """Recognize crops of single digits.

    Parameters
    ----------
    crops : sequence of (h, w) uint8 or bool ndarray, or (N, h, w) ndarray
        One mark per crop, ink dark on light (see ``normalize_digits``).
    model : Model
    batch_size : int
        Crops processed per vectorized batch (bounds memory).

    Returns
    -------
    Predictions

    Raises
    ------
    InputError
        A crop is not a 2-D uint8 or bool image.
    """
    n = len(crops)
    parts = []
    for start in range(0, max(n, 1), batch_size):
        batch = crops[start : start + batch_size]
        digits = normalize_digits(batch, deskew=model.deskew, stroke_width=model.stroke_width)
        parts.append(classify_normalized(digits, model))
    if len(parts) == 1:
        return parts[0]
    return Predictions(
        labels=np.concatenate([p.labels for p in parts]),
        confidences=np.concatenate([p.confidences for p in parts]),
        top_labels=np.concatenate([p.top_labels for p in parts]),
        top_probs=np.concatenate([p.top_probs for p in parts]),
        rejected=np.concatenate([p.rejected for p in parts]),
        reject_scores=np.concatenate([p.reject_scores for p in parts]),  # type: ignore[misc]
        nearest=np.concatenate([p.nearest for p in parts]),  # type: ignore[misc]
    )


def classify_normalized(digits: np.ndarray, model: Model) -> Predictions:
    """Recognize digits already normalized by ``normalize_digits``.

    Parameters
    ----------
    digits : (N, 28, 28) float32 ndarray
    model : Model

    Returns
    -------
    Predictions
    """
    n = len(digits)
    if n == 0 or len(model.reference) == 0:
        return _empty_predictions(n)
    best, features, shares = score_vectors(embed_digits(digits, model), model)
    empty = digits.reshape(n, -1).max(axis=1) <= 0.0
    return predictions_from_scores(best, features, shares, model, empty=empty)


def score_vectors(vectors: np.ndarray, model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Search the neighbours of embedded digits and compute their vote.

    Parameters
    ----------
    vectors : (N, D) float32 ndarray
        From ``embed_digits``.
    model : Model

    Returns
    -------
    best, features, shares
        As ``confidence_features`` returns them.
    """
    distances, indices = find_neighbours(
        vectors,
        model.reference,
        k=max(model.k, CONFIDENCE_NEIGHBOURS),
        centroids=model.centroids,
        offsets=model.offsets,
        probes=model.probes,
    )
    labels = np.asarray(model.reference_labels, dtype=np.intp)[indices]
    return confidence_features(distances, labels, k=model.k, n_classes=len(model.classes) + 1)


def calibrate_confidence(features: np.ndarray, model: Model) -> np.ndarray:
    """Probability that the best digit is right, from ``confidence_features``.

    Returns
    -------
    confidences : (N,) float32 ndarray
        The logistic calibration of the model; without one, the digit's
        share of the neighbour vote.
    """
    if model.calibration is None:
        return features[:, 1].astype(np.float32)
    w = np.asarray(model.calibration, dtype=np.float64)
    return (1.0 / (1.0 + np.exp(-(w[0] + features @ w[1:])))).astype(np.float32)


def predictions_from_scores(
    best: np.ndarray,
    features: np.ndarray,
    shares: np.ndarray,
    model: Model,
    *,
    empty: np.ndarray | None = None,
) -> Predictions:
    """Turn the neighbour vote into labels, confidences and alternatives.

    Parameters
    ----------
    best, features, shares
        From ``score_vectors``.
    model : Model
    empty : (N,) bool ndarray, optional
        Crops without ink, reported as rejected.

    Returns
    -------
    Predictions
    """
    n = len(best)
    n_digits = len(model.classes)
    confidence = calibrate_confidence(features, model)
    reject_scores = shares[:, n_digits].astype(np.float32)
    rejected = best == n_digits
    if empty is not None:
        rejected = rejected | empty
    # Alternatives: digit shares among the neighbours, the best digit first.
    digit_shares = shares[:, :n_digits].copy()
    label = np.where(best == n_digits, digit_shares.argmax(axis=1), best)
    digit_shares[np.arange(n), label] = np.inf
    order = np.argsort(-digit_shares, axis=1, kind="stable")[:, :3]
    rest = np.take_along_axis(shares[:, :n_digits], order[:, 1:], axis=1)
    rest_total = shares[:, :n_digits].sum(axis=1) - shares[np.arange(n), label]
    rest = rest / np.maximum(rest_total, 1e-12)[:, None] * (1.0 - confidence)[:, None]
    # An alternative is never reported as likelier than the chosen digit.
    rest = np.minimum(rest, confidence[:, None])
    top_probs = np.column_stack([confidence, rest]).astype(np.float32)
    classes = np.asarray(model.classes)
    top_labels = classes[order]
    return Predictions(
        labels=top_labels[:, 0],
        confidences=confidence,
        top_labels=top_labels,
        top_probs=top_probs,
        rejected=rejected,
        reject_scores=reject_scores,
        nearest=features[:, 3],
    )


def confidence_features(
    distances: np.ndarray, labels: np.ndarray, *, k: int, n_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vote and the statistics the confidence is calibrated on.

    Parameters
    ----------
    distances : (N, K) float32 ndarray
        Distances to the K nearest reference samples, ascending (K >= k).
    labels : (N, K) int ndarray
        Their classes, in 0..n_classes-1.
    k : int
        Neighbours that vote on the label, weighted by 1 / distance.
    n_classes : int
        Including the non-digit class (the last one).

    Returns
    -------
    best : (N,) intp ndarray
        The winning class of the k-vote (may be the non-digit class).
    features : (N, 5) float64 ndarray
        For the best digit: its share of the k-vote, its share of the K-vote,
        the log ratio of the nearest other-class distance to its own nearest
        distance, the nearest distance overall, and the non-digit share.
    shares : (N, n_classes) float64 ndarray
        Distance-weighted vote shares over all K neighbours.
    """
    n = len(distances)
    rows = np.arange(n)[:, None]
    weights = 1.0 / (distances.astype(np.float64) + _EPS)
    weights[~np.isfinite(distances)] = 0.0
    votes_k = np.zeros((n, n_classes))
    np.add.at(votes_k, (rows, labels[:, :k]), weights[:, :k])
    votes_all = np.zeros((n, n_classes))
    np.add.at(votes_all, (rows, labels), weights)
    # Ties in the k-vote go to the class with more support among all K.
    best = (votes_k + 1e-9 * votes_all).argmax(axis=1)
    shares = votes_all / np.maximum(votes_all.sum(axis=1, keepdims=True), 1e-12)
    share_k = votes_k / np.maximum(votes_k.sum(axis=1, keepdims=True), 1e-12)
    digit = np.where(best == n_classes - 1, shares[:, :-1].argmax(axis=1), best)
    same = labels == digit[:, None]
    far = np.where(np.isfinite(distances[:, -1]), distances[:, -1], distances[:, 0])
    own = np.where(same, distances, np.inf).min(axis=1)
    other = np.where(~same, distances, np.inf).min(axis=1)
    own = np.where(np.isfinite(own), own, far * 1.5)
    other = np.where(np.isfinite(other), other, far * 1.5)
    margin = np.log((other + _EPS) / (own + _EPS))
    features = np.column_stack(
        [
            share_k[np.arange(n), digit],
            shares[np.arange(n), digit],
            margin,
            distances[:, 0],
            shares[:, -1],
        ]
    )
    return best, features, shares


def _empty_predictions(n: int) -> Predictions:
    return Predictions(
        labels=np.full(n, "0", "<U1"),
        confidences=np.zeros(n, np.float32),
        top_labels=np.full((n, 3), "0", "<U1"),
        top_probs=np.zeros((n, 3), np.float32),
        rejected=np.ones(n, bool),
        reject_scores=np.ones(n, np.float32),
        nearest=np.full(n, np.nan),
    )
