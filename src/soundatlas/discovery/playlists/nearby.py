"""A playlist's similarity, computed in one compiled pass that keeps only the songs reaching
its threshold.

A playlist keeps only songs whose similarity to its sound is at least the request's threshold
(0.70 or more), and each seed's pool counts the songs within it of that seed: at a million
loaded songs, a few thousand to tens of thousands. `first_pass` scores every song for one or
several directions in one compiled pass over a column-major float32 copy of the unit vectors
(`unit_columns`), a block of songs at a time, and keeps each direction's songs that reach the
threshold with their similarity (`Near`): nothing the size of the catalog is made per request,
and nothing is read again from the row-major vectors.

Its scores are exact: the float32 sum of the products feature by feature, in feature order,
each rounded as numpy's element-wise operations round it (`similarity_to`, the definition): a
song's score never depends on which other songs are scored with it, nor on how many directions
are scored together. A BLAS product's would: its blocking changes with the number of rows, and
with it the last bit of some sums (the earlier BLAS first pass therefore kept a margin below
the threshold and scored the songs in it again).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numba
import numpy as np

from soundatlas.discovery.queryindex import QueryIndex

_MADE: weakref.WeakKeyDictionary[QueryIndex, dict[str, np.ndarray]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def unit_columns(index: QueryIndex) -> np.ndarray:
    """The index's unit vectors as a column-major float32 array (one row per feature), made
    once per index: a pass over every song reads each feature's values in one run (3 times
    faster than over the row-major vectors). A server makes it before forking its
    workers (`soundatlas.api.holder.warmed`), which then share its pages."""
    return _made_once(
        index, "columns", lambda: np.ascontiguousarray(np.asarray(index.unit, np.float32).T)
    )


def _made_once(index: QueryIndex, name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    """The array ``name`` of ``index``, made by ``make`` on first use (once, under a lock)."""
    made = _MADE.get(index)
    found = None if made is None else made.get(name)
    if found is None:
        with _LOCK:
            made = _MADE.setdefault(index, {})
            found = made.get(name)
            if found is None:
                found = made[name] = make()
    return found


def _read_only(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False
    return values


BLOCK = 4_096
"""Songs per block of `first_pass`: a block's nine columns (144 kB) stay in the cache while
every direction is scored on them, and its scores (16 kB) in the first-level cache."""


def all_rows(index: QueryIndex) -> np.ndarray:
    """Every catalog row, ascending (read-only, made once per index): the scope of every
    request without a cluster, rather than a new million-row range per request."""
    return _made_once(index, "rows", lambda: _read_only(np.arange(index.size)))


@dataclass(frozen=True)
class Near:
    """The songs of the catalog that reach a threshold in one direction: those whose
    `similarity_to` it is not below the threshold (or not a number).

    Attributes
    ----------
    rows
        Their catalog rows, ascending.
    similarity
        Their `similarity_to` the direction (float64 of the float32 sum).
    """

    rows: np.ndarray
    similarity: np.ndarray


def first_pass(index: QueryIndex, directions: Sequence[np.ndarray], threshold: float) -> list[Near]:
    """The songs each of ``directions`` reaches ``threshold`` with (`Near`, one per
    direction), from one compiled pass over `unit_columns` (`_scan`): the vectors are read once
    however many directions there are (a playlist's reference and each seed's, `recommend`),
    and only the songs kept are written out."""
    columns = unit_columns(index)
    weights = np.ascontiguousarray(np.stack(directions), dtype=np.float32)
    rows = np.empty((len(weights), columns.shape[1]), dtype=np.int64)
    values = np.empty((len(weights), columns.shape[1]), dtype=np.float32)
    counts = _scan(columns, weights, float32_above(threshold), BLOCK, rows, values)
    return [
        Near(rows[number, :count].copy(), values[number, :count].astype(np.float64))
        for number, count in enumerate(counts.tolist())
    ]


def float32_above(threshold: float) -> np.float32:
    """The least float32 not below ``threshold``: a float32 score is below it exactly when it
    is below ``threshold`` (a playlist's filter compares the score, as float64, with the
    threshold), so the pass compares in float32."""
    low = np.float32(threshold)
    return np.nextafter(low, np.float32(np.inf)) if float(low) < threshold else low


@numba.njit(cache=True, nogil=True)
def _scan(
    columns: np.ndarray,
    weights: np.ndarray,
    low: np.float32,
    block: int,
    rows: np.ndarray,
    values: np.ndarray,
) -> np.ndarray:
    """For each direction (row of ``weights``), the songs (columns of ``columns``) whose
    similarity is not below ``low`` (or not a number): their rows and similarities written to
    the front of its row of ``rows`` and ``values``, and how many.

    The similarity is `similarity_to`'s, bit for bit (`_add_products`). A block's scores stay
    in the first-level cache between the features and the scan that keeps them."""
    size = columns.shape[1]
    scores = np.empty(block, dtype=np.float32)
    counts = np.zeros(weights.shape[0], dtype=np.int64)
    for start in range(0, size, block):
        stop = min(start + block, size)
        found = scores[: stop - start]
        for direction in range(weights.shape[0]):
            _add_products(columns, weights[direction], start, found)
            counts[direction] = _keep(
                found, start, low, rows[direction], values[direction], counts[direction]
            )
    return counts


@numba.njit(cache=True, nogil=True)
def _add_products(columns: np.ndarray, weights: np.ndarray, start: int, scores: np.ndarray) -> None:
    """``scores``: the similarity to ``weights`` of the songs from column ``start`` on, as
    `similarity_to` sums it: a float32 product per feature added in feature order, each
    rounded (numba fuses a multiply and an add only under fastmath, which is off). Four
    features per loop over the songs, so the scores are read and written a third as often;
    the songs' sums are independent, so the loops run in vector registers without reordering
    any one sum."""
    features = columns.shape[0]
    stop = start + len(scores)
    feature = 0
    while feature < features:
        first = columns[feature, start:stop]
        weight = weights[feature]
        if feature + 4 <= features:
            second = columns[feature + 1, start:stop]
            third = columns[feature + 2, start:stop]
            fourth = columns[feature + 3, start:stop]
            w2, w3, w4 = weights[feature + 1], weights[feature + 2], weights[feature + 3]
            if feature == 0:
                for song in range(len(scores)):
                    total = first[song] * weight
                    total = total + second[song] * w2
                    total = total + third[song] * w3
                    scores[song] = total + fourth[song] * w4
            else:
                for song in range(len(scores)):
                    total = scores[song] + first[song] * weight
                    total = total + second[song] * w2
                    total = total + third[song] * w3
                    scores[song] = total + fourth[song] * w4
            feature += 4
        else:
            if feature == 0:
                for song in range(len(scores)):
                    scores[song] = first[song] * weight
            else:
                for song in range(len(scores)):
                    scores[song] = scores[song] + first[song] * weight
            feature += 1


@numba.njit(cache=True, nogil=True)
def _keep(
    scores: np.ndarray,
    start: int,
    low: np.float32,
    rows: np.ndarray,
    values: np.ndarray,
    count: int,
) -> int:
    """Append the songs of ``scores`` (from row ``start`` on) not below ``low`` (or not a
    number) to ``rows`` and ``values`` after their first ``count``; the new count. Every
    song's row is written and kept by moving on (no branch), the scores only of the few kept
    (one store per song rather than two: a third faster)."""
    first = count
    for song in range(len(scores)):
        rows[count] = start + song
        count += not scores[song] < low
    for kept in range(first, count):
        values[kept] = scores[rows[kept] - start]
    return count


def within_reach(
    index: QueryIndex,
    scope: np.ndarray,
    direction: np.ndarray,
    threshold: float,
    near: Near | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``scope`` (ascending catalog rows) of the songs whose `similarity_to`
    ``direction`` is ``threshold`` or more, or not a number (a playlist's threshold filter
    passes those), and their similarity: every song left out scores below it. ``near``: the
    `first_pass` of ``direction`` and ``threshold``, if made."""
    if near is None:
        near = first_pass(index, [direction], threshold)[0]
    if len(scope) == index.size:  # every song: positions are rows
        return near.rows, near.similarity
    if len(scope) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    positions = np.minimum(np.searchsorted(scope, near.rows), len(scope) - 1)
    inside = scope[positions] == near.rows
    return positions[inside], near.similarity[inside]


def reaching(
    index: QueryIndex,
    scope: np.ndarray,
    direction: np.ndarray,
    threshold: float,
    near: Near | None = None,
) -> np.ndarray:
    """The rows of ``scope`` (ascending) whose `similarity_to` ``direction`` is ``threshold``
    or more (a song scoring not a number reaches nothing), for a caller that counts them and
    needs no scores. ``near``: the `first_pass` of ``direction`` and ``threshold``, if made."""
    positions, similarity = within_reach(index, scope, direction, threshold, near)
    return scope[positions[similarity >= threshold]]


def similarity_to(index: QueryIndex, rows: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The cosine similarity of the songs at ``rows`` to a unit ``direction`` (float32 sums
    feature by feature, as float64): the same for a song whichever rows are scored with it.
    The definition `first_pass` computes for every song at once."""
    units = index.unit[np.asarray(rows, dtype=np.int64)]
    weights = np.asarray(direction, dtype=np.float32)
    total = units[:, 0] * weights[0]
    for feature in range(1, len(weights)):
        total += units[:, feature] * weights[feature]
    return total.astype(np.float64)
