"""A playlist's similarity, computed only for the songs that can reach its threshold.

A playlist keeps only songs whose similarity to its sound is at least the request's threshold
(0.70 or more), and each seed's pool counts the songs within it of that seed: at a million
loaded songs, a few thousand. Scoring every song exactly is a pass of nine multiply-adds over
the whole matrix of unit vectors (5 ms at 1,000,000 songs, per direction); instead one BLAS
product over a column-major float32 copy of the unit vectors (`unit_columns`, 1.8 ms) finds
the songs within `MARGIN` of the threshold (`within_reach`), and only those are scored
exactly (`similarity_to`).

Exactly means the float32 sum of the products feature by feature, in feature order, each
rounded as numpy's element-wise operations round it: a song's score never depends on which
other songs are scored with it. A BLAS product's does: its blocking changes with the number of
rows, and with it the last bit of some sums, so scoring a subset with it would not give the
whole scan's answer. The BLAS product differs from the exact sum by about 1e-6 at most (nine
products of unit-length float32 vectors, 2^-24 each), far inside `MARGIN`, so every song the
first pass leaves out is below the threshold.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from soundatlas.discovery.queryindex import QueryIndex

MARGIN = 1e-4
"""How far below the threshold the first pass still keeps a song (see the module docstring:
a hundred times the first pass's largest error)."""

_COLUMNS: weakref.WeakKeyDictionary[QueryIndex, np.ndarray] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def unit_columns(index: QueryIndex) -> np.ndarray:
    """The index's unit vectors as a column-major float32 array (one row per feature), made
    once per index: a product with one direction reads each feature's values in one run
    (3 times faster than over the row-major vectors). A server makes it before forking its
    workers (`soundatlas.api.holder.warmed`), which then share its pages."""
    found = _COLUMNS.get(index)
    if found is None:
        with _LOCK:
            found = _COLUMNS.get(index)
            if found is None:
                found = np.ascontiguousarray(np.asarray(index.unit, dtype=np.float32).T)
                _COLUMNS[index] = found
    return found


def within_reach(
    index: QueryIndex, scope: np.ndarray, direction: np.ndarray, threshold: float
) -> np.ndarray:
    """Positions in ``scope`` (ascending catalog rows) of the songs whose `similarity_to`
    ``direction`` may be ``threshold`` or more (and of any whose score is not a number): every
    song left out scores below it."""
    return np.flatnonzero(~(_rough(index, scope, direction) < threshold - MARGIN))


def reaching(
    index: QueryIndex, scope: np.ndarray, direction: np.ndarray, threshold: float
) -> np.ndarray:
    """The rows of ``scope`` (ascending) whose `similarity_to` ``direction`` is ``threshold``
    or more, for a caller that counts them and needs no scores: the first pass decides every
    song more than `MARGIN` from the threshold, and only the few within it are scored."""
    rough = _rough(index, scope, direction)
    above = rough >= threshold + MARGIN
    unsure = np.flatnonzero((rough >= threshold - MARGIN) & ~above)  # a NaN reaches nothing
    above[unsure[similarity_to(index, scope[unsure], direction) >= threshold]] = True
    return scope[np.flatnonzero(above)]


def _rough(index: QueryIndex, scope: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The first pass's similarity of the songs of ``scope`` to ``direction`` (BLAS)."""
    rough = np.asarray(direction, dtype=np.float32) @ unit_columns(index)
    return rough if len(scope) == len(rough) else rough[scope]


def similarity_to(index: QueryIndex, rows: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The cosine similarity of the songs at ``rows`` to a unit ``direction`` (float32 sums
    feature by feature, as float64): the same for a song whichever rows are scored with it."""
    units = index.unit[np.asarray(rows, dtype=np.int64)]
    weights = np.asarray(direction, dtype=np.float32)
    total = units[:, 0] * weights[0]
    for feature in range(1, len(weights)):
        total += units[:, feature] * weights[feature]
    return total.astype(np.float64)
