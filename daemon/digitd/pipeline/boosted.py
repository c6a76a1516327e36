"""Predictions of a fitted gradient-boosted tree classifier, all trees at once.

scikit-learn's ``HistGradientBoostingClassifier`` walks its trees one call
per tree (600 calls for 150 rounds of 4 classes), and limiting its OpenMP
threads costs more again; for the few dozen marks of a page that overhead is
most of the time. Here the trees are flattened once per estimator into node
arrays, and every (tree, sample) pair descends one level per numpy step. The
arithmetic is scikit-learn's own (float64 thresholds, NaN sent the learned
way, leaf values added round by round from the baseline), so the
probabilities are the same to the last bit. Any other estimator, or one with
categorical splits, is passed to its own ``predict_proba`` / ``predict``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["predict_classes", "predict_probabilities", "prepare_estimator"]


@dataclass(frozen=True, slots=True)
class _Forest:
    """All trees of one estimator as flat node arrays (M nodes in total).

    Leaves point to themselves both ways and compare against +inf, so a
    finished descent stays put.
    """

    feature: np.ndarray  # (M,) intp
    threshold: np.ndarray  # (M,) float64; +inf at leaves
    missing_left: np.ndarray  # (M,) bool
    children: np.ndarray  # (2 M,) intp: left then right child (global index) of each node
    is_leaf: np.ndarray  # (M,) bool
    value: np.ndarray  # (M,) float64
    roots: np.ndarray  # (rounds, K) intp
    baseline: np.ndarray  # (1, K) float64


_FORESTS: weakref.WeakKeyDictionary[Any, _Forest | None] = weakref.WeakKeyDictionary()


def _flatten(estimator: Any) -> _Forest | None:
    """The estimator's trees as a `_Forest`, or None when it is not a plain HGB classifier."""
    predictors = getattr(estimator, "_predictors", None)
    baseline = getattr(estimator, "_baseline_prediction", None)
    if (
        type(estimator).__name__ != "HistGradientBoostingClassifier"
        or not predictors
        or baseline is None
        or getattr(estimator, "_preprocessor", None) is not None
        or getattr(estimator, "_loss", None) is None
    ):
        return None
    nodes = [tree.nodes for round_ in predictors for tree in round_]
    if any(n["is_categorical"].any() for n in nodes):
        return None
    sizes = np.array([len(n) for n in nodes])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = np.concatenate(nodes)
    shift = np.repeat(offsets, sizes)
    own = np.arange(len(flat))
    is_leaf = flat["is_leaf"].astype(bool)
    left = np.where(is_leaf, own, flat["left"].astype(np.intp) + shift)
    right = np.where(is_leaf, own, flat["right"].astype(np.intp) + shift)
    return _Forest(
        feature=np.where(is_leaf, 0, flat["feature_idx"]).astype(np.intp),
        threshold=np.where(is_leaf, np.inf, flat["num_threshold"]).astype(np.float64),
        missing_left=flat["missing_go_to_left"].astype(bool) & ~is_leaf,
        children=np.column_stack([left, right]).astype(np.intp).ravel(),
        is_leaf=is_leaf,
        value=flat["value"].astype(np.float64),
        roots=offsets.reshape(len(predictors), -1).astype(np.intp),
        baseline=np.asarray(baseline, dtype=np.float64).reshape(1, -1),
    )


def _forest_of(estimator: Any) -> _Forest | None:
    try:
        return _FORESTS[estimator]
    except KeyError:
        forest = _flatten(estimator)
        _FORESTS[estimator] = forest
        return forest
    except TypeError:  # not weakly referenceable
        return _flatten(estimator)


def prepare_estimator(estimator: Any) -> bool:
    """Flatten the estimator's trees now (once per estimator), not on its first page.

    Returns
    -------
    bool
        True when the estimator is evaluated here, False when it is passed to
        its own methods.
    """
    return _forest_of(estimator) is not None


def _raw_predictions(forest: _Forest, x: np.ndarray) -> np.ndarray:
    """(N, K) float64 sums of leaf values, as ``HistGradientBoosting*._raw_predict``."""
    n, n_features = x.shape
    rounds, k = forest.roots.shape
    leaf_values = np.empty(rounds * k * n, np.float64)
    # One entry per (tree, sample): where it is, the sample's row start, and its slot.
    node = np.repeat(forest.roots.ravel(), n)
    row = np.tile(np.arange(n, dtype=np.intp) * n_features, rounds * k)
    slot = np.arange(rounds * k * n, dtype=np.intp)
    flat_x = x.ravel()
    has_nan = bool(np.isnan(flat_x).any())
    step = 0
    while len(node):
        values = flat_x[row + forest.feature[node]]
        go_right = ~(values <= forest.threshold[node])
        if has_nan:
            # NaN compares False: it goes where the tree learned missing values go.
            go_right &= ~(np.isnan(values) & forest.missing_left[node])
        node = forest.children[2 * node + go_right]
        step += 1
        if step % 3 == 0 or len(node) < 256:
            done = forest.is_leaf[node]
            if done.any():
                leaf_values[slot[done]] = forest.value[node[done]]
                keep = ~done
                node, row, slot = node[keep], row[keep], slot[keep]
    per_round = leaf_values.reshape(rounds, k, n)
    raw = np.zeros((n, k), np.float64, order="F")
    raw += forest.baseline
    for r in range(rounds):  # round by round, as scikit-learn adds them
        raw += per_round[r].T
    return raw


def _prepare(x: np.ndarray, forest: _Forest | None) -> np.ndarray | None:
    if forest is None:
        return None
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        return None
    return x


def predict_probabilities(estimator: Any, features: np.ndarray) -> np.ndarray:
    """Class probabilities, as ``estimator.predict_proba(features)``.

    Parameters
    ----------
    estimator : fitted classifier
        A ``HistGradientBoostingClassifier`` is evaluated here; anything else
        by its own ``predict_proba`` on one thread.
    features : (N, F) float ndarray

    Returns
    -------
    probabilities : (N, n_classes) float64 ndarray
    """
    forest = _forest_of(estimator)
    x = _prepare(features, forest)
    if forest is None or x is None:
        with threadpool_limits(limits=1):
            return estimator.predict_proba(features)
    raw = _raw_predictions(forest, x)
    return estimator._loss.predict_proba(raw)


def predict_classes(estimator: Any, features: np.ndarray) -> np.ndarray:
    """Predicted classes, as ``estimator.predict(features)``.

    Parameters
    ----------
    estimator : fitted classifier
    features : (N, F) float ndarray

    Returns
    -------
    labels : (N,) ndarray
        Values of ``estimator.classes_``.
    """
    forest = _forest_of(estimator)
    x = _prepare(features, forest)
    if forest is None or x is None:
        with threadpool_limits(limits=1):
            return estimator.predict(features)
    raw = _raw_predictions(forest, x)
    # One column: binary, positive when the raw score is above 0 (as scikit-learn).
    encoded = (raw.ravel() > 0).astype(int) if raw.shape[1] == 1 else np.argmax(raw, axis=1)
    return estimator.classes_[encoded]
