"""A playlist's similarity, computed only for the songs that can reach its threshold.

A playlist keeps only songs whose similarity to its sound is at least the request's threshold
(0.70 or more), and each seed's pool counts the songs within it of that seed: at a million
loaded songs, a few thousand to tens of thousands. Scoring every song exactly with numpy is a
pass of nine multiply-adds over the whole matrix of unit vectors (5 ms at 1,000,000 songs, per
direction); instead `first_pass` takes BLAS products over a column-major float32 copy of the
unit vectors (`unit_columns`), a block of songs at a time and every direction at once, and
scores exactly only the songs the product puts within `MARGIN` of the threshold or above,
from the block's columns while they are in the cache. It answers each direction's songs that
reach the threshold with their exact similarity (`Near`): the caller scores nothing again.

Exactly means the float32 sum of the products feature by feature, in feature order, each
rounded as numpy's element-wise operations round it (`similarity_to`, the definition): a
song's score never depends on which other songs are scored with it. A BLAS product's does:
its blocking changes with the number of rows, and with it the last bit of some sums. The BLAS
product differs from the exact sum by about 1e-6 at most (nine products of unit-length float32
vectors, 2^-24 each), far inside `MARGIN`, so every song the product leaves out is below the
threshold.
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


MARGIN = 1e-4
"""How far below the threshold a song's BLAS product still sends it to exact scoring: a
hundred times the product's largest error (nine products of unit-length float32 vectors,
about 1e-6), so every song the product leaves out scores below the threshold."""

BLOCK = 32_768
"""Songs per BLAS product of `first_pass`: each block's product, and the columns the songs
it keeps are scored exactly from, stay in the cache, and no array the size of the catalog is
made per request."""


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
    direction), with their exact similarity. A block of `BLOCK` songs at a time: one BLAS
    product of the block's `unit_columns` with every direction (the vectors are read once
    however many directions there are: a playlist's reference and each seed's, `recommend`),
    then one compiled pass (`_kept`) scores exactly, from the block's columns still in the
    cache, only the songs the product puts within `MARGIN` of the threshold or above it."""
    columns = unit_columns(index)
    weights = np.ascontiguousarray(np.stack(directions), dtype=np.float32)
    rough_low = np.float32(threshold - MARGIN)
    low = float32_above(threshold)
    product = np.empty((len(weights), BLOCK), dtype=np.float32)
    rows = np.empty((len(weights), 4 * BLOCK), dtype=np.int64)
    values = np.empty((len(weights), 4 * BLOCK), dtype=np.float32)
    counts = np.zeros(len(weights), dtype=np.int64)
    for start in range(0, columns.shape[1], BLOCK):
        block = columns[:, start : start + BLOCK]
        np.matmul(weights, block, out=product[:, : block.shape[1]])
        if counts.max() + BLOCK > rows.shape[1]:  # room to list a whole block after the kept
            rows, values = _grown(rows, counts), _grown(values, counts)
        _kept(product, columns, weights, start, rough_low, low, rows, values, counts)
    return [
        Near(rows[number, :count].copy(), values[number, :count].astype(np.float64))
        for number, count in enumerate(counts.tolist())
    ]


def _grown(found: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``found`` (one row per direction) with twice the room, its first ``counts`` kept."""
    larger = np.empty((found.shape[0], 2 * found.shape[1]), dtype=found.dtype)
    kept = int(counts.max())
    larger[:, :kept] = found[:, :kept]
    return larger


def float32_above(threshold: float) -> np.float32:
    """The least float32 not below ``threshold``: a float32 score is below it exactly when it
    is below ``threshold`` (a playlist's filter compares the score, as float64, with the
    threshold), so the pass compares in float32."""
    low = np.float32(threshold)
    return np.nextafter(low, np.float32(np.inf)) if float(low) < threshold else low


@numba.njit(cache=True, nogil=True)
def _kept(
    product: np.ndarray,
    columns: np.ndarray,
    weights: np.ndarray,
    start: int,
    rough_low: np.float32,
    low: np.float32,
    rows: np.ndarray,
    values: np.ndarray,
    counts: np.ndarray,
) -> None:
    """For each direction (row of ``weights`` and of ``product``, the BLAS products of the
    block of songs from column ``start`` of ``columns``), the block's songs whose exact
    similarity is not below ``low`` (or not a number): their rows and similarities appended
    to its row of ``rows`` and ``values`` after its first ``counts`` (which has room for a
    whole block), and ``counts`` moved on.

    The songs whose product is not below ``rough_low`` are listed first (every song's row is
    written and kept by moving on: no branch, one store); only they are scored exactly, as
    `similarity_to` sums (a float32 product per feature added in feature order, each rounded:
    numba fuses a multiply and an add only under fastmath, which is off)."""
    size = min(product.shape[1], columns.shape[1] - start)
    for direction in range(weights.shape[0]):
        count = counts[direction]
        listed = count
        for position in range(size):
            rows[direction, listed] = start + position
            listed += not product[direction, position] < rough_low
        for number in range(count, listed):
            row = rows[direction, number]
            total = columns[0, row] * weights[direction, 0]
            for feature in range(1, columns.shape[0]):
                total = total + columns[feature, row] * weights[direction, feature]
            rows[direction, count] = row
            values[direction, count] = total
            count += not total < low
        counts[direction] = count


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
    if len(scope) == index.size:  # every song: positions are rows (no gather from the scope)
        return positions[similarity >= threshold]
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
