"""A playlist's similarity, computed only for the songs that can reach its threshold.

A playlist keeps only songs whose similarity to its sound is at least the request's threshold
(0.70 or more), and each seed's pool counts the songs within it of that seed: at a million
loaded songs, a few thousand. Scoring every song exactly is a pass of nine multiply-adds over
the whole matrix of unit vectors (5 ms at 1,000,000 songs, per direction); instead a first
pass of BLAS products over a column-major float32 copy of the unit vectors (`unit_columns`)
keeps the songs within `MARGIN` of the threshold (`first_pass`: one pass for several
directions, a block of songs at a time), and only those are scored exactly
(`similarity_to`): every song for `within_reach`, only the few within `MARGIN` for
`reaching`.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numba
import numpy as np

from soundatlas.discovery.queryindex import QueryIndex

MARGIN = 1e-4
"""How far below the threshold the first pass still keeps a song (see the module docstring:
a hundred times the first pass's largest error)."""

_MADE: weakref.WeakKeyDictionary[QueryIndex, dict[str, np.ndarray]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def unit_columns(index: QueryIndex) -> np.ndarray:
    """The index's unit vectors as a column-major float32 array (one row per feature), made
    once per index: a product with one direction reads each feature's values in one run
    (3 times faster than over the row-major vectors). A server makes it before forking its
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


BLOCK = 32_768
"""Songs per BLAS product of `first_pass`: each block's product and scan stay in the cache,
and no array the size of the catalog is made per request (3 directions over the 1,000,425
songs of the 10M sampled atlas, one BLAS thread, loaded 2-core machine: products 1.1-1.5
ms, with the scan 3.9 ms; one product over every song 4 ms before any scan)."""


def all_rows(index: QueryIndex) -> np.ndarray:
    """Every catalog row, ascending (read-only, made once per index): the scope of every
    request without a cluster, rather than a new million-row range per request."""
    return _made_once(index, "rows", lambda: _read_only(np.arange(index.size)))


@dataclass(frozen=True)
class Near:
    """The songs of the catalog the first pass keeps for one direction and threshold: those
    whose first-pass similarity is not below the threshold less `MARGIN` (or not a number).

    Attributes
    ----------
    rows
        Their catalog rows, ascending.
    rough
        Their first-pass similarity.
    """

    rows: np.ndarray
    rough: np.ndarray


def first_pass(index: QueryIndex, directions: Sequence[np.ndarray], threshold: float) -> list[Near]:
    """The songs each of ``directions`` may reach ``threshold`` with (`Near`, one per
    direction), from one BLAS product over `unit_columns` `BLOCK` songs at a time: the
    vectors are read once however many directions there are (a playlist's reference and each
    seed's, `recommend`), and nothing the size of the catalog is made. The rows are
    `within_reach`'s and `reaching`'s ``near``."""
    columns = unit_columns(index)
    weights = np.asarray(np.stack(directions), dtype=np.float32)
    low = np.float32(threshold - MARGIN)
    rough = np.empty((len(weights), BLOCK), dtype=np.float32)
    found_rows = np.empty((len(weights), BLOCK), dtype=np.int64)
    found_rough = np.empty((len(weights), BLOCK), dtype=np.float32)
    rows: list[list[np.ndarray]] = [[] for _ in weights]
    values: list[list[np.ndarray]] = [[] for _ in weights]
    for start in range(0, columns.shape[1], BLOCK):
        block = columns[:, start : start + BLOCK]
        product = rough[:, : block.shape[1]]
        np.matmul(weights, block, out=product)
        counts = _kept(rough, block.shape[1], low, start, found_rows, found_rough)
        for number, count in enumerate(counts):
            rows[number].append(found_rows[number, :count].copy())
            values[number].append(found_rough[number, :count].copy())
    return [
        Near(np.concatenate(found), np.concatenate(similarity))
        for found, similarity in zip(rows, values, strict=True)
    ]


@numba.njit(cache=True, nogil=True)
def _kept(
    product: np.ndarray,
    size: int,
    low: np.float32,
    start: int,
    rows: np.ndarray,
    values: np.ndarray,
) -> np.ndarray:
    """For each direction (row of ``product``, whose first ``size`` columns are a block's
    songs: whole rows, so that every block has one compiled layout), the songs not below
    ``low`` (or not a number): their rows (``start`` + position) and values written to the
    front of its row of ``rows`` and ``values``, and how many (one compiled scan: finding
    them with numpy costs more than the product)."""
    counts = np.zeros(product.shape[0], dtype=np.int64)
    for direction in range(product.shape[0]):
        count = 0
        for position in range(size):
            value = product[direction, position]
            rows[direction, count] = start + position
            values[direction, count] = value
            count += not value < low  # written always, kept by moving on (no branch)
        counts[direction] = count
    return counts


def within_reach(
    index: QueryIndex,
    scope: np.ndarray,
    direction: np.ndarray,
    threshold: float,
    near: Near | None = None,
) -> np.ndarray:
    """Positions in ``scope`` (ascending catalog rows) of the songs whose `similarity_to`
    ``direction`` may be ``threshold`` or more (and of any whose score is not a number): every
    song left out scores below it. ``near``: the `first_pass` of ``direction`` and
    ``threshold``, if made."""
    return _in_scope(index, scope, direction, threshold, near)[0]


def reaching(
    index: QueryIndex,
    scope: np.ndarray,
    direction: np.ndarray,
    threshold: float,
    near: Near | None = None,
) -> np.ndarray:
    """The rows of ``scope`` (ascending) whose `similarity_to` ``direction`` is ``threshold``
    or more, for a caller that counts them and needs no scores: the first pass decides every
    song more than `MARGIN` from the threshold, and only the few within it are scored.
    ``near``: the `first_pass` of ``direction`` and ``threshold``, if made."""
    positions, rough = _in_scope(index, scope, direction, threshold, near)
    keep = rough >= threshold + MARGIN
    unsure = np.flatnonzero(~keep & (rough >= threshold - MARGIN))  # a NaN reaches nothing
    keep[unsure] = similarity_to(index, scope[positions[unsure]], direction) >= threshold
    return scope[positions[keep]]


def _in_scope(
    index: QueryIndex,
    scope: np.ndarray,
    direction: np.ndarray,
    threshold: float,
    near: Near | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The positions in ``scope`` of the songs the first pass keeps (``near``, made when not
    given), and their first-pass similarity."""
    if near is None:
        near = first_pass(index, [direction], threshold)[0]
    if len(scope) == index.size:  # every song: positions are rows
        return near.rows, near.rough
    if len(scope) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    positions = np.minimum(np.searchsorted(scope, near.rows), len(scope) - 1)
    inside = scope[positions] == near.rows
    return positions[inside], near.rough[inside]


def similarity_to(index: QueryIndex, rows: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The cosine similarity of the songs at ``rows`` to a unit ``direction`` (float32 sums
    feature by feature, as float64): the same for a song whichever rows are scored with it."""
    units = index.unit[np.asarray(rows, dtype=np.int64)]
    weights = np.asarray(direction, dtype=np.float32)
    total = units[:, 0] * weights[0]
    for feature in range(1, len(weights)):
        total += units[:, feature] * weights[feature]
    return total.astype(np.float64)
