"""The arrays a similar-songs query and a search read, without pandas.

`QueryIndex` is the core of every atlas's discovery index: unit vectors, labels, persona names,
artist codes, recordings and the text lookups, as NumPy and Arrow arrays. The similar-songs
search (`soundatlas.discovery.similar.similar_rows`) and the search
(`soundatlas.discovery.search.find`) work on it and return rows and scores; the functions that
answer with DataFrames (`similar_tracks`, `search`) build their tables from the same rows.

It is filled from a `SongSource`: the loaded atlas's track table
(`soundatlas.discovery.index.DiscoveryIndex`, which adds what tables and filters need), or a
saved atlas's files read column by column (`soundatlas.discovery.saved`), so that the
command line answers ``similar`` and ``search`` without importing pandas or reading what the
question does not use. Both give the same arrays, hence the same answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.discovery.arrowconvert import text_scalar, to_arrow, to_objects
from soundatlas.discovery.context import context_columns, context_unit_rows
from soundatlas.discovery.nearest import unit_rows
from soundatlas.discovery.textindex import Parts, SortedNames, TextIndex
from soundatlas.errors import LookupFailed

_SUBSET_CACHE = 8
_AT_CENTRE = 1e-6
"""Offsets from the catalog mean shorter than this (scaled units) count as no direction: the
scaled values are float32, so a song at the mean can sit a rounding error away from it."""


class SongSource(Protocol):
    """Where a `QueryIndex` reads the catalog's songs from (one row per song)."""

    size: int
    features: tuple[str, ...]
    methods: tuple[str, ...]
    sampled: bool
    center: np.ndarray
    scale: np.ndarray

    def scaled(self) -> np.ndarray:
        """Scaled features of every song (float64, the atlas's feature order)."""

    def has(self, column: str) -> bool:
        """Whether the track table has ``column``."""

    def text(self, column: str) -> pa.Array:
        """A text column as an Arrow large_string array."""

    def floats(self, column: str) -> np.ndarray:
        """A numeric column as float64, NaN where missing."""

    def lists(self, column: str, rows: np.ndarray | None = None) -> list[list[str]]:
        """A column of name lists (artists, genres) for ``rows`` (all when None); ``[]`` for
        none."""

    def labels(self, method: str) -> np.ndarray:
        """Each song's cluster of ``method`` (int32)."""

    def personas(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """Each song's persona of ``method`` as codes (-1: none) into an array of names."""

    def cluster_names(self, method: str) -> dict[int, str]:
        """The persona name of each cluster of ``method``."""

    def values(self, column: str, rows: np.ndarray) -> object:
        """A column's values at ``rows`` as the track table holds them (for result tables)."""


class QueryIndex:
    """Arrays derived from an atlas for fast lookups (see the module's docstring).

    Attributes
    ----------
    features
        The scaled features (the atlas's clustering features), in matrix column order.
    scaled, centre, unit
        Scaled features as float32; their catalog mean; and each row less that mean, scaled
        to length 1 (cosine = dot). Similarity is the angle seen from the catalog's average
        sound under every scaling: standard scaling puts the mean at zero, but min-max puts the
        least value there and robust the median, and angles from those corners say little.
    title_keys
        Normalised title of every song (see `soundatlas.discovery.text`); `text` holds the
        lookups built on the titles, ``title artists``/``artists title`` and artist names.
    primary_artist
        Code of each song's first listed artist (-1 for a song without artists).
    recording, releases
        The recording each song is a release of, numbered from 0 (see
        `soundatlas.discovery.recordings`: same primary artist, and the same title once
        release qualifiers such as "- Remastered 2011" are removed or every audio feature
        equal within rounding); and how many songs of the catalog each recording has.
    artist_names, artist_keys, artist_songs, artist_popularity
        One entry per artist (artists are identified by normalised name): the most common
        spelling, the key, how many songs, the popularity of their most popular song.
    artist_unit
        Each artist's mean scaled profile less the catalog mean, as a unit vector.
    """

    def __init__(self, source: SongSource, parts: Parts | None = None) -> None:
        self.source = source
        self.saved_parts = parts
        """The saved parts it is made of (read as used), or None when built anew."""
        self.size = source.size
        self.features: tuple[str, ...] = tuple(source.features)
        self.methods: tuple[str, ...] = tuple(source.methods)
        self.labels = {m: source.labels(m) for m in self.methods}
        for labels in self.labels.values():
            labels.flags.writeable = False  # shared by every session and front door
        self.persona_codes = {m: source.personas(m) for m in self.methods}
        self.cluster_names = {m: source.cluster_names(m) for m in self.methods}
        self.id_text: pa.Array = source.text("track_id")
        """The track ids as Arrow text (large_string)."""
        self.name_text: pa.Array = source.text("name")
        """The titles as Arrow text (large_string)."""
        self.popularity = source.floats("popularity")
        self.scale = source.scale
        self._center = source.center
        self.sampled = source.sampled
        self._subsets: dict[tuple[int, ...], np.ndarray] = {}
        self._subset_lock = threading.Lock()
        self._numbers: dict[str, np.ndarray] = {}
        self._spreads: dict[str, float] = {}
        self._context: dict[tuple[int, ...], np.ndarray] = {}
        self._text: NameIndexes | None = None
        self._lazy_lock = threading.RLock()  # lazy parts build on each other
        self._pairs: tuple[pa.Array, pa.Array] | None = None
        self._lazy: dict[str, object] = {}
        self._title_keys: pa.Array | None = None
        self.artists_text: pa.Array | None = None
        """Each song's artists as ``"A, B"``: saved with the index, else made on first use."""
        if parts is not None:
            self._artists_from(
                parts["primary_artist"],
                parts["row_artist_ptr"],
                parts["row_artist_codes"],
                parts["artist_keys"],
                to_objects(parts["artist_display"]),
            )
            self._recordings_from(parts["recording"])
            self.artists_text = parts["artists_text"]

    def _once(self, name: str, make: Callable[[], object]) -> object:
        """``make()``, made on first use and kept."""
        found = self._lazy.get(name)
        if found is None:
            with self._lazy_lock:
                found = self._lazy.get(name)
                if found is None:
                    found = make()
                    self._lazy[name] = found
        return found

    @property
    def scaled(self) -> np.ndarray:
        """Scaled features as float32 (read on first use: a search needs none)."""
        return self._once(
            "scaled", lambda: np.ascontiguousarray(self.source.scaled(), dtype=np.float32)
        )

    @property
    def centre(self) -> np.ndarray:
        """The catalog mean of `scaled`."""
        return self._once("centre", lambda: self.scaled.mean(axis=0, dtype=np.float64))

    @property
    def unit(self) -> np.ndarray:
        """Each song's scaled features less `centre`, scaled to length 1."""
        if self.saved_parts is not None:
            return self.saved_parts["unit"]
        return self._once("unit", lambda: unit_rows(self.scaled, self.centre))

    @property
    def artist_unit(self) -> np.ndarray:
        """Each artist's mean scaled profile less the catalog mean, as a unit vector."""
        return self._once("artist_unit", self._artist_units)

    @property
    def title_keys(self) -> pa.Array:
        """Normalised title of every song (large_string)."""
        if self._title_keys is None:
            with self._lazy_lock:
                if self._title_keys is None:
                    self._title_keys = self.saved_parts["title_keys"].cast(pa.large_string())
        return self._title_keys

    @property
    def ids(self) -> np.ndarray:
        """The track ids (object array of str)."""
        return self._once("ids", lambda: to_objects(self.id_text))

    @property
    def names(self) -> np.ndarray:
        """The titles (object array of str)."""
        return self._once("names", lambda: to_objects(self.name_text))

    # ------------------------------------------------------------------------------ building

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
        self.artist_keys = keys.cast(pa.large_string())
        self.artist_names = np.asarray(display, dtype=object)
        self.artist_songs = counts.astype(np.int64)
        self.artist_popularity = np.where(best < 0, np.nan, best)
        # Artists rank by their best song's popularity, then by how many songs they have.
        self.artist_score = np.nan_to_num(self.artist_popularity, nan=-1.0) * 1e7 + counts

    def _artist_units(self) -> np.ndarray:
        if len(self.artist_songs) == 0:
            return np.zeros((0, len(self.features)), dtype=np.float32)
        sums = np.add.reduceat(
            self.scaled[self.artist_rows].astype(np.float64), self.artist_ptr[:-1]
        )
        return unit_rows(sums / self.artist_songs[:, None], self.centre)

    def _recordings_from(self, recording: np.ndarray) -> None:
        self.recording = recording
        self.releases = np.bincount(self.recording)
        self._recording_rows = np.argsort(self.recording, kind="stable")
        self._recording_ptr = np.concatenate([[0], np.cumsum(self.releases)])

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

    # ------------------------------------------------------------------------------ lookups

    @property
    def text(self) -> NameIndexes:
        """Title and artist-name lookups: read from the saved parts, or built, on the first
        text query."""
        if self._text is None:
            with self._lazy_lock:
                if self._text is None:
                    self._text = (
                        NameIndexes(self)
                        if self.saved_parts is None
                        else NameIndexes.from_parts(self, self.saved_parts)
                    )
        return self._text

    @property
    def artist_lists(self) -> np.ndarray:
        """Each song's artists as a list (object array), read on first use."""
        return self._once("artist_lists", lambda: _objects(self.source.lists("artists")))

    @property
    def genre_lists(self) -> np.ndarray:
        """Each song's genres as a list (object array), read on first use."""
        return self._once("genre_lists", lambda: _objects(self.source.lists("genres")))

    def genres_of(self, rows: Sequence[int] | np.ndarray) -> list[list[str]]:
        """The genres of the songs at ``rows`` (without reading every song's)."""
        rows = np.asarray(rows, dtype=np.int64)
        if "genre_lists" in self._lazy:
            return [list(g) for g in self.genre_lists[rows]]
        return self.source.lists("genres", rows)

    def genre_keys_of(self, rows: Sequence[int] | np.ndarray) -> list:
        """What the genre bonus compares for the songs at ``rows``: one collection per song of
        keys that are equal exactly when the genres are (here the labels themselves;
        `soundatlas.discovery.index.DiscoveryIndex` gives codes)."""
        return self.genres_of(rows)

    def artist_text(self, rows: np.ndarray) -> np.ndarray:
        """``"A, B"`` of the songs at ``rows`` (object array)."""
        if self.artists_text is None:
            with self._lazy_lock:
                if self.artists_text is None:
                    self.artists_text = pa.array(
                        [", ".join(a) for a in self.artist_lists], type=pa.large_string()
                    )
        return to_objects(self.artists_text.take(to_arrow(np.asarray(rows, dtype=np.int64))))

    def persona_names(self, method: str, rows: np.ndarray) -> np.ndarray:
        """The persona name of ``method`` of the songs at ``rows`` (None where a song has
        none)."""
        codes, names = self.persona_codes[method]
        picked = np.asarray(codes)[np.asarray(rows, dtype=np.int64)]
        out = np.empty(len(picked), dtype=object)
        known = picked >= 0
        out[known] = np.asarray(names, dtype=object)[picked[known]]
        return out

    def require_method(self, method: str) -> None:
        """Nothing if this atlas ran ``method``; else the error `Atlas.require_method` gives."""
        if method not in self.methods:
            raise LookupFailed(
                f"method '{method}' was not run for this atlas; it has: "
                f"{', '.join(self.methods)}. Rebuild with --methods to add it."
            )

    def method_title(self, method: str) -> str:
        """How ``method`` is named to users ("K-Means")."""
        return METHOD_TITLES[method]

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

    def rows_of_artists(self, codes: np.ndarray) -> np.ndarray:
        """`rows_of_artist` of each of ``codes``, one after the other, in one gather (a common
        word names thousands of artists: a slice each took milliseconds)."""
        codes = np.asarray(codes, dtype=np.int64)
        starts = np.asarray(self.artist_ptr[codes], dtype=np.int64)
        lengths = np.asarray(self.artist_ptr[codes + 1], dtype=np.int64) - starts
        before = np.cumsum(lengths) - lengths
        return self.artist_rows[np.arange(int(lengths.sum())) + np.repeat(starts - before, lengths)]

    def row_of_id(self, track_id: str) -> int | None:
        """Row of a track id (the first, should the catalog repeat one), or None. One scan of
        the ids (about a millisecond at 100k songs); `DiscoveryIndex` answers the many lookups
        of a server from a hash table instead."""
        row = pc.index(self.id_text, text_scalar(str(track_id))).as_py()
        return None if row < 0 else int(row)

    def names_of(self, rows: np.ndarray) -> np.ndarray:
        """The titles of the songs at ``rows`` (object array)."""
        return to_objects(self.name_text.take(to_arrow(np.asarray(rows, dtype=np.int64))))

    def ids_of(self, rows: np.ndarray) -> np.ndarray:
        """The track ids of the songs at ``rows`` (object array)."""
        return to_objects(self.id_text.take(to_arrow(np.asarray(rows, dtype=np.int64))))

    def numbers(self, column: str) -> np.ndarray:
        """A numeric column of the catalog as float64, NaN where missing (read-only), converted
        once per atlas rather than by every request that filters or targets on it."""
        with self._subset_lock:
            values = self._numbers.get(column)
            if values is None:
                values = np.array(self.source.floats(column), dtype=np.float64)
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

    def context_unit_for(self, columns: tuple[int, ...]) -> np.ndarray:
        """Unit rows of sound + context over the sound ``columns`` (see
        `soundatlas.discovery.context`), saved with the atlas for every column, else made once
        per set of columns."""
        if self.saved_parts is not None and columns == self.feature_columns(None):
            return self.saved_parts["context_unit"]
        with self._subset_lock:
            cached = self._context.get(columns)
        if cached is None:
            present = context_columns(self.source.has, self.numbers)
            cached = context_unit_rows(self.scaled, columns, [self.numbers(c) for c in present])
            with self._subset_lock:
                self._context[columns] = cached
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

    def candidate_columns(self, rows: np.ndarray) -> dict[str, object]:
        """The columns a list of candidate songs shows (``track_id, name, artists, popularity,
        release_year, genres``), as the track table holds them."""
        rows = np.asarray(rows, dtype=np.int64)
        columns: dict[str, object] = {
            "track_id": self.ids_of(rows),
            "name": self.names_of(rows),
            "artists": self.artist_text(rows),
        }
        for name in ("popularity", "release_year"):
            if self.source.has(name):
                columns[name] = self.source.values(name, rows)
        columns["genres"] = np.array([", ".join(g) for g in self.genres_of(rows)], dtype=object)
        return columns


class NameIndexes:
    """Text lookups of one atlas: titles, ``title artists``/``artists title``, artist names."""

    def __init__(self, index: QueryIndex) -> None:
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
    def from_parts(cls, index: QueryIndex, parts: Parts) -> NameIndexes:
        """The lookups of ``index`` saved by `parts`."""
        lookups = cls.__new__(cls)
        lookups.titles = TextIndex.from_parts(index.title_keys, parts, "text.titles")
        lookups.pairs = SortedNames.from_parts(parts, "text.pairs")
        lookups.artists = TextIndex.from_parts(index.artist_keys, parts, "text.artists")
        lookups.song_score = np.nan_to_num(index.popularity, nan=-1.0)
        return lookups


def _objects(values: list) -> np.ndarray:
    """A list of lists as a 1-d object array (NumPy would make a 2-d array of equal lengths)."""
    out = np.empty(len(values), dtype=object)
    for at, value in enumerate(values):
        out[at] = value
    return out
