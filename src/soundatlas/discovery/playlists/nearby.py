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
    """The songs of the catalog that reach a threshold in one direction.

    Attributes
    ----------
    rows
        Their catalog rows, ascending: scored, those whose `similarity_to` the direction is not
        below the threshold (or not a number, which a playlist's threshold filter passes);
        else those whose similarity is the threshold or more (what `reaching` counts).
    similarity
        Their `similarity_to` the direction (float64 of the float32 sum); None when not
        scored.
    """

    rows: np.ndarray
    similarity: np.ndarray | None


def first_pass(
    index: QueryIndex, directions: Sequence[np.ndarray], threshold: float, *, scored: int = 1
) -> list[Near]:
    """The songs each of ``directions`` reaches ``threshold`` with (`Near`, one per
    direction), with their exact similarity for the first ``scored`` directions (a
    playlist's reference; a seed's pool only counts its songs). A block of `BLOCK` songs at a
    time: one BLAS product of the block's `unit_columns` with every direction (the vectors are
    read once however many directions there are: a playlist's reference and each seed's,
    `recommend`), then one compiled pass (`_kept`) scores exactly, from the block's columns
    still in the cache, only the songs the product puts within `MARGIN` of the threshold or
    above it (for a direction not scored, only those within `MARGIN` of it)."""
    columns = unit_columns(index)
    weights = np.ascontiguousarray(np.stack(directions), dtype=np.float32)
    rough = np.array([threshold - MARGIN, threshold + MARGIN], dtype=np.float32)
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
        _kept(product, columns, weights, scored, start, rough, low, rows, values, counts)
    return [
        Near(
            rows[number, :count].copy(),
            values[number, :count].astype(np.float64) if number < scored else None,
        )
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
    scored: int,
    start: int,
    rough: np.ndarray,
    low: np.float32,
    rows: np.ndarray,
    values: np.ndarray,
    counts: np.ndarray,
) -> None:
    """For each direction (row of ``weights`` and of ``product``, the BLAS products of the
    block of songs from column ``start`` of ``columns``), the block's songs that reach ``low``
    (`Near.rows`) appended to its row of ``rows`` after its first ``counts`` (which has room
    for a whole block), with their similarities in ``values`` for the first ``scored``
    directions, and ``counts`` moved on.

    The songs whose product is not below ``rough[0]`` are listed first (every song's row is
    written and kept by moving on: no branch, one store). They are scored exactly, as
    `similarity_to` sums (a float32 product per feature added in feature order, each rounded:
    numba fuses a multiply and an add only under fastmath, which is off); for a direction not
    scored, a song whose product is ``rough[1]`` or more reaches ``low`` without it."""
    size = min(product.shape[1], columns.shape[1] - start)
    for direction in range(weights.shape[0]):
        count = counts[direction]
        listed = count
        for position in range(size):
            rows[direction, listed] = start + position
            listed += not product[direction, position] < rough[0]
        for number in range(count, listed):
            row = rows[direction, number]
            rows[direction, count] = row
            if direction >= scored and product[direction, row - start] >= rough[1]:
                count += 1
                continue
            total = columns[0, row] * weights[direction, 0]
            for feature in range(1, columns.shape[0]):
                total = total + columns[feature, row] * weights[direction, feature]
            values[direction, count] = total
            if direction < scored:
                count += not total < low
            else:
                count += total >= low
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
    `first_pass` of ``direction`` and ``threshold``, if made and scored."""
    if near is None or near.similarity is None:
        near = first_pass(index, [direction], threshold)[0]
    positions, inside = _positions(index, scope, near.rows)
    return positions, near.similarity if inside is None else near.similarity[inside]


def _positions(
    index: QueryIndex, scope: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """The positions in ``scope`` (ascending catalog rows) of those of ``rows`` (ascending) it
    holds, and which of ``rows`` those are (None: all of them)."""
    if len(scope) == index.size:  # every song: positions are rows
        return rows, None
    if len(scope) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(len(rows), dtype=bool)
    positions = np.minimum(np.searchsorted(scope, rows), len(scope) - 1)
    inside = scope[positions] == rows
    return positions[inside], inside


def reaching(
    index: QueryIndex,
    scope: np.ndarray,
    direction: np.ndarray,
    threshold: float,
    near: Near | None = None,
) -> np.ndarray:
    """The rows of ``scope`` (ascending) whose `similarity_to` ``direction`` is ``threshold``
    or more (a song scoring not a number reaches nothing), for a caller that counts them and
    needs no scores. ``near``: the `first_pass` of ``direction`` and ``threshold``, if made
    (scored or not)."""
    if near is None:
        near = first_pass(index, [direction], threshold, scored=0)[0]
    reached = near.rows
    if near.similarity is not None:
        reached = reached[near.similarity >= threshold]
    positions, _ = _positions(index, scope, reached)
    return positions if len(scope) == index.size else scope[positions]


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
