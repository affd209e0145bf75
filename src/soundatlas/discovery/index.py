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
from soundatlas.discovery.context import context_units, remember_context_units
from soundatlas.discovery.directory import SongDirectory
from soundatlas.discovery.filters import FilterIndex
from soundatlas.discovery.indexfiles import stored_parts
from soundatlas.discovery.nearest import unit_rows
from soundatlas.discovery.recordings import (
    recording_groups,
    recording_sound,
    recording_title_codes,
)
from soundatlas.discovery.song import SONG_VALUES, Song
from soundatlas.discovery.text import derived_id, name_keys
from soundatlas.discovery.textindex import Parts, SortedNames, TextIndex, sorted_unique

DETAIL_COLUMNS: tuple[str, ...] = SONG_VALUES
"""Track columns carried into every song table, after names and clusters."""

_SUBSET_CACHE = 8
_AT_CENTRE = 1e-6
"""Offsets from the catalog mean shorter than this (scaled units) count as no direction: the
scaled values are float32, so a song at the mean can sit a rounding error away from it."""
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


class DiscoveryIndex:
    """Arrays derived from an atlas for fast lookups.

    Attributes
    ----------
    features
        The scaled features (the atlas's clustering features), in matrix column order.
    scaled, centre, unit
        Scaled features as float32; their catalog mean; and each row less that mean, scaled
        to length 1 (cosine = dot). Similarity is the angle seen from the catalog's average
        sound under every scaling: standard scaling puts the mean at zero, but min-max puts the
        least value there and robust the median, and angles from those corners say little.
    title_keys, song_keys, reverse_keys
        Normalised ``title``, ``title artists`` and ``artists title`` of every song (see
        `soundatlas.discovery.text`); `text` holds the lookups built on them.
    primary_artist
        Code of each song's first listed artist (-1 for a song without artists).
    recording, releases
        The recording each song is a release of, numbered from 0 (see
        `soundatlas.discovery.recordings`: same primary artist, and the same title once
        release qualifiers such as "- Remastered 2011" are removed or every audio feature
        equal within rounding); and how many songs of the catalog each recording has.
    artists
        One row per artist (artists are identified by normalised name): ``artist`` (most
        common spelling), ``key``, ``songs``, ``popularity`` (of their most popular song).
    artist_unit
        Each artist's mean scaled profile less the catalog mean, as a unit vector (row i =
        artist i).
    """

    def __init__(self, atlas: Atlas, parts: Parts | None = None) -> None:
        self.atlas_ref = weakref.ref(atlas)
        tracks = atlas.tracks
        self.size = len(tracks)
        self.features: tuple[str, ...] = tuple(atlas.scaler.features)
        self.scaled = np.ascontiguousarray(atlas.scaled, dtype=np.float32)
        self.centre = self.scaled.mean(axis=0, dtype=np.float64)
        self.unit = unit_rows(self.scaled, self.centre) if parts is None else parts["unit"]
        self.methods: tuple[str, ...] = tuple(atlas.methods)
        self.labels = {m: tracks[LABEL_COLUMNS[m]].to_numpy(np.int32) for m in self.methods}
        for labels in self.labels.values():
            labels.flags.writeable = False  # shared by every session and front door
        self.personas = {m: _categorical(tracks[PERSONA_COLUMNS[m]]) for m in self.methods}
        self.cluster_names = {
            m: dict(zip(t["cluster"].astype(int), t["persona"].astype(str), strict=True))
            for m, t in ((m, atlas.personas_of(m)) for m in self.methods)
        }
        self.ids = tracks["track_id"].astype(str).to_numpy(dtype=object)
        self.track_ids = pd.Index(self.ids)
        self.names = tracks["name"].astype(str).to_numpy(dtype=object)
        self.artist_lists = tracks["artists"].to_numpy(dtype=object)
        self.genre_lists = tracks["genres"].to_numpy(dtype=object)
        # Typed once, so result tables need no per-call string conversion.
        self._id_column = tracks["track_id"].astype("str").array
        self._name_column = tracks["name"].astype("str").array
        if parts is None:
            self._artist_column = pd.array([", ".join(a) for a in self.artist_lists], dtype="str")
            self._genre_column = pd.array([", ".join(g) for g in self.genre_lists], dtype="str")
        else:
            self._artist_column = pd.array(parts["artists_text"], dtype="str")
            self._genre_column = pd.array(parts["genres_text"], dtype="str")
        self.popularity = tracks["popularity"].to_numpy(dtype=np.float64, na_value=np.nan)
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
        self.scale = atlas.scaler.scale
        self._center = atlas.scaler.center
        self._subsets: dict[tuple[int, ...], np.ndarray] = {}
        self._subset_lock = threading.Lock()
        self._numbers: dict[str, np.ndarray] = {}
        self._spreads: dict[str, float] = {}
        self._text: NameIndexes | None = None
        self._filters: FilterIndex | None = None
        self._lazy_lock = threading.RLock()  # lazy parts build on each other (filters on genres)
        self._ids: pd.Index | None = None
        self._genres: GenreRows | None = None
        self.sampled = atlas.sampled
        self._directory: SongDirectory | None = None
        self._pairs: tuple[pa.Array, pa.Array] | None = None
        if parts is None:
            self._build_artists()
            self._build_keys()
            self._build_recordings(tracks)
        else:
            self._artists_from(
                parts["primary_artist"],
                parts["row_artist_ptr"],
                parts["row_artist_codes"],
                parts["artist_keys"],
                parts["artist_display"].to_numpy(zero_copy_only=False),
            )
            self.title_keys = parts["title_keys"].cast(pa.large_string())
            self._recordings_from(parts["recording"])
            self._text = NameIndexes.from_parts(self, parts)
            remember_context_units(atlas, self.feature_columns(None), parts["context_unit"])

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
            "context_unit": context_units(atlas, self.scaled, self.feature_columns(None)),
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

    def _artists_from(
        self,
        primary: np.ndarray,
        pointers: np.ndarray,
        codes: np.ndarray,
        keys: pa.Array,
        display: np.ndarray,
    ) -> None:
        """The artist arrays from each song's primary artist, its artist codes (``codes``
        between ``pointers``, ascending per song) and each artist's key and display name."""
        n_artists = len(keys)
        self.primary_artist = primary
        self.row_artist_ptr = pointers
        self.row_artist_codes = codes
        pair_rows = np.repeat(np.arange(self.size, dtype=np.int64), np.diff(pointers))
        self.artist_pair_rows = pair_rows
        """The song of each entry of ``row_artist_codes`` (song order)."""
        order = np.argsort(codes, kind="stable")
        self.artist_rows = pair_rows[order]
        counts = np.bincount(codes, minlength=n_artists)
        self.artist_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        popularity = np.where(np.isnan(self.popularity), -1.0, self.popularity)
        best = np.full(n_artists, -1.0)
        np.maximum.at(best, codes, popularity[pair_rows])
        self.artists = pd.DataFrame(
            {
                "artist": pd.array(display, dtype="str"),
                "key": keys.to_pandas(types_mapper=pd.ArrowDtype).astype("str"),
                "songs": counts.astype(np.int64),
                "popularity": np.where(best < 0, np.nan, best),
            }
        )
        self.artist_keys = keys.cast(pa.large_string())
        self.artist_names = self.artists["artist"].to_numpy(dtype=object)
        self.artist_songs = counts.astype(np.int64)
        self.artist_popularity = self.artists["popularity"].to_numpy(dtype=np.float64)
        # Artists rank by their best song's popularity, then by how many songs they have.
        self.artist_score = np.nan_to_num(self.artist_popularity, nan=-1.0) * 1e7 + counts
        if n_artists:
            sums = np.add.reduceat(
                self.scaled[self.artist_rows].astype(np.float64), self.artist_ptr[:-1]
            )
            self.artist_unit = unit_rows(sums / counts[:, None], self.centre)
        else:
            self.artist_unit = np.zeros((0, len(self.features)), dtype=np.float32)

    def _build_keys(self) -> None:
        self.title_keys = name_keys(pa.array(self.names, type=pa.large_string())).cast(
            pa.large_string()
        )

    @property
    def song_keys(self) -> pa.Array:
        """``title artists`` of every song, normalised (the title alone without artists)."""
        return self._pair_keys()[0]

    @property
    def reverse_keys(self) -> pa.Array:
        """``artists title`` of every song, normalised (the title alone without artists)."""
        return self._pair_keys()[1]

    def _pair_keys(self) -> tuple[pa.Array, pa.Array]:
        """Joined from the keys already folded, on first use: a saved index has its lookups
        of these built already, so only a "did you mean" reads them."""
        if self._pairs is None:
            with self._lazy_lock:
                if self._pairs is None:
                    offsets = pa.array(self.row_artist_ptr)
                    members = pc.take(self.artist_keys, pa.array(self.row_artist_codes))
                    space = pa.scalar(" ", pa.large_string())
                    artist_text = pc.binary_join(
                        pa.LargeListArray.from_arrays(offsets, members), space
                    )
                    has_artist = pc.greater(pc.utf8_length(artist_text), 0)
                    titles = self.title_keys
                    self._pairs = tuple(
                        pc.if_else(
                            has_artist, pc.binary_join_element_wise(*joined, space), titles
                        ).cast(pa.large_string())
                        for joined in ((titles, artist_text), (artist_text, titles))
                    )
        return self._pairs

    def _build_recordings(self, tracks: pd.DataFrame) -> None:
        titles = recording_title_codes(
            pa.array(self.names, type=pa.large_string()), self.title_keys
        )
        self._recordings_from(
            recording_groups(self.primary_artist, titles, recording_sound(tracks))
        )

    def _recordings_from(self, recording: np.ndarray) -> None:
        self.recording = recording
        self.releases = np.bincount(self.recording)
        self._recording_rows = np.argsort(self.recording, kind="stable")
        self._recording_ptr = np.concatenate([[0], np.cumsum(self.releases)])

    # ------------------------------------------------------------------------------ lookups

    @property
    def text(self) -> NameIndexes:
        """Title and artist-name lookups, built on the first text query."""
        if self._text is None:
            with self._lazy_lock:
                if self._text is None:
                    self._text = NameIndexes(self)
        return self._text

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
        values = {
            c: (v[rows] if isinstance(v, np.ndarray) else v.take(rows)).tolist()
            for c, v in self.details.items()
        }
        labels = {m: self.labels[m][rows].tolist() for m in self.methods}
        personas = {m: np.asarray(self.personas[m].take(rows)).tolist() for m in self.methods}
        return [
            Song(
                track_id=str(self.ids[row]),
                name=str(self.names[row]),
                artists=tuple(str(a) for a in self.artist_lists[row]),
                genres=tuple(str(g) for g in _listed(self.genre_lists[row])),
                values={c: column[i] for c, column in values.items()},
                clusters={m: (labels[m][i], str(personas[m][i])) for m in self.methods},
                row=int(row),
            )
            for i, row in enumerate(rows.tolist())
        ]

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

    def releases_of(self, row: int) -> np.ndarray:
        """Every row that is a release of the recording of ``row`` (itself included),
        ascending."""
        group = self.recording[row]
        return self._recording_rows[self._recording_ptr[group] : self._recording_ptr[group + 1]]

    def first_releases(self, rows: np.ndarray) -> np.ndarray:
        """Positions in ``rows`` of the first release of each recording there, ascending: with
        ``rows`` best first, one entry per recording, each its best-ranked release."""
        _, first = np.unique(self.recording[rows], return_index=True)
        return np.sort(first)

    def artists_of(self, row: int) -> np.ndarray:
        """Artist codes of one song."""
        return self.row_artist_codes[self.row_artist_ptr[row] : self.row_artist_ptr[row + 1]]

    def rows_of_artist(self, code: int) -> np.ndarray:
        """Rows of every song an artist is listed on, ascending."""
        return self.artist_rows[self.artist_ptr[code] : self.artist_ptr[code + 1]]

    def row_of_id(self, track_id: str) -> int | None:
        """Row of a track id, or None."""
        try:
            found = self.track_ids.get_loc(track_id)
        except KeyError:
            return None
        if isinstance(found, (int, np.integer)):
            return int(found)
        positions = np.flatnonzero(found) if isinstance(found, np.ndarray) else [found.start]
        return int(positions[0])

    def numbers(self, column: str) -> np.ndarray:
        """A numeric column of the catalog as float64, NaN where missing (read-only), converted
        once per atlas rather than by every request that filters or targets on it."""
        with self._subset_lock:
            values = self._numbers.get(column)
            if values is None:
                tracks = self.atlas_ref().tracks
                values = tracks[column].to_numpy(dtype=np.float64, na_value=np.nan)
                values.flags.writeable = False
                self._numbers[column] = values
        return values

    def spread(self, column: str) -> float:
        """Standard deviation of a numeric column over the songs that have it (NaN if none)."""
        with self._subset_lock:
            found = self._spreads.get(column)
        if found is None:
            values = self.numbers(column)
            found = float(np.nanstd(values)) if np.isfinite(values).any() else float("nan")
            with self._subset_lock:
                self._spreads[column] = found
        return found

    def feature_columns(self, features: tuple[str, ...] | None) -> tuple[int, ...]:
        """Matrix columns of ``features`` (all when None); the caller has validated the names."""
        if features is None:
            return tuple(range(len(self.features)))
        return tuple(self.features.index(f) for f in features)

    def unit_for(self, columns: tuple[int, ...]) -> np.ndarray:
        """Unit rows over a subset of the feature columns, cached for the few subsets in use."""
        if len(columns) == len(self.features):
            return self.unit
        with self._subset_lock:
            cached = self._subsets.get(columns)
            if cached is None:
                if len(self._subsets) >= _SUBSET_CACHE:
                    self._subsets.pop(next(iter(self._subsets)))
                cached = unit_rows(self.scaled[:, list(columns)], self.centre[list(columns)])
                self._subsets[columns] = cached
        return cached

    def direction(self, point: np.ndarray, columns: tuple[int, ...]) -> np.ndarray | None:
        """Unit float32 vector from the catalog mean towards ``point`` (scaled values over
        ``columns``): a query for the rows of `unit_for`. None when ``point`` is the mean
        itself, which has no direction."""
        offset = np.asarray(point, dtype=np.float64) - self.centre[list(columns)]
        norm = float(np.linalg.norm(offset))
        if norm <= _AT_CENTRE:
            return None
        return (offset / norm).astype(np.float32)

    def to_units(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled values back to feature units (BPM, dB, 0-1 shares)."""
        return np.asarray(scaled, dtype=np.float64) * self.scale + self._center

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


class NameIndexes:
    """Text lookups of one atlas: titles, ``title artists``/``artists title``, artist names."""

    def __init__(self, index: DiscoveryIndex) -> None:
        rows = np.arange(index.size, dtype=np.int64)
        self.titles = TextIndex(index.title_keys)
        self.pairs = SortedNames(
            pa.concat_arrays([index.song_keys, index.reverse_keys]), np.concatenate([rows, rows])
        )
        self.artists = TextIndex(index.artist_keys)
        self.song_score = np.nan_to_num(index.popularity, nan=-1.0)

    def parts(self) -> Parts:
        """The arrays these lookups are made of (see `DiscoveryIndex.parts`)."""
        return {
            **self.titles.parts("text.titles"),
            **self.pairs.parts("text.pairs"),
            **self.artists.parts("text.artists"),
        }

    @classmethod
    def from_parts(cls, index: DiscoveryIndex, parts: Parts) -> NameIndexes:
        """The lookups of ``index`` saved by `parts`."""
        lookups = cls.__new__(cls)
        lookups.titles = TextIndex.from_parts(index.title_keys, parts, "text.titles")
        lookups.pairs = SortedNames.from_parts(parts, "text.pairs")
        lookups.artists = TextIndex.from_parts(index.artist_keys, parts, "text.artists")
        lookups.song_score = np.nan_to_num(index.popularity, nan=-1.0)
        return lookups


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
