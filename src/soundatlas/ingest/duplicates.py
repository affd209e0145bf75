"""Rows that are the same song twice: exact duplicate rows and repeated track ids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Duplicates:
    """Which rows stand for which.

    Attributes
    ----------
    representative
        For every row, the row kept as its track: itself, an earlier row, or -1 for rows
        that were not usable. Always a row that stands for itself (chains are resolved).
    exact
        Rows that repeat an earlier usable row exactly.
    repeated_id
        Rows (not exact repeats) whose track id an earlier usable row already has.
    """

    representative: np.ndarray
    exact: np.ndarray
    repeated_id: np.ndarray


def find_duplicates(
    row_hashes: np.ndarray, track_ids: np.ndarray, usable: np.ndarray
) -> Duplicates:
    """Fold exact repeats (same ``row_hashes``, one hash of each row's cells) into their first
    copy, then repeated ids into their first row."""
    n = len(row_hashes)
    representative = np.where(usable, np.arange(n), -1)
    rows = np.flatnonzero(usable)
    first = first_of_each(row_hashes[rows], rows)
    exact = np.zeros(n, dtype=bool)
    exact[rows] = first != rows
    representative[rows] = first
    rows = np.flatnonzero(usable & ~exact)
    first = first_of_each(np.asarray(track_ids)[rows], rows)
    repeated = np.zeros(n, dtype=bool)
    repeated[rows] = first != rows
    representative[rows] = first
    # An exact copy of a row that itself repeats an id must follow that row to its track.
    while True:
        linked = representative >= 0
        target = representative[linked]
        if np.array_equal(representative[target], target):
            break
        representative[linked] = representative[target]
    return Duplicates(representative, exact, repeated)


def combine_genres(
    genres: np.ndarray, representative: np.ndarray, merged: np.ndarray
) -> np.ndarray:
    """Genre lists of kept rows extended with those of the rows merged into them."""
    for row in np.flatnonzero(merged):
        target = representative[row]
        extra = [g for g in genres[row] if g not in genres[target]]
        if extra:
            genres[target] = [*genres[target], *extra]
    return genres


def first_of_each(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row, the first row (in file order) with the same key."""
    codes, _ = pd.factorize(keys)
    _, first_index = np.unique(codes, return_index=True)
    return rows[first_index[codes]]
