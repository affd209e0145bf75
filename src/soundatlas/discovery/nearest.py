"""Exact top-k cosine search over the catalog, in NumPy.

The rows are unit vectors, so cosine similarity is a dot product: one matrix-vector product
over the rows in question (about half a millisecond at 100k songs), then a partial sort for the
best ``k``. It is NumPy, not a compiled loop, so a query process loads no compiler: importing
numba and loading its cached kernel took longer than a thousand searches. NumPy releases the
GIL in the product and the sort, so dashboard sessions do not queue behind a search.
"""

from __future__ import annotations

import numpy as np


def top_cosine(
    unit: np.ndarray,
    query: np.ndarray,
    k: int,
    *,
    labels: np.ndarray | None = None,
    wanted: np.ndarray | None = None,
    banned: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``unit`` most similar to ``query``, best first.

    Parameters
    ----------
    unit
        Row-normalised float32 matrix (n × d).
    query
        Unit float32 vector (d).
    k
        How many rows to return (fewer if fewer rows qualify).
    labels, wanted
        When given, only rows whose label is in ``wanted`` are considered.
    banned
        Rows never returned (the query's releases, an artist's songs).
    allowed
        Boolean mask over the rows (length n): when given, only rows where it is True are
        considered. Rows left out cost no dot product, so a narrow mask makes the search faster.

    Returns
    -------
    rows, scores
        Row positions and cosine similarities (float32), by descending score, ties by
        ascending row.
    """
    size = len(unit)
    k = max(int(k), 0)
    if allowed is None and (labels is None or wanted is None) and banned is not None:
        found = _best_but_banned(unit, query, k, np.unique(np.asarray(banned, dtype=np.int64)))
        if found is not None:
            return found
    keep = None if allowed is None else _mask(allowed, size).copy()
    if labels is not None and wanted is not None:
        chosen = np.isin(np.asarray(labels), np.asarray(wanted, dtype=np.int32))
        keep = chosen if keep is None else keep & chosen
    if banned is not None and len(banned):
        banned = np.asarray(banned, dtype=np.int64)
        keep = np.ones(size, dtype=np.bool_) if keep is None else keep
        keep[banned[(banned >= 0) & (banned < size)]] = False
    query = np.ascontiguousarray(query, dtype=np.float32)
    unit = np.asarray(unit, dtype=np.float32)
    if keep is None:
        rows = np.arange(size, dtype=np.int64)
        scores = unit @ query
    else:
        rows = np.flatnonzero(keep)
        # A few rows left out: one product over every row is cheaper than gathering the rest.
        scores = (unit @ query)[rows] if 4 * len(rows) > size else unit[rows] @ query
    if 0 < k < len(rows):
        # Every row scoring at least the k-th best, ties at the cut included, then the first k
        # of those by score and row: ties go to the lower row, as a sort would give them.
        cut = kth_highest(scores, k)
        best = np.flatnonzero(scores >= cut)
        rows, scores = rows[best], scores[best]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order]


def _best_but_banned(
    unit: np.ndarray, query: np.ndarray, k: int, banned: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """`top_cosine` when only a few ``banned`` rows (a song's releases) are left out: their
    scores set to -inf in the product over every row, instead of listing the other rows and
    gathering their scores (two passes over the catalog per query). The k-th best score is
    then a real one, so the same rows and order come out. None when ``k`` reaches into the
    banned rows (the general path answers)."""
    size = len(unit)
    banned = banned[(banned >= 0) & (banned < size)]
    if not 0 < k < size - len(banned):
        return None
    scores = np.asarray(unit, dtype=np.float32) @ np.ascontiguousarray(query, dtype=np.float32)
    scores[banned] = -np.inf
    cut = kth_highest(scores, k)
    rows = np.flatnonzero(scores >= cut)
    scores = scores[rows]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order]


SAMPLE_STEP = 16
"""`kth_highest` bounds the k-th highest score by every 16th score."""


def kth_highest(scores: np.ndarray, k: int) -> float:
    """The ``k``-th highest of ``scores`` (not NaN; 0 < k ≤ len): the value
    ``np.partition(scores, len - k)[len - k]`` gives, without partitioning every score (0.7 ms
    at 100k songs, the largest part of a similar-songs search).

    A bound is read from every `SAMPLE_STEP`-th score, low enough that about twice ``k``
    scores reach it; when at least ``k`` do, the ``k``-th highest is among them, and only
    they are partitioned. When fewer do (a sample unlike the rest), every score is.
    """
    size = len(scores)
    rank = 2 * (k // SAMPLE_STEP) + 16  # of the sample, from the top
    sample = scores[::SAMPLE_STEP]
    if rank < len(sample):
        bound = np.partition(sample, len(sample) - rank)[len(sample) - rank]
        above = scores[scores >= bound]
        if len(above) >= k:
            return np.partition(above, len(above) - k)[len(above) - k]
    return np.partition(scores, size - k)[size - k]


def _mask(allowed: np.ndarray, size: int) -> np.ndarray:
    mask = np.ascontiguousarray(allowed, dtype=np.bool_)
    if mask.shape != (size,):
        raise ValueError(f"allowed: a mask of {size} rows is needed, got shape {mask.shape}")
    return mask


def unit_rows(matrix: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
    """Rows, less ``centre`` when given, scaled to length 1 as C-contiguous float32.

    Cosine similarity measures angles from an origin; discovery measures them from the
    catalog's mean (``centre``), whatever the scaling put at zero. Rows at the origin stay zero.
    """
    values = np.asarray(matrix, dtype=np.float64)
    if centre is not None:
        values = values - np.asarray(centre, dtype=np.float64)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    unit = np.divide(values, norms, out=np.zeros_like(values), where=norms > 0)
    return np.ascontiguousarray(unit, dtype=np.float32)
