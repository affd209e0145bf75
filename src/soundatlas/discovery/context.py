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

import threading
import weakref

import numpy as np

from soundatlas.atlas.model import Atlas
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

_CACHE: dict[int, tuple[weakref.ref, dict[tuple[int, ...], np.ndarray]]] = {}
_LOCK = threading.Lock()


def check_similarity(kind: object) -> str:
    """``kind`` if it is one of `SIMILARITY_KINDS`, else a `ConfigError` naming them."""
    if kind not in SIMILARITY_KINDS:
        raise ConfigError(
            f"similarity {kind!r}: use one of {', '.join(SIMILARITY_KINDS)} (sound: the audio "
            "features only; sound+context: also popularity, release year, duration and genre)."
        )
    return str(kind)


def context_columns(atlas: Atlas) -> tuple[str, ...]:
    """The context columns this catalog has values for (a column of blanks adds nothing)."""
    tracks = atlas.tracks
    return tuple(c for c in CONTEXT_COLUMNS if c in tracks and tracks[c].notna().any())


def context_units(atlas: Atlas, scaled: np.ndarray, columns: tuple[int, ...]) -> np.ndarray:
    """Unit rows over the chosen sound columns and the context columns, cached per atlas.

    Every column is a z-score against the catalog (the sound columns of ``scaled`` too, so the
    weights do not depend on the scaling chosen at build), then each row is scaled to length 1.
    """
    with _LOCK:
        cached = _cached(atlas).get(columns)
    if cached is not None:
        return cached
    sound = _zscores(np.asarray(scaled, dtype=np.float64)[:, list(columns)])
    extra = [
        _zscores(atlas.tracks[c].to_numpy(dtype=np.float64, na_value=np.nan)[:, None])
        for c in context_columns(atlas)
    ]
    unit = unit_rows(np.hstack([sound, *extra]))
    remember_context_units(atlas, columns, unit)
    return unit


def remember_context_units(atlas: Atlas, columns: tuple[int, ...], unit: np.ndarray) -> None:
    """Keep ``unit`` as the `context_units` of ``atlas`` over ``columns`` (the ones saved with
    the atlas, say: `soundatlas.discovery.indexfiles`)."""
    with _LOCK:
        _cached(atlas)[columns] = unit


def _cached(atlas: Atlas) -> dict[tuple[int, ...], np.ndarray]:
    """The context units kept for ``atlas``, by columns; the caller holds `_LOCK`."""
    key = id(atlas)
    entry = _CACHE.get(key)
    if entry is None or entry[0]() is not atlas:
        entry = (weakref.ref(atlas), {})
        _CACHE[key] = entry
        weakref.finalize(atlas, _CACHE.pop, key, None)
    return entry[1]


def _zscores(values: np.ndarray) -> np.ndarray:
    """Each column less its mean over its spread; missing values become 0 (the average)."""
    mean = np.nanmean(values, axis=0)
    spread = np.nanstd(values, axis=0)
    out = (values - mean) / np.where(spread > 0, spread, 1.0)
    return np.nan_to_num(out, nan=0.0)


def genre_bonus(
    pair_rows: np.ndarray, pair_codes: np.ndarray, query_rows: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """`GENRE_WEIGHT` × the Jaccard share of genres between each of ``rows`` and the query
    songs' genres together (0 for songs without genres).

    Genres come as codes, one (song, genre) pair each, in song order (``pair_rows``
    ascending; `soundatlas.discovery.index.GenreRows`): array arithmetic over a few hundred
    songs, where sets of their genre labels cost more, and read the labels' Python objects,
    whose reference counts copy the pages of the atlas a forked server worker shares.
    """
    wanted = np.unique(_codes_of(pair_rows, pair_codes, np.asarray(query_rows))[1])
    bonus = np.zeros(len(rows), dtype=np.float64)
    if not len(wanted):
        return bonus
    owner, codes = _codes_of(pair_rows, pair_codes, np.asarray(rows))
    kinds = int(max(pair_codes.max(initial=0), wanted.max())) + 1
    distinct = np.unique(owner * kinds + codes)  # a genre listed twice by a song counts once
    owner, codes = distinct // kinds, distinct % kinds
    listed = np.bincount(owner, minlength=len(rows))
    shared = np.bincount(owner[np.isin(codes, wanted)], minlength=len(rows)).astype(np.float64)
    has = listed > 0
    bonus[has] = GENRE_WEIGHT * shared[has] / (len(wanted) + listed[has] - shared[has])
    return bonus


def _codes_of(
    pair_rows: np.ndarray, pair_codes: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The (position in ``rows``, genre code) pairs of ``rows``."""
    start = np.searchsorted(pair_rows, rows, side="left")
    lengths = np.searchsorted(pair_rows, rows, side="right") - start
    owner = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return owner, pair_codes[np.repeat(start, lengths) + offsets]


def genre_set(genres: object) -> set[str]:
    """A song's genres as a set (a list, an array from Parquet, or nothing)."""
    return set() if genres is None else {str(g) for g in genres}  # type: ignore[attr-defined]
