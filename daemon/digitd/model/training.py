"""Build a k-nearest-neighbours model from labelled crops.

1. Every crop (digits, plus generated non-digits for the reject class) goes
   through ``normalize_digits`` and ``extract_hog``, exactly as at recognition.
2. A held-out part (``TrainParams.holdout``) is set aside; PCA is fitted on the
   rest, the rest is clustered for the inverted-file search, and the held-out
   digits are recognized with that preliminary model.
3. The confidence calibration (a logistic regression of "the label is right"
   on the neighbour statistics) is fitted on those held-out predictions, and
   the reliability table is measured on them.
4. The final reference set is all samples, held-out ones included.

``add_samples`` inserts a person's own samples into an existing model
without retraining anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from digitd.errors import InputError
from digitd.model.evaluation import Evaluation, evaluate_predictions
from digitd.model.format import Model
from digitd.pipeline.features import HogParams, extract_hog
from digitd.pipeline.normalize import normalize_digits
from digitd.pipeline.recognize import (
    RecognitionParams,
    embed_digits,
    predictions_from_scores,
    score_vectors,
)

__all__ = [
    "DIGIT_CLASSES",
    "TrainParams",
    "TrainResult",
    "add_samples",
    "build_model",
    "compute_features",
]

DIGIT_CLASSES = tuple("0123456789")
_PCA_SAMPLE = 12000  # samples the projection is fitted on
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class TrainParams:
    """How to build a model.

    Attributes
    ----------
    dims : int
        PCA dimensions (0: no projection).
    k : int
        Voting neighbours.
    clusters : int
        Clusters for the inverted-file search (0: exhaustive search; fewer
        are used for small reference sets).
    probes : int
        Clusters searched per query.
    deskew : bool
    stroke_width : float or None
        Normalization settings (see ``normalize_digits``).
    hog : HogParams
    holdout : float
        Fraction of the samples held out to fit the confidence calibration.
    seed : int
    """

    dims: int = 64
    k: int = 3
    clusters: int = 256
    probes: int = 8
    deskew: bool = True
    stroke_width: float | None = 2.6
    hog: HogParams = field(default_factory=lambda: HogParams(soft_bins=True))
    holdout: float = 0.1
    seed: int = 0


@dataclass(frozen=True, slots=True)
class TrainResult:
    """A built model and how it did on the held-out samples."""

    model: Model
    validation: Evaluation
    validation_count: int
    reference_count: int


def compute_features(
    crops: Sequence[np.ndarray] | np.ndarray,
    *,
    deskew: bool,
    stroke_width: float | None,
    hog: HogParams,
    progress: Progress | None = None,
    batch_size: int = 4096,
) -> np.ndarray:
    """HOG vectors of crops, normalized as recognition will normalize them.

    Returns
    -------
    features : (N, F) float32 ndarray
    """
    parts = []
    for start in range(0, len(crops), batch_size):
        batch = crops[start : start + batch_size]
        digits = normalize_digits(batch, deskew=deskew, stroke_width=stroke_width)
        parts.append(extract_hog(digits, hog))
        if progress is not None:
            progress(len(batch))
    if not parts:
        raise InputError("no training samples were given")
    return np.concatenate(parts)


def build_model(
    crops: Sequence[np.ndarray] | np.ndarray,
    labels: np.ndarray,
    *,
    nondigits: Sequence[np.ndarray] = (),
    groups: np.ndarray | None = None,
    params: TrainParams,
    model_id: str,
    review_threshold: float = RecognitionParams().review_threshold,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a model on labelled digit crops and non-digit marks.

    Parameters
    ----------
    crops : sequence of (h, w) uint8 ndarray
        Digits, ink dark on light.
    labels : (N,) int ndarray
        Their digits 0-9.
    nondigits : sequence of (h, w) uint8 ndarray
        Marks of the reject class.
    groups : (N,) int ndarray, optional
        Samples with the same group (a digit and its augmented copies) are
        held out together, so that no copy of a held-out digit is in the
        preliminary reference set. Default: every sample its own group.
    params : TrainParams
    model_id : str
    review_threshold : float
        Used for the held-out figures.
    progress : callable, optional
        Called with the number of crops done, batch by batch.

    Returns
    -------
    TrainResult

    Raises
    ------
    InputError
        Fewer than 10 digit samples, or labels outside 0-9.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(crops) != len(labels):
        raise InputError(f"{len(crops)} crops but {len(labels)} labels")
    if len(labels) < 10:
        raise InputError(f"only {len(labels)} digit samples; a model needs at least 10")
    if labels.min() < 0 or labels.max() > 9:
        raise InputError("digit labels must be 0-9")
    kw: dict[str, Any] = {
        "deskew": params.deskew,
        "stroke_width": params.stroke_width,
        "hog": params.hog,
    }
    features = compute_features(crops, progress=progress, **kw)
    all_labels = labels
    if len(nondigits):
        features = np.concatenate([features, compute_features(nondigits, progress=progress, **kw)])
        all_labels = np.concatenate([labels, np.full(len(nondigits), len(DIGIT_CLASSES))])
    if groups is None:
        groups = np.arange(len(labels))
    groups = np.asarray(groups, dtype=np.int64)
    if groups.shape != labels.shape:
        raise InputError(f"{len(groups)} groups for {len(labels)} digit samples")
    # Non-digits are their own groups, numbered after the digits' groups.
    all_groups = np.concatenate([groups, groups.max(initial=-1) + 1 + np.arange(len(nondigits))])
    rng = np.random.default_rng(params.seed)
    unique = np.unique(all_groups)
    held_groups = unique[rng.random(len(unique)) < params.holdout]
    held = np.isin(all_groups, held_groups)
    if held[: len(labels)].sum() < 10 or (~held).sum() < params.k:
        held[:] = False
        held[rng.permutation(len(labels))[: max(10, len(labels) // 10)]] = True
    mean, projection = _fit_projection(features[~held], params.dims, params.seed)
    base = Model(
        id=model_id,
        classes=DIGIT_CLASSES,
        reference=np.zeros((0, 1), np.float32),
        reference_labels=np.zeros(0, np.int16),
        k=params.k,
        mean=mean,
        projection=projection,
        probes=params.probes,
        hog=params.hog,
        deskew=params.deskew,
        stroke_width=params.stroke_width,
    )
    vectors = _project(features, base)
    preliminary = _with_reference(base, vectors[~held], all_labels[~held], params)
    # Calibrate and measure on held-out originals only, not on augmented copies.
    original = np.zeros(len(all_labels), bool)
    original[np.unique(all_groups, return_index=True)[1]] = True
    held_digits = held & original & (all_labels < len(DIGIT_CLASSES))
    best, stats, shares = score_vectors(vectors[held_digits], preliminary)
    truth = all_labels[held_digits]
    calibration = _fit_calibration(stats, best, truth)
    calibrated = replace(preliminary, calibration=calibration)
    predictions = predictions_from_scores(best, stats, shares, calibrated)
    validation = evaluate_predictions(truth, predictions, review_threshold=review_threshold)
    final = _with_reference(replace(base, calibration=calibration), vectors, all_labels, params)
    return TrainResult(
        model=final,
        validation=validation,
        validation_count=int(held_digits.sum()),
        reference_count=len(all_labels),
    )


def add_samples(
    model: Model, crops: Sequence[np.ndarray] | np.ndarray, labels: np.ndarray
) -> Model:
    """A copy of ``model`` whose reference set also holds these labelled crops.

    Each new sample joins the cluster with the nearest centre; nothing else
    (projection, clusters, calibration) changes, so this takes seconds.

    Parameters
    ----------
    model : Model
    crops : sequence of (h, w) uint8 ndarray
        Ink dark on light.
    labels : (N,) int ndarray
        Digits 0-9, or ``model.reject_label`` for non-digits.

    Returns
    -------
    Model

    Raises
    ------
    InputError
        No crops, or a label out of range.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(crops) == 0 or len(crops) != len(labels):
        raise InputError(f"{len(crops)} crops and {len(labels)} labels to add; need the same >0")
    if labels.min() < 0 or labels.max() > model.reject_label:
        raise InputError(f"labels to add must be 0-{model.reject_label}")
    digits = normalize_digits(crops, deskew=model.deskew, stroke_width=model.stroke_width)
    vectors = embed_digits(digits, model)
    reference = np.concatenate([np.asarray(model.reference, np.float32), vectors])
    all_labels = np.concatenate([np.asarray(model.reference_labels, np.int64), labels])
    if model.centroids is None or model.offsets is None:
        return replace(model, reference=reference, reference_labels=all_labels.astype(np.int16))
    old_cluster = np.repeat(np.arange(len(model.centroids)), np.diff(model.offsets))
    new_cluster = _nearest_centroid(vectors, model.centroids)
    cluster = np.concatenate([old_cluster, new_cluster])
    order = np.argsort(cluster, kind="stable")
    counts = np.bincount(cluster, minlength=len(model.centroids))
    return replace(
        model,
        reference=reference[order],
        reference_labels=all_labels[order].astype(np.int16),
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
    )


