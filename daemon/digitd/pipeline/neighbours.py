"""Nearest neighbours of a batch of query vectors in a reference set.

Exhaustive search computes all query-reference distances with one matrix
product per chunk. The inverted-file search (the default for shipped models)
visits only the ``probes`` reference clusters whose centres are nearest to
each query: the loop runs over clusters, each handling all the queries that
probe it with one matrix product, so the work per query is a few thousand
distances instead of the whole reference set.
"""

from __future__ import annotations

import weakref

import numpy as np

__all__ = ["find_neighbours", "reference_norms"]

_CHUNK = 1024
# Squared lengths of reference rows, by id of the reference array (a model's,
# loaded once per worker), with a weak reference to tell a reused id.
_NORMS: dict[int, tuple[weakref.ref[np.ndarray], np.ndarray]] = {}


def find_neighbours(
    queries: np.ndarray,
    reference: np.ndarray,
    *,
    k: int,
    centroids: np.ndarray | None = None,
    offsets: np.ndarray | None = None,
    probes: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest reference vectors of each query, nearest first.

    Parameters
    ----------
    queries : (N, D) float32 ndarray
    reference : (M, D) float32 ndarray
        Grouped by cluster when ``centroids`` is given.
    k : int
        Neighbours wanted; fewer columns come back when M < k.
    centroids : (C, D) float32 ndarray, optional
        Cluster centres; None searches exhaustively.
    offsets : (C + 1,) int ndarray, optional
        Cluster c is ``reference[offsets[c]:offsets[c + 1]]``.
    probes : int
        Clusters searched per query (inverted-file search only).

    Returns
    -------
    distances : (N, min(k, M)) float32 ndarray
        Euclidean, ascending along each row.
    indices : (N, min(k, M)) int64 ndarray
        Rows of ``reference``.

    Raises
    ------
    ValueError
        Dimensions disagree, or ``k`` or ``probes`` is below 1.
    """
    queries = np.asarray(queries, dtype=np.float32)
    reference = np.asarray(reference, dtype=np.float32)
    if queries.ndim != 2 or reference.ndim != 2 or queries.shape[1] != reference.shape[1]:
        raise ValueError(
            f"queries {queries.shape} and reference {reference.shape} must be 2-D "
            "with the same number of columns"
        )
    if k < 1 or probes < 1:
        raise ValueError(f"k ({k}) and probes ({probes}) must be at least 1")
    k = min(k, len(reference))
    n = len(queries)
    if n == 0 or k == 0:
        return np.zeros((n, k), np.float32), np.zeros((n, k), np.int64)
    if centroids is None or offsets is None or probes >= len(centroids):
        d2, idx = _search_exhaustive(queries, reference, k)
    else:
        d2, idx = _search_clusters(queries, reference, k, centroids, offsets, probes)
    order = np.argsort(d2, axis=1, kind="stable")
    d2 = np.take_along_axis(d2, order, axis=1)
    idx = np.take_along_axis(idx, order, axis=1)
    q2 = np.einsum("nd,nd->n", queries, queries)[:, None]
    return np.sqrt(np.maximum(d2 + q2, 0.0)).astype(np.float32), idx


def _top_k(d2: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if d2.shape[1] > k:
        idx = np.argpartition(d2, k - 1, axis=1)[:, :k]
    else:
        idx = np.broadcast_to(np.arange(d2.shape[1]), d2.shape)
    return np.take_along_axis(d2, idx, axis=1), idx


def _search_exhaustive(
    queries: np.ndarray, reference: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances minus |q|^2, and indices, of the k nearest (unsorted)."""
    r2 = np.einsum("md,md->m", reference, reference)
    d_out = np.empty((len(queries), k), np.float32)
    i_out = np.empty((len(queries), k), np.int64)
    for s in range(0, len(queries), _CHUNK):
        d2 = r2[None, :] - 2.0 * (queries[s : s + _CHUNK] @ reference.T)
        d_out[s : s + _CHUNK], i_out[s : s + _CHUNK] = _top_k(d2, k)
    return d_out, i_out


def reference_norms(reference: np.ndarray) -> np.ndarray:
    """Squared length of every reference row, computed once per reference array.

    Parameters
    ----------
    reference : (M, D) float32 ndarray

    Returns
    -------
    norms : (M,) float32 ndarray
        Cached while ``reference`` lives; do not modify.
    """
    key = id(reference)
    known = _NORMS.get(key)
    if known is not None and known[0]() is reference:
        return known[1]
    norms = np.einsum("md,md->m", reference, reference)
    try:
        ref = weakref.ref(reference, lambda _: _NORMS.pop(key, None))
    except TypeError:  # a view of a buffer that cannot be weakly referenced
        return norms
    _NORMS[key] = (ref, norms)
    return norms


def _search_clusters(
    queries: np.ndarray,
    reference: np.ndarray,
    k: int,
    centroids: np.ndarray,
    offsets: np.ndarray,
    probes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Inverted-file search: squared distances minus |q|^2 and indices (unsorted)."""
    n = len(queries)
    c2 = np.einsum("cd,cd->c", centroids, centroids)
    near = np.argpartition(c2[None, :] - 2.0 * (queries @ centroids.T), probes - 1, axis=1)
    near = near[:, :probes]  # (n, probes) cluster ids
    cand_d = np.full((n * probes, k), np.inf, np.float32)
    cand_i = np.zeros((n * probes, k), np.int64)
    r2 = reference_norms(reference)
    flat = near.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(len(centroids) + 1))
    for c in np.flatnonzero(np.diff(bounds)).tolist():
        start, stop = int(offsets[c]), int(offsets[c + 1])
        if stop == start:
            continue
        pairs = order[bounds[c] : bounds[c + 1]]  # rows of (query, probe) pairs
        d2 = r2[start:stop] - 2.0 * (queries[pairs // probes] @ reference[start:stop].T)
        kk = min(k, stop - start)
        if stop - start > kk:
            top = d2.argpartition(kk - 1, axis=1)[:, :kk]
            rows = np.arange(len(pairs))[:, None]
            cand_d[pairs, :kk] = d2[rows, top]
            cand_i[pairs, :kk] = top + start
        else:
            cand_d[pairs, :kk] = d2
            cand_i[pairs, :kk] = np.arange(start, stop)
    cand_d = cand_d.reshape(n, probes * k)
    cand_i = cand_i.reshape(n, probes * k)
    d_best, pick = _top_k(cand_d, k)
    return d_best, np.take_along_axis(cand_i, pick, axis=1)
