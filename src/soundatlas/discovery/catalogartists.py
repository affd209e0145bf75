"""Every artist of an atlas too big to load whole, found by id from its directory.

Artist ids are derived from the normalised name (`soundatlas.discovery.ids`), so an id cannot be
turned back into a name: the directory's artist credits are normalised once, each distinct
name's id computed and sorted (`SortedStrings`), and each artist's songs listed. The spark
engine saves this with the directory (`artist_parts`; `soundatlas reindex` adds it to an atlas
built before), so a server maps it; a lookup is then a binary search.
"""

from __future__ import annotations

import functools
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from soundatlas.discovery.artistgenres import GENRE_PARTS
from soundatlas.discovery.song import Artist
from soundatlas.discovery.sortedtext import SortedStrings, sort_order, take_rows
from soundatlas.discovery.text import derived_id, folded_names, name_keys
from soundatlas.discovery.textindex import Parts


def artist_parts(songs: pa.Table) -> Parts:
    """What `CatalogArtists` is made of, listed from the ``artists`` column of ``songs``:
    ``names`` (each artist's first credited spelling, by code), ``ids`` (their derived ids)
    and ``ids_order`` (the ids' sort order), ``rows`` (the songs crediting each artist, artist
    after artist) and ``ptr`` (where each artist's rows start in ``rows``). Saved with the
    directory (`soundatlas.discovery.directory.sort_parts`) so a server maps them."""
    credited = songs["artists"]
    lengths = pc.fill_null(pc.list_value_length(credited), 0).to_numpy(zero_copy_only=False)
    rows = np.repeat(np.arange(len(songs), dtype=np.int64), lengths)
    flat = pc.list_flatten(credited).combine_chunks().cast(pa.large_string())
    encoded = pc.dictionary_encode(name_keys(flat))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    keys = encoded.dictionary.to_pylist()
    _, first = np.unique(codes, return_index=True)
    ids = pa.chunked_array([pa.array([derived_id(k) for k in keys], type=pa.large_string())])
    order = np.argsort(codes, kind="stable")
    width = np.int32 if len(songs) < 2**31 else np.int64
    return {
        "names": pc.take(flat, pa.array(first, type=pa.int64())),
        "ids": ids.chunk(0),
        "ids_order": sort_order(ids),
        "rows": rows[order].astype(width),
        "ptr": np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(keys)))]),
    }


def primary_artist_codes(songs: pa.Table) -> np.ndarray:
    """A number per song of ``songs``: equal for songs whose first credited artist has the
    same key (`folded_names`, a missing name the key ``""``), -1 for a song crediting nobody.

    Which songs can be releases of one recording depends on their primary artist
    (`soundatlas.discovery.recordings.same_recording`); a search checks a thousand songs of
    the whole catalog a request, and folding their artists' names then took it a third of its
    time. Saved with the directory (``artists.primary`` of
    `soundatlas.discovery.directory.sort_parts`), the numbers are read instead."""
    credited = songs["artists"]
    count = pc.fill_null(pc.list_value_length(credited), 0).to_numpy(zero_copy_only=False)
    has = count > 0
    codes = np.full(len(songs), -1, dtype=np.int32 if len(songs) < 2**31 else np.int64)
    if has.any():
        first = pc.list_element(pc.filter(credited, pa.array(has)), 0)
        if isinstance(first, pa.ChunkedArray):
            first = first.combine_chunks()
        # Each distinct name folded once, then the songs numbered by their name's key.
        names = pc.dictionary_encode(pc.fill_null(first.cast(pa.large_string()), ""))
        keys = pc.dictionary_encode(folded_names(names.dictionary))
        of_name = keys.indices.to_numpy(zero_copy_only=False)
        codes[has] = of_name[names.indices.to_numpy(zero_copy_only=False)]
    return codes


class CatalogArtists:
    """The artists credited on the songs of a directory table (``artists`` and ``genres``
    list columns), from their `artist_parts` (listed here when not given)."""

    def __init__(self, songs: pa.Table, parts: Parts | None = None) -> None:
        parts = artist_parts(songs) if parts is None else parts
        self._songs = songs
        self._names = parts["names"]
        self._ids = SortedStrings(pa.chunked_array([parts["ids"]]), parts["ids_order"])
        self._rows = parts["rows"]
        self._ptr = parts["ptr"]
        # Each artist's genres ranked once (`artist_genres`), when saved with the directory.
        ranked = all(name in parts for name in GENRE_PARTS)
        self._genres = parts["genres"] if ranked else None
        self._genres_ptr = parts["genres_ptr"] if ranked else None
        self._genre_names = parts["genre_names"].to_pylist() if ranked else []
        self._best: np.ndarray | None = None
        self._lock = threading.Lock()

    def rows_of(self, artist_id: str) -> np.ndarray | None:
        """The rows of the songs crediting the artist with this id, or None."""
        code = self._ids.row_of(artist_id)
        if code is None:
            return None
        return np.asarray(self._rows[self._ptr[code] : self._ptr[code + 1]], dtype=np.int64)

    def best_popularity(self, artist_id: str) -> float | None:
        """The popularity of the most popular song of the artist with this id; None when no
        song of theirs has one, or no song credits them."""
        code = self._ids.row_of(artist_id)
        if code is None:
            return None
        value = self._best_popularity()[code]
        return None if np.isnan(value) else float(value)

    def _best_popularity(self) -> np.ndarray:
        """Each artist's best popularity (NaN when none), by code: one pass over every credit,
        made once (a server does so before serving: `warm`) rather than reading an artist's
        songs on every search that lists them."""
        if self._best is None:
            with self._lock:
                if self._best is None:
                    popularity = pc.cast(self._songs["popularity"], pa.float64())
                    values = popularity.to_numpy()[self._rows]
                    starts = np.asarray(self._ptr[:-1])
                    credited = starts < np.asarray(self._ptr[1:])
                    best = np.full(len(starts), np.nan)
                    if credited.any():
                        best[credited] = np.fmax.reduceat(values, starts[credited])
                    self._best = best
        return self._best

    def warm(self) -> None:
        """Make now what lookups would otherwise make on first use."""
        self._best_popularity()

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one per directory, kept as long)
    def find(self, artist_id: str) -> Artist | None:
        """The artist with this id: the first spelling credited, and the genres of their songs
        (most common first, then by name); None if no song credits them. Remembered for the
        last 4,096 artists asked for (a search page and its artist objects ask twice)."""
        code = self._ids.row_of(artist_id)
        if code is None:
            return None
        rows = self._rows[self._ptr[code] : self._ptr[code + 1]]
        if self._genres is not None and self._genres_ptr is not None:
            codes = self._genres[self._genres_ptr[code] : self._genres_ptr[code + 1]].tolist()
            return Artist(
                artist_id=artist_id,
                name=str(self._names[code].as_py()),
                genres=tuple(self._genre_names[c] for c in codes),
                songs=len(rows),
            )
        genres = pc.list_flatten(take_rows(self._songs, rows, ["genres"])["genres"])
        # Counted by Arrow: an artist of thousands of songs has tens of thousands of genre
        # credits, which one by one in Python took milliseconds.
        counted = pc.value_counts(genres)
        counts = zip(
            counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
        )
        ranked = sorted(counts, key=lambda item: (-item[1], item[0]))
        return Artist(
            artist_id=artist_id,
            name=str(self._names[code].as_py()),
            genres=tuple(g for g, _ in ranked),
            songs=len(rows),
        )