def _fit_projection(
    features: np.ndarray, dims: int, seed: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if dims <= 0 or dims >= features.shape[1]:
        return None, None
    from sklearn.decomposition import PCA

    dims = min(dims, len(features))
    rng = np.random.default_rng(seed)
    sample = features[rng.permutation(len(features))[:_PCA_SAMPLE]]
    pca = PCA(n_components=dims, svd_solver="randomized", iterated_power=3, random_state=seed)
    pca.fit(sample)
    return pca.mean_.astype(np.float32), pca.components_.T.astype(np.float32)


def _project(features: np.ndarray, model: Model) -> np.ndarray:
    if model.projection is None:
        return features.astype(np.float32)
    return ((features - model.mean) @ model.projection).astype(np.float32)


def _nearest_centroid(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    c2 = np.einsum("cd,cd->c", centroids, centroids)
    return (c2[None, :] - 2.0 * vectors @ centroids.T).argmin(axis=1)


def _with_reference(
    model: Model, vectors: np.ndarray, labels: np.ndarray, params: TrainParams
) -> Model:
    """The model with this reference set, clustered for the inverted-file search."""
    clusters = min(params.clusters, len(vectors) // 200)
    if clusters < 2 or params.probes >= clusters:
        return replace(
            model,
            reference=vectors.astype(np.float32),
            reference_labels=labels.astype(np.int16),
            centroids=None,
            offsets=None,
        )
    from sklearn.cluster import MiniBatchKMeans

    kmeans = MiniBatchKMeans(
        n_clusters=clusters, random_state=params.seed, n_init=1, batch_size=4096
    ).fit(vectors)
    centroids = kmeans.cluster_centers_.astype(np.float32)
    cluster = _nearest_centroid(vectors, centroids)
    order = np.argsort(cluster, kind="stable")
    counts = np.bincount(cluster, minlength=clusters)
    return replace(
        model,
        reference=vectors[order].astype(np.float32),
        reference_labels=labels[order].astype(np.int16),
        centroids=centroids,
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
    )


def _fit_calibration(stats: np.ndarray, best: np.ndarray, truth: np.ndarray) -> np.ndarray | None:
    """Logistic weights (intercept first) of P(label right | neighbour statistics)."""
    digit = np.where(best == len(DIGIT_CLASSES), -1, best)
    accepted = digit >= 0
    correct = (digit == truth)[accepted]
    if correct.all() or not correct.any() or accepted.sum() < 20:
        return None
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1.0, max_iter=1000).fit(stats[accepted], correct)
    return np.concatenate([fit.intercept_, fit.coef_.ravel()]).astype(np.float64)
