"""Accuracy figures of predictions against true labels: pure functions.

A digit the model rejects as a non-digit counts as wrong in ``accuracy`` and
as flagged in ``review_rate``; ``accepted_accuracy`` is the accuracy on the
digits neither rejected nor below the review threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitd.pipeline.recognize import Predictions

__all__ = [
    "Evaluation",
    "confusion_matrix",
    "evaluate_predictions",
    "format_confusion",
    "format_reliability",
    "reliability_table",
]

RELIABILITY_EDGES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Accuracy of a model on labelled digits.

    Attributes
    ----------
    count : int
    accuracy : float
        Right and not rejected, over all.
    accepted_accuracy : float
        Right, over those neither rejected nor below the review threshold
        (1.0 when none is accepted).
    review_rate : float
        Rejected or below the threshold, over all.
    reject_rate : float
        Rejected as non-digits, over all.
    precision, recall : (10,) float64 ndarray
        Per digit class (NaN where undefined).
    confusion : (10, 11) int64 ndarray
        Rows: true digit; columns: predicted digit, then 'rejected'.
    reliability : list of dict
        One row per confidence bin: low, high, count, mean confidence, accuracy.
    """

    count: int
    accuracy: float
    accepted_accuracy: float
    review_rate: float
    reject_rate: float
    precision: np.ndarray
    recall: np.ndarray
    confusion: np.ndarray
    reliability: list[dict[str, float]]


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, rejected: np.ndarray) -> np.ndarray:
    """(10, 11) counts: true digit by predicted digit, last column rejected."""
    col = np.where(rejected, 10, predicted)
    out = np.zeros((10, 11), np.int64)
    np.add.at(out, (true, col), 1)
    return out


def reliability_table(
    confidences: np.ndarray, correct: np.ndarray, *, edges: tuple[float, ...] = RELIABILITY_EDGES
) -> list[dict[str, float]]:
    """Observed accuracy per confidence bin (bins closed on the right at 1.0).

    Parameters
    ----------
    confidences : (N,) float ndarray
    correct : (N,) bool ndarray

    Returns
    -------
    rows : list of dict
        ``low``, ``high``, ``count``, ``mean_confidence``, ``accuracy``
        (NaN for an empty bin).
    """
    confidences = np.asarray(confidences, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    bins = np.clip(np.searchsorted(edges, confidences, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        sel = bins == b
        n = int(sel.sum())
        rows.append(
            {
                "low": edges[b],
                "high": edges[b + 1],
                "count": n,
                "mean_confidence": float(confidences[sel].mean()) if n else float("nan"),
                "accuracy": float(correct[sel].mean()) if n else float("nan"),
            }
        )
    return rows


def evaluate_predictions(
    true: np.ndarray, predictions: Predictions, *, review_threshold: float
) -> Evaluation:
    """Compare predictions with true digit labels.

    Parameters
    ----------
    true : (N,) int ndarray
        Digits 0-9.
    predictions : Predictions
        Of the same N crops.
    review_threshold : float
        Confidences below it are flagged for review.

    Returns
    -------
    Evaluation
    """
    true = np.asarray(true, dtype=np.int64)
    predicted = predictions.labels.astype(np.int64)
    rejected = np.asarray(predictions.rejected, dtype=bool)
    right = (predicted == true) & ~rejected
    flagged = rejected | (predictions.confidences < review_threshold)
    n = len(true)
    accepted = ~flagged
    confusion = confusion_matrix(true, predicted, rejected)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.diag(confusion[:, :10]) / confusion[:, :10].sum(axis=0)
        recall = np.diag(confusion[:, :10]) / confusion.sum(axis=1)
    return Evaluation(
        count=n,
        accuracy=float(right.mean()) if n else float("nan"),
        accepted_accuracy=float(right[accepted].mean()) if accepted.any() else 1.0,
        review_rate=float(flagged.mean()) if n else float("nan"),
        reject_rate=float(rejected.mean()) if n else float("nan"),
        precision=precision,
        recall=recall,
        confusion=confusion,
        reliability=reliability_table(predictions.confidences[~rejected], right[~rejected]),
    )


def format_confusion(confusion: np.ndarray) -> str:
    """The confusion matrix as a text table (rows true, columns predicted)."""
    head = "true\\pred" + "".join(f"{d:>7}" for d in range(10)) + "    rej"
    lines = [head]
    for d in range(10):
        lines.append(f"{d:>9}" + "".join(f"{v:>7}" for v in confusion[d]))
    return "\n".join(lines)


def format_reliability(rows: list[dict[str, float]]) -> str:
    """The reliability table as text: confidence bin, count, mean confidence, accuracy."""
    lines = ["confidence        count  mean conf  accuracy"]
    for r in rows:
        acc = "     -" if r["count"] == 0 else f"{r['accuracy']:9.4f}"
        conf = "     -" if r["count"] == 0 else f"{r['mean_confidence']:9.4f}"
        lines.append(f"[{r['low']:.3f}, {r['high']:.3f})  {r['count']:>6}  {conf}  {acc}")
    return "\n".join(lines)
