"""Every artist of an atlas too big to load whole, found by id from its directory.

Artist ids are derived from the normalised name (`soundatlas.discovery.ids`), so an id cannot be
turned back into a name: the directory's artist credits are normalised once, each distinct
name's id computed and sorted (`SortedStrings`), and each artist's songs listed. A server does
this before it serves (`SongDirectory.sort_ids`); a lookup is then a binary search.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from soundatlas.discovery.song import Artist
from soundatlas.discovery.sortedtext import SortedStrings, take_rows
from soundatlas.discovery.text import derived_id, name_keys


class CatalogArtists:
    """The artists credited on the songs of a directory table (``artists`` and ``genres``
    list columns)."""

    def __init__(self, songs: pa.Table) -> None:
        self._songs = songs
        credited = songs["artists"]
        lengths = pc.fill_null(pc.list_value_length(credited), 0).to_numpy(zero_copy_only=False)
        rows = np.repeat(np.arange(len(songs), dtype=np.int64), lengths)
        flat = pc.list_flatten(credited).combine_chunks().cast(pa.large_string())
        encoded = pc.dictionary_encode(name_keys(flat))
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        keys = encoded.dictionary.to_pylist()
        _, first = np.unique(codes, return_index=True)
        self._names = pc.take(flat, pa.array(first, type=pa.int64()))
        self._ids = SortedStrings(pa.chunked_array([pa.array([derived_id(k) for k in keys])]))
        order = np.argsort(codes, kind="stable")
        self._rows = rows[order]
        self._ptr = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(keys)))])

    def find(self, artist_id: str) -> Artist | None:
        """The artist with this id: the first spelling credited, and the genres of their songs
        (most common first, then by name); None if no song credits them."""
        code = self._ids.row_of(artist_id)
        if code is None:
            return None
        rows = self._rows[self._ptr[code] : self._ptr[code + 1]]
        genres = take_rows(self._songs, rows, ["genres"])["genres"]
        counts: dict[str, int] = {}
        for genre in pc.list_flatten(genres).to_pylist():
            counts[genre] = counts.get(genre, 0) + 1
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return Artist(
            artist_id=artist_id,
            name=str(self._names[code].as_py()),
            genres=tuple(g for g, _ in ranked),
            songs=len(rows),
        )
