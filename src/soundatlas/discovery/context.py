"""Similarity by sound alone, or by sound and context (popularity, release year, duration, genre).

Two songs can sound alike and belong to different worlds: a 1960s ballad and a 2019 ballad
share acousticness and tempo, not listeners. "sound + context" compares songs on the audio
features *and* on popularity, release year and duration (each as a z-score against the catalog,
weighted like one audio feature; a missing value counts as average), then, when the catalog has
genres, adds `GENRE_WEIGHT` × the share of genres two songs have in common (Jaccard) to the
cosine of the best `RERANK_POOL` × n candidates. On ``tracks_11k_genres.csv`` this lifts the
share of the top 10 sharing the query's genre from 6.8% (sound) to 68.5% (12.5% with
popularity, year and duration alone; base rate 0.9%); the table for every real table is in the
README (``benchmarks/similarity.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from soundatlas.discovery.nearest import unit_rows
from soundatlas.errors import ConfigError

SOUND, SOUND_CONTEXT = "sound", "sound+context"
SIMILARITY_KINDS: tuple[str, ...] = (SOUND, SOUND_CONTEXT)
DEFAULT_SIMILARITY = SOUND_CONTEXT
"""Chosen from ``benchmarks/similarity.py``: sound+context gives the higher same-genre
precision@10 on every real table with genres (with genre and without)."""
CONTEXT_COLUMNS: tuple[str, ...] = ("popularity", "release_year", "duration_ms")
GENRE_WEIGHT = 0.3
"""Added to the cosine for songs whose genres are the query's (scaled by their Jaccard share)."""
RERANK_POOL = 20
"""Candidates per result re-ranked with genres (``n × RERANK_POOL``, at least 200)."""


def check_similarity(kind: object) -> str:
    """``kind`` if it is one of `SIMILARITY_KINDS`, else a `ConfigError` naming them."""
    if kind not in SIMILARITY_KINDS:
        raise ConfigError(
            f"similarity {kind!r}: use one of {', '.join(SIMILARITY_KINDS)} (sound: the audio "
            "features only; sound+context: also popularity, release year, duration and genre)."
        )
    return str(kind)


def context_columns(
    has: Callable[[str], bool], numbers: Callable[[str], np.ndarray]
) -> tuple[str, ...]:
    """The context columns a catalog has values for (a column of blanks adds nothing), given
    whether its track table ``has`` a column and a column's ``numbers`` (NaN where missing)."""
    return tuple(c for c in CONTEXT_COLUMNS if has(c) and not np.isnan(numbers(c)).all())


def context_unit_rows(
    scaled: np.ndarray, columns: tuple[int, ...], context: list[np.ndarray]
) -> np.ndarray:
    """Unit rows over the chosen sound ``columns`` of ``scaled`` and the ``context`` columns
    (float64, NaN where missing; those `context_columns` names).

    Every column is a z-score against the catalog (the sound columns too, so the weights do not
    depend on the scaling chosen at build), then each row is scaled to length 1. The discovery
    index keeps them per set of columns (`QueryIndex.context_unit_for`), and saves those over
    every column with the atlas.
    """
    sound = _zscores(np.asarray(scaled, dtype=np.float64)[:, list(columns)])
    extra = [_zscores(np.asarray(values, dtype=np.float64)[:, None]) for values in context]
    return unit_rows(np.hstack([sound, *extra]))


def _zscores(values: np.ndarray) -> np.ndarray:
    """Each column less its mean over its spread; missing values become 0 (the average)."""
    mean = np.nanmean(values, axis=0)
    spread = np.nanstd(values, axis=0)
    out = (values - mean) / np.where(spread > 0, spread, 1.0)
    return np.nan_to_num(out, nan=0.0)


def genre_bonus(query_genres: list, genres: list) -> np.ndarray:
    """`GENRE_WEIGHT` × the Jaccard share of genres between each song's ``genres`` and the
    query songs' genres together (``query_genres``: one collection per query song; 0 for songs
    without genres). The genres may be labels or codes (`QueryIndex.genre_keys_of`)."""
    if _all_codes(query_genres) and _all_codes(genres):
        return _bonus_of_codes(query_genres, genres)
    wanted: set[str] = set()
    for listed in query_genres:
        wanted |= genre_set(listed)
    bonus = np.zeros(len(genres), dtype=np.float64)
    if not wanted:
        return bonus
    for i, listed in enumerate(genres):
        found = genre_set(listed)
        if found:
            bonus[i] = GENRE_WEIGHT * len(found & wanted) / len(found | wanted)
    return bonus


def _all_codes(collections: list) -> bool:
    return all(isinstance(c, np.ndarray) and c.dtype.kind in "iu" for c in collections)


def _bonus_of_codes(query_genres: list, genres: list) -> np.ndarray:
    """`genre_bonus` of genre codes, in array operations: the same shares (the same
    arithmetic, in the same order), without a Python set per song (a fifth of a similar-songs
    request with 200 songs to re-rank)."""
    bonus = np.zeros(len(genres), dtype=np.float64)
    wanted = np.unique(np.concatenate([np.zeros(0, np.int64), *query_genres]))
    if not len(wanted) or not len(genres):
        return bonus
    lengths = np.fromiter(map(len, genres), dtype=np.int64, count=len(genres))
    codes = np.concatenate(genres).astype(np.int64)
    owner = np.repeat(np.arange(len(genres), dtype=np.int64), lengths)
    width = int(max(codes.max(initial=0), wanted.max())) + 1
    pairs = np.unique(owner * width + codes)  # each song's genres once
    owner, codes = pairs // width, pairs % width
    size = np.bincount(owner, minlength=len(genres))
    shared = np.bincount(owner[np.isin(codes, wanted)], minlength=len(genres))
    listed = size > 0
    bonus[listed] = GENRE_WEIGHT * shared[listed] / (size + len(wanted) - shared)[listed]
    return bonus


def genre_set(genres: object) -> set[str]:
    """A song's genres as a set (a list, an array from Parquet, or nothing)."""
    return set() if genres is None else {str(g) for g in genres}  # type: ignore[attr-defined]
