"""What every discovery function needs, computed once per atlas and shared.

Building it costs a pass over the catalog (text keys, artist table, unit vectors: about a second
per 100k songs); every lookup after that only slices arrays. `discovery_index` keeps one index
per live `Atlas` and drops it when the atlas is garbage-collected, so a dashboard holding one
atlas in ``st.cache_resource`` builds it once for all sessions. The index is read-only after
construction and safe to share between threads.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.result import LABEL_COLUMNS, PERSONA_COLUMNS
from soundatlas.discovery.directory import SongDirectory
from soundatlas.discovery.filters import FilterIndex
from soundatlas.discovery.indexfiles import stored_parts
from soundatlas.discovery.queryindex import QueryIndex
from soundatlas.discovery.recordings import (
    recording_groups,
    recording_sound,
    recording_title_codes,
)
from soundatlas.discovery.song import SONG_VALUES, Song
from soundatlas.discovery.text import derived_id, name_keys
from soundatlas.discovery.textindex import Parts, sorted_unique

DETAIL_COLUMNS: tuple[str, ...] = SONG_VALUES
"""Track columns carried into every song table, after names and clusters."""

_INDEXES: dict[int, DiscoveryIndex] = {}
_LOCK = threading.Lock()


def discovery_index(atlas: Atlas) -> DiscoveryIndex:
    """The discovery index of ``atlas``, built on first use and reused while the atlas lives."""
    key = id(atlas)
    index = _INDEXES.get(key)
    if index is not None and index.atlas_ref() is atlas:
        return index
    with _LOCK:
        index = _INDEXES.get(key)
        if index is None or index.atlas_ref() is not atlas:
            index = DiscoveryIndex(atlas, stored_parts(atlas))
            _INDEXES[key] = index
            weakref.finalize(atlas, _INDEXES.pop, key, None)
    return index


def _one_chunk(column: pd.Series) -> pd.api.extensions.ExtensionArray:
    """A text column as a pandas string array of one Arrow chunk: taking rows from one of
    many chunks (a sampled atlas's sample, read from several Parquet row groups) joins them
    first, 2 ms a take at 1,000,000 songs against 0.01 ms."""
    values = pa.array(column.astype("str").array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pd.array(values, dtype="str")


class DiscoveryIndex(QueryIndex):
    """The `QueryIndex` of a loaded atlas, plus what result tables, filters and charts need.

    Attributes (beyond `QueryIndex`'s)
    ----------------------------------
    artists
        One row per artist: ``artist`` (most common spelling), ``key``, ``songs``,
        ``popularity`` (of their most popular song).
    personas
        Each song's persona per method, as a categorical.
    """

    def __init__(self, atlas: Atlas, parts: Parts | None = None) -> None:
        self.atlas_ref = weakref.ref(atlas)
        tracks = atlas.tracks
        super().__init__(TrackTable(atlas), parts)
        self.personas = {m: _categorical(tracks[PERSONA_COLUMNS[m]]) for m in self.methods}
        self.track_ids = pd.Index(self.ids)
        self._lazy["artist_lists"] = tracks["artists"].to_numpy(dtype=object)
        self._lazy["genre_lists"] = tracks["genres"].to_numpy(dtype=object)
        # Typed once, so result tables need no per-call string conversion.
        self._id_column = _one_chunk(tracks["track_id"])
        self._name_column = _one_chunk(tracks["name"])
        if parts is None:
            self._artist_column = pd.array([", ".join(a) for a in self.artist_lists], dtype="str")
            self._genre_column = pd.array([", ".join(g) for g in self.genre_lists], dtype="str")
        else:
            self._artist_column = pd.array(parts["artists_text"], dtype="str")
            self._genre_column = pd.array(parts["genres_text"], dtype="str")
        # Plain float arrays where possible: they enter a DataFrame faster than extension arrays.
        self.details = {
            c: tracks[c].to_numpy() if tracks[c].dtype == np.float64 else tracks[c].array
            for c in DETAIL_COLUMNS
            if c in tracks
        }
        raw = tracks[list(self.features)].to_numpy(dtype=np.float64)
        self.feature_mean = raw.mean(axis=0)
        spread = raw.std(axis=0)
        self.feature_std = np.where(spread > 0, spread, 1.0)
        self._filters: FilterIndex | None = None
        self._ids: pd.Index | None = None
        self._genres: GenreRows | None = None
        self._directory: SongDirectory | None = None
        self._artists: pd.DataFrame | None = None
        if parts is None:
            self._build_artists()
            self._build_keys()
            self._build_recordings(tracks)

    def parts(self) -> Parts:
        """What this index saves with its atlas (`soundatlas.discovery.stored`), so that a
        query process maps it instead of building it: the unit vectors of both similarities,
        everything derived from text (artist codes, name keys, recordings, the text lookups)
        and the songs' artists and genres as text. The rest costs milliseconds."""
        atlas = self.atlas_ref()
        if atlas is None:
            raise ReferenceError("the atlas of this index is gone")
        return {
            "unit": self.unit,
            "context_unit": self.context_unit_for(self.feature_columns(None)),
            "artists_text": pa.array(self._artist_column, type=pa.large_string()),
            "genres_text": pa.array(self._genre_column, type=pa.large_string()),
            "primary_artist": self.primary_artist,
            "row_artist_ptr": self.row_artist_ptr,
            "row_artist_codes": self.row_artist_codes,
            "artist_keys": self.artist_keys,
            "artist_display": pa.array(self.artist_names, type=pa.large_string()),
            "title_keys": self.title_keys,
            "recording": self.recording,
            **self.text.parts(),
        }

    # ------------------------------------------------------------------------------ building

    def _build_artists(self) -> None:
        lengths = np.fromiter(map(len, self.artist_lists), dtype=np.int64, count=self.size)
        flat = pa.array(list(chain.from_iterable(self.artist_lists)), type=pa.large_string())
        pair_rows = np.repeat(np.arange(self.size, dtype=np.int64), lengths)
        spelled = pc.dictionary_encode(flat)
        spelling_keys = name_keys(spelled.dictionary)
        encoded = pc.dictionary_encode(spelling_keys)
        key_of_spelling = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        keys = encoded.dictionary
        spelling = spelled.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        codes = key_of_spelling[spelling] if len(spelling) else spelling
        n_artists = len(keys)
        primary = np.full(self.size, -1, dtype=np.int64)
        credited = lengths > 0
        primary[credited] = codes[(np.cumsum(lengths) - lengths)[credited]]
        pairs = sorted_unique(pair_rows * max(n_artists, 1) + codes)
        pair_rows, codes = pairs // max(n_artists, 1), pairs % max(n_artists, 1)
        pointers = np.concatenate(
            [[0], np.cumsum(np.bincount(pair_rows, minlength=self.size))]
        ).astype(np.int64)
        display = _display_names(spelled, key_of_spelling)
        self._artists_from(primary, pointers, codes, keys, display)

    @property
    def artists(self) -> pd.DataFrame:
        """One row per artist (see the class's attributes), made on first use."""
        if self._artists is None:
            with self._lazy_lock:
                if self._artists is None:
                    self._artists = pd.DataFrame(
                        {
                            "artist": pd.array(self.artist_names, dtype="str"),
                            "key": self.artist_keys.to_pandas(types_mapper=pd.ArrowDtype).astype(
                                "str"
                            ),
                            "songs": self.artist_songs,
                            "popularity": self.artist_popularity,
                        }
                    )
        return self._artists

    def _build_keys(self) -> None:
        self._title_keys = name_keys(pa.array(self.names, type=pa.large_string())).cast(
            pa.large_string()
        )

    def _build_recordings(self, tracks: pd.DataFrame) -> None:
        titles = recording_title_codes(
            pa.array(self.names, type=pa.large_string()), self.title_keys
        )
        self._recordings_from(
            recording_groups(self.primary_artist, titles, recording_sound(tracks))
        )

    @property
    def filters(self) -> FilterIndex:
        """Arrays for filtering and charts (`soundatlas.discovery.filters`), built on first use
        from this index's labels, persona names and artists."""
        if self._filters is None:
            with self._lazy_lock:
                if self._filters is None:
                    self._filters = FilterIndex(self._atlas(), self)
        return self._filters

    @property
    def directory(self) -> SongDirectory | None:
        """Every song of an atlas too big to load whole, memory-mapped, and its similar-songs
        index (`soundatlas.discovery.directory`), opened on first use; None for an atlas whose
        every song is loaded."""
        if not self.sampled:
            return None
        if self._directory is None:
            with self._lazy_lock:
                if self._directory is None:
                    self._directory = SongDirectory(self._atlas())
        return self._directory

    def _atlas(self) -> Atlas:
        atlas = self.atlas_ref()
        if atlas is None:
            raise ReferenceError("the atlas of this index is gone")
        return atlas

    def song(self, row: int) -> Song:
        """The loaded song at ``row``."""
        return self.songs([row])[0]

    def songs(self, rows: Sequence[int]) -> list[Song]:
        """The loaded songs at ``rows``, each column read for all of them at once."""
        rows = np.asarray(rows, dtype=np.int64)
        values = self.values_at(rows, self.details)
        names = list(values)
        per_song = [dict(zip(names, v, strict=True)) for v in zip(*values.values(), strict=True)]
        if not names:
            per_song = [{} for _ in range(len(rows))]
        labels = {m: self.labels[m][rows].tolist() for m in self.methods}
        personas = {m: self._persona_texts(m, rows) for m in self.methods}
        return [
            Song(
                track_id=str(self.ids[row]),
                name=str(self.names[row]),
                artists=tuple(str(a) for a in self.artist_lists[row]),
                genres=tuple(str(g) for g in _listed(self.genre_lists[row])),
                values=per_song[i],
                clusters={m: (labels[m][i], personas[m][i]) for m in self.methods},
                row=row,
            )
            for i, row in enumerate(rows.tolist())
        ]

    def _persona_texts(self, method: str, rows: np.ndarray) -> list[str]:
        """`Song.clusters`' persona names of ``method`` at ``rows`` (``"nan"`` where a song has
        none), from the persona codes: taking the categorical cost more than the rest of
        reading a song."""
        return ["nan" if p is None else str(p) for p in self.persona_names(method, rows)]

    def values_at(self, rows: np.ndarray, columns: Sequence[str]) -> dict[str, list]:
        """The `DETAIL_COLUMNS` among ``columns`` that the catalog has, at ``rows``: one list
        per column, each value as `Song.values` holds it."""
        rows = np.asarray(rows, dtype=np.int64)
        found = {}
        for column in columns:
            values = self.details.get(column)
            if values is not None:
                taken = values[rows] if isinstance(values, np.ndarray) else values.take(rows)
                found[column] = taken.tolist()
        return found

    @property
    def artist_ids(self) -> np.ndarray:
        """Each artist's id (position = artist code), derived from the normalised name (see
        `soundatlas.discovery.ids`); built on first use."""
        return self._artist_id_index().to_numpy(dtype=object)

    def artist_code_of_id(self, artist_id: str) -> int | None:
        """The code of the artist with this id, or None."""
        ids = self._artist_id_index()
        return int(ids.get_loc(artist_id)) if artist_id in ids else None

    def _artist_id_index(self) -> pd.Index:
        if self._ids is None:
            with self._lazy_lock:
                if self._ids is None:
                    keys = self.artists["key"].astype(str)
                    self._ids = pd.Index([derived_id(k) for k in keys], dtype=object)
        return self._ids

    @property
    def genres(self) -> GenreRows:
        """Every genre of the catalog and the rows listing it; built on first use."""
        if self._genres is None:
            with self._lazy_lock:
                if self._genres is None:
                    self._genres = GenreRows(self.genre_lists)
        return self._genres

    def genre_keys_of(self, rows: Sequence[int] | np.ndarray) -> list:
        """The genre codes of the songs at ``rows`` (`GenreRows`), not their labels: a few
        hundred small arrays, where reading the labels' Python objects would touch their
        reference counts and so copy the pages of the atlas a forked server worker shares."""
        genres = self.genres
        rows = np.asarray(rows, dtype=np.int64)
        starts = np.searchsorted(genres.pair_rows, rows, side="left")
        ends = np.searchsorted(genres.pair_rows, rows, side="right")
        codes = genres.pair_codes
        return [codes[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)]

    def song_columns(self, rows: np.ndarray) -> dict[str, object]:
        """The standard columns of a song table for ``rows``: ids, names, clusters, details.

        Returned as a dict so callers put their own columns (rank, similarity) first and build
        the DataFrame once.
        """
        rows = np.asarray(rows, dtype=np.int64)
        columns: dict[str, object] = {
            "row": rows,
            "track_id": self._id_column.take(rows),
            "name": self._name_column.take(rows),
            "artists": self._artist_column.take(rows),
        }
        for method in self.methods:
            columns[LABEL_COLUMNS[method]] = self.labels[method][rows]
            columns[PERSONA_COLUMNS[method]] = self.personas[method].take(rows)
        columns["genres"] = self._genre_column.take(rows)
        for name, values in self.details.items():
            columns[name] = values[rows] if isinstance(values, np.ndarray) else values.take(rows)
        return columns

    def row_of_id(self, track_id: str) -> int | None:
        """As `QueryIndex.row_of_id`, from a hash table of the ids (a server looks up many)."""
        try:
            found = self.track_ids.get_loc(track_id)
        except KeyError:
            return None
        if isinstance(found, (int, np.integer)):
            return int(found)
        positions = np.flatnonzero(found) if isinstance(found, np.ndarray) else [found.start]
        return int(positions[0])

    def candidate_columns(self, rows: np.ndarray) -> dict[str, object]:
        """As `QueryIndex.candidate_columns`, typed as the song tables are."""
        return self.song_columns(rows)


class TrackTable:
    """A loaded atlas's track table as the `SongSource` of its `QueryIndex`."""

    def __init__(self, atlas: Atlas) -> None:
        # Not the atlas itself: its index must not keep it alive (`discovery_index`).
        self.tracks = atlas.tracks
        self._scaled = atlas.scaled
        self._cluster_names = {
            m: dict(zip(t["cluster"].astype(int), t["persona"].astype(str), strict=True))
            for m, t in ((m, atlas.personas_of(m)) for m in atlas.methods)
        }
        self.size = len(self.tracks)
        self.features = tuple(atlas.scaler.features)
        self.methods = tuple(atlas.methods)
        self.sampled = atlas.sampled
        self.center, self.scale = atlas.scaler.center, atlas.scaler.scale

    def scaled(self) -> np.ndarray:
        """`Atlas.scaled`."""
        return self._scaled

    def has(self, column: str) -> bool:
        """Whether the track table has ``column``."""
        return column in self.tracks

    def text(self, column: str) -> pa.Array:
        """A text column as an Arrow large_string array."""
        values = self.tracks[column].astype(str).to_numpy(dtype=object)
        return pa.array(values, type=pa.large_string())

    def floats(self, column: str) -> np.ndarray:
        """A numeric column as float64, NaN where missing."""
        return self.tracks[column].to_numpy(dtype=np.float64, na_value=np.nan)

    def lists(self, column: str, rows: np.ndarray | None = None) -> list[list[str]]:
        """A column of name lists for ``rows`` (all when None)."""
        values = self.tracks[column].to_numpy(dtype=object)
        chosen = values if rows is None else values[np.asarray(rows, dtype=np.int64)]
        return [list(_listed(v)) for v in chosen]

    def labels(self, method: str) -> np.ndarray:
        """Each song's cluster of ``method``."""
        return self.tracks[LABEL_COLUMNS[method]].to_numpy(np.int32)

    def personas(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """Each song's persona of ``method``: codes into names."""
        names = _categorical(self.tracks[PERSONA_COLUMNS[method]])
        return np.asarray(names.codes), names.categories.to_numpy(dtype=object)

    def cluster_names(self, method: str) -> dict[int, str]:
        """The persona name of each cluster of ``method``."""
        return self._cluster_names[method]

    def values(self, column: str, rows: np.ndarray) -> object:
        """A column's values at ``rows``, as the track table holds them."""
        return self.tracks[column].array.take(np.asarray(rows, dtype=np.int64))


class GenreRows:
    """The catalog's genre labels (sorted) and, for each, the rows whose genre list holds it."""

    def __init__(self, genre_lists: np.ndarray) -> None:
        lengths = np.fromiter(map(len, genre_lists), dtype=np.int64, count=len(genre_lists))
        flat = pa.array(list(chain.from_iterable(genre_lists)), type=pa.large_string())
        encoded = pc.dictionary_encode(flat)
        names = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
        order = np.argsort(names, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes = rank[encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
        rows = np.repeat(np.arange(len(genre_lists), dtype=np.int64), lengths)
        by_genre = np.lexsort((rows, codes))
        self.names: tuple[str, ...] = tuple(str(n) for n in names[order])
        self._rows = rows[by_genre]
        self._ptr = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(order)))])
        self._codes = {name: code for code, name in enumerate(self.names)}
        self.pair_codes = codes
        """For every (song, genre) pair in song order: the genre's code (its position in
        ``names``)…"""
        self.pair_rows = rows
        """…and the song."""

    def rows_of(self, genre: str) -> np.ndarray | None:
        """Rows listing ``genre`` (exactly as the catalog spells it), ascending; None when no
        song does."""
        code = self._codes.get(genre)
        if code is None:
            return None
        return np.unique(self._rows[self._ptr[code] : self._ptr[code + 1]])


def _display_names(spelled: pa.DictionaryArray, key_of_spelling: np.ndarray) -> np.ndarray:
    """The display name of each artist: the spelling most songs use, ties to the earliest."""
    spellings = spelled.dictionary.to_numpy(zero_copy_only=False)
    spelling_codes = spelled.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if len(spelling_codes) == 0:
        return np.zeros(0, dtype=object)
    table = pd.DataFrame(
        {
            "artist": key_of_spelling[spelling_codes],
            "spelling": spelling_codes,
            "first": np.arange(len(spelling_codes)),
        }
    )
    counts = table.groupby(["artist", "spelling"], sort=False).agg(
        count=("first", "size"), first=("first", "min")
    )
    counts = counts.reset_index().sort_values(
        ["artist", "count", "first"], ascending=[True, False, True]
    )
    chosen = counts.drop_duplicates("artist")["spelling"].to_numpy()
    return spellings[chosen].astype(object)


def _listed(values: object) -> object:
    return () if values is None else values


def _categorical(column: pd.Series) -> pd.Categorical:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array
    return pd.Categorical(column.astype(str))
