"""The dashboard's filters: what they are, their ranges, and applying them fast.

`AtlasIndex` is built once per atlas (and shared by every session through ``st.cache_resource``):
contiguous arrays for every filterable column, each method's labels, and genre→songs and
artist→songs indexes, so a filter change is a handful of vectorised comparisons — a few
milliseconds at a million songs — rather than a pass over the track table. Everything is built
in the constructor and then frozen (read-only arrays, read-only mappings): sessions share one
instance, so nothing may change it after it is cached. Nothing here imports Streamlit: the
sidebar (`soundatlas.dashboard.sidebar`) turns widgets (and the URL) into a `Filters` value.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import numpy as np
import pandas as pd

from soundatlas import schema
from soundatlas.atlas import PCA_COLUMNS, PERSONA_COLUMNS, Atlas
from soundatlas.clustering.personas import NOISE_NAME
from soundatlas.clustering.result import LABEL_COLUMNS, METHODS

EXPLICIT_CHOICES: tuple[str, ...] = ("any", "yes", "no")
UNIT_FEATURES = frozenset(schema.UNIT_FEATURES)
_ARTIST_CACHE = 256


@dataclass(frozen=True)
class Bounds:
    """A slider's range and step. A slider pushed to either end means "no limit on that side"."""

    low: float
    high: float
    step: float

    @property
    def full(self) -> tuple[float, float]:
        """The untouched range."""
        return (self.low, self.high)


@dataclass(frozen=True)
class Filters:
    """Everything the sidebar can restrict; the defaults select every song.

    Ranges are ``None`` when untouched; a range end equal to its slider's bound is open.
    """

    method: str = "kmeans"
    genres: tuple[str, ...] = ()
    artist: str = ""
    popularity: tuple[float, float] | None = None
    duration: tuple[float, float] | None = None
    """Minutes."""
    explicit: str = "any"
    features: tuple[tuple[str, tuple[float, float]], ...] = ()
    """``(feature, (low, high))`` for each audio feature that is restricted."""

    @property
    def active(self) -> bool:
        """Whether any filter (other than the method) is set."""
        return bool(
            self.genres
            or self.artist.strip()
            or self.popularity
            or self.duration
            or self.explicit != "any"
            or self.features
        )


class AtlasIndex:
    """Read-only arrays and lookup tables of one atlas for fast filtering; built once per atlas.

    Never mutate an index: one instance is shared by every session that opens the atlas.
    """

    def __init__(self, atlas: Atlas, *, random_state: int = 0) -> None:
        tracks = atlas.tracks
        self.fingerprint = atlas.fingerprint
        self.n = len(tracks)
        self.feature_names: tuple[str, ...] = tuple(atlas.config.features)
        features = {
            f: np.ascontiguousarray(tracks[f].to_numpy(dtype=np.float32, na_value=np.nan))
            for f in self.feature_names
        }
        self.features: Mapping[str, np.ndarray] = _frozen(features)
        self.has_missing: Mapping[str, bool] = MappingProxyType(
            {f: bool(np.isnan(v).any()) for f, v in features.items()}
        )
        self.popularity = _floats(tracks, "popularity")
        duration = _floats(tracks, "duration_ms")
        self.duration = duration / np.float32(60_000) if duration is not None else None
        self.explicit = _explicit_codes(tracks)
        self.methods: tuple[str, ...] = tuple(m for m in METHODS if m in atlas.methods)
        self.recommended: str = atlas.assessment.recommended
        """The method the dashboard opens on (`soundatlas.clustering.assessment`)."""
        self.labels: Mapping[str, np.ndarray] = _frozen(
            {
                m: np.ascontiguousarray(tracks[LABEL_COLUMNS[m]].to_numpy(dtype=np.int32))
                for m in self.methods
            }
        )
        self.personas: Mapping[str, Mapping[int, str]] = MappingProxyType(
            {
                m: MappingProxyType(
                    dict(zip(p["cluster"].astype(int), p["persona"].astype(str), strict=True))
                )
                for m in self.methods
                for p in [atlas.personas_of(m)]
            }
        )
        (
            self.genre_names,
            self.genre_offsets,
            self.genre_rows,
            self.genre_pairs,
            self.genre_pair_rows,
        ) = _postings(tracks["genres"])
        (
            self.artist_names,
            self.artist_offsets,
            self.artist_rows,
            self.artist_pairs,
            self.artist_pair_rows,
        ) = _postings(tracks["artists"])
        self._artist_lower = pd.Series(self.artist_names, dtype="string[pyarrow]").str.lower()
        self._genre_code = MappingProxyType({name: i for i, name in enumerate(self.genre_names)})
        self._artist_matches: OrderedDict[str, np.ndarray] = OrderedDict()
        """Recent artist queries -> artist codes: the one cache that fills after construction,
        only ever touched under ``_lock`` and holding read-only arrays."""
        self._lock = threading.Lock()
        self.rank = np.random.default_rng(random_state).permutation(self.n).astype(np.int32)
        """A fixed random order of the songs: samples keep the same songs across reruns."""
        self.shuffled = np.argsort(self.rank).astype(np.int64)
        """Song positions in that random order (``shuffled[0]`` has rank 0)."""
        self.bounds: Mapping[str, Bounds] = MappingProxyType(self._bounds())
        self.coordinates: Mapping[str, np.ndarray] = _frozen(
            {
                c: np.ascontiguousarray(tracks[c].to_numpy(dtype=np.float32))
                for c in PCA_COLUMNS
                if c in tracks
            }
        )
        self.axis_titles = tuple(
            atlas.projection.axis_label(i) for i in range(len(atlas.projection.components))
        )
        self._hover = _hover_labels(tracks["name"], tracks["artists"])
        """Hover labels of every song, built here (vectorised) so the shared index never
        changes after it is cached."""
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    # -- ranges ------------------------------------------------------------------------------
    def _bounds(self) -> dict[str, Bounds]:
        out = {f: _feature_bounds(f, values) for f, values in self.features.items()}
        if self.popularity is not None:
            out["popularity"] = Bounds(0.0, 100.0, 1.0)
        if self.duration is not None and np.isfinite(self.duration).any():
            top = float(np.nanpercentile(self.duration, 99.5))
            out["duration"] = Bounds(0.0, float(max(1, math.ceil(top))), 0.5)
        return out

    # -- lookups -----------------------------------------------------------------------------
    def genre_mask(self, genres: tuple[str, ...]) -> np.ndarray | None:
        """Songs carrying any of ``genres``; None if none of them is known."""
        codes = [self._genre_code[g] for g in genres if g in self._genre_code]
        if not codes:
            return None
        out = np.zeros(self.n, dtype=bool)
        for code in codes:
            out[self.genre_rows[self.genre_offsets[code] : self.genre_offsets[code + 1]]] = True
        return out

    def matching_artists(self, text: str) -> np.ndarray:
        """Codes of the artists a query names: an exact name (any case), else every artist
        whose name contains it."""
        key = text.strip().lower()
        with self._lock:
            if key in self._artist_matches:
                self._artist_matches.move_to_end(key)
                return self._artist_matches[key]
        exact = np.flatnonzero((self._artist_lower == key).to_numpy(dtype=bool, na_value=False))
        if not len(exact):
            contains = self._artist_lower.str.contains(key, regex=False)
            exact = np.flatnonzero(contains.to_numpy(dtype=bool, na_value=False))
        exact.flags.writeable = False
        with self._lock:
            self._artist_matches[key] = exact
            while len(self._artist_matches) > _ARTIST_CACHE:
                self._artist_matches.popitem(last=False)
        return exact

    def artist_mask(self, text: str) -> np.ndarray:
        """Songs by the artists `matching_artists` finds."""
        out = np.zeros(self.n, dtype=bool)
        for code in self.matching_artists(text):
            out[self.artist_rows[self.artist_offsets[code] : self.artist_offsets[code + 1]]] = True
        return out

    # -- filtering ---------------------------------------------------------------------------
    def mask(self, filters: Filters) -> np.ndarray:
        """Boolean mask of the songs that pass every filter (vectorised, no copies of tables)."""
        keep = np.ones(self.n, dtype=bool)
        scratch = np.empty(self.n, dtype=bool)
        ranges: list[tuple[np.ndarray | None, tuple[float, float] | None, Bounds | None]] = [
            (self.popularity, filters.popularity, self.bounds.get("popularity")),
            (self.duration, filters.duration, self.bounds.get("duration")),
        ]
        ranges += [(self.features.get(f), span, self.bounds.get(f)) for f, span in filters.features]
        for values, span, bounds in ranges:
            if values is None or span is None or bounds is None:
                continue
            low, high = span
            if low > bounds.low:
                np.greater_equal(values, np.float32(low) - np.float32(1e-6), out=scratch)
                keep &= scratch
            if high < bounds.high:
                np.less_equal(values, np.float32(high) + np.float32(1e-6), out=scratch)
                keep &= scratch
        if filters.explicit != "any":
            np.equal(self.explicit, 1 if filters.explicit == "yes" else 0, out=scratch)
            keep &= scratch
        if filters.genres:
            genre = self.genre_mask(filters.genres)
            if genre is None:
                keep[:] = False
            else:
                keep &= genre
        if filters.artist.strip():
            keep &= self.artist_mask(filters.artist)
        return keep

    def count_distinct(self, mask: np.ndarray, which: str) -> int:
        """How many distinct artists (``which="artists"``) or genres the masked songs have."""
        codes, rows, total = (
            (self.artist_pairs, self.artist_pair_rows, len(self.artist_names))
            if which == "artists"
            else (self.genre_pairs, self.genre_pair_rows, len(self.genre_names))
        )
        if not len(codes):
            return 0
        present = np.bincount(codes[mask[rows]], minlength=total)
        return int(np.count_nonzero(present))

    # -- labels for charts -------------------------------------------------------------------
    def persona_of(self, method: str, cluster: int) -> str:
        """Persona name of a cluster (``Noise …`` for -1)."""
        return self.personas[method].get(int(cluster), NOISE_NAME if cluster < 0 else "?")

    def hover_labels(self, rows: np.ndarray) -> np.ndarray:
        """``"Song — Artist"`` for the given songs, HTML-escaped (Plotly renders hover HTML)."""
        return self._hover[rows]


def _frozen(arrays: dict[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    """A read-only mapping of read-only arrays (shared by every session)."""
    for values in arrays.values():
        values.flags.writeable = False
    return MappingProxyType(arrays)


def _hover_labels(names: pd.Series, artists: pd.Series) -> np.ndarray:
    """``"Song — Artist, Artist"`` of every song, HTML-escaped (Plotly renders hover HTML)."""
    joined = pd.Series([", ".join(map(str, a[:2])) for a in artists.to_numpy()], dtype="string")
    titles = names.astype("string").fillna("").reset_index(drop=True)
    labels = (titles + np.where(joined.str.len() > 0, " — ", "") + joined).fillna("")
    for raw, entity in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("'", "&#x27;"),
    ):
        labels = labels.str.replace(raw, entity, regex=False)
    return labels.to_numpy(dtype=object)


def _floats(tracks: pd.DataFrame, column: str) -> np.ndarray | None:
    if column not in tracks:
        return None
    return np.ascontiguousarray(
        pd.to_numeric(tracks[column], errors="coerce").to_numpy(dtype=np.float32, na_value=np.nan)
    )


def _explicit_codes(tracks: pd.DataFrame) -> np.ndarray:
    """1 explicit, 0 clean, -1 unknown."""
    if "explicit" not in tracks:
        return np.full(len(tracks), -1, dtype=np.int8)
    flags = tracks["explicit"].astype("boolean")
    codes = np.where(flags.fillna(False).to_numpy(dtype=bool), 1, 0).astype(np.int8)
    codes[flags.isna().to_numpy()] = -1
    return codes


def _feature_bounds(feature: str, values: np.ndarray) -> Bounds:
    if feature in UNIT_FEATURES:
        return Bounds(0.0, 1.0, 0.01)
    finite = values[np.isfinite(values)]
    if not len(finite):
        return Bounds(0.0, 1.0, 0.01)
    low, high = (
        np.percentile(finite, [0.5, 99.5]) if len(finite) > 100 else (finite.min(), finite.max())
    )
    if feature == "loudness":
        return Bounds(float(math.floor(low)), float(math.ceil(high)), 0.5)
    if feature == "tempo":
        return Bounds(float(math.floor(low / 10) * 10), float(math.ceil(high / 10) * 10), 1.0)
    span = float(high - low) or 1.0
    step = 10 ** math.floor(math.log10(span / 100))
    return Bounds(
        float(math.floor(low / step) * step), float(math.ceil(high / step) * step), float(step)
    )


def _postings(
    lists: pd.Series,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Index list cells (genres, artists).

    Returns sorted unique names; for each name the songs carrying it (CSR layout:
    ``rows[offsets[i]:offsets[i + 1]]``); and, for every (song, name) pair in song order, the
    name's code and the song.
    """
    values = lists.to_numpy()
    lengths = np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))
    flat = pd.Series([str(x) for v in values for x in v], dtype=object)
    song = np.repeat(np.arange(len(values), dtype=np.int32), lengths)
    if not len(flat):
        empty = np.array([], dtype=np.int32)
        return np.array([], dtype=object), np.zeros(1, np.int64), empty, empty, empty
    codes, names = pd.factorize(flat, sort=True)
    codes = codes.astype(np.int32)
    order = np.argsort(codes, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(names)))])
    return np.asarray(names, dtype=object), offsets, song[order], codes, song


@dataclass(frozen=True)
class View:
    """One script run's filtered view of an atlas: what every page draws from."""

    atlas: Atlas
    index: AtlasIndex
    filters: Filters
    mask: np.ndarray
    source: str = ""
    """Id of the atlas choice it was loaded from (see `soundatlas.dashboard.catalogs`)."""

    @cached_property
    def rows(self) -> np.ndarray:
        """Positions of the filtered songs."""
        return np.flatnonzero(self.mask)

    @property
    def count(self) -> int:
        """Songs passing the filters."""
        return len(self.rows)

    @property
    def total(self) -> int:
        """Songs in the atlas."""
        return self.index.n

    @property
    def method(self) -> str:
        """The clustering method chosen in the sidebar."""
        return self.filters.method

    @property
    def labels(self) -> np.ndarray:
        """Cluster of every song (all songs, not only the filtered ones) for the method."""
        return self.index.labels[self.method]

    @property
    def persona_column(self) -> str:
        """Persona column of the method in the track table."""
        return PERSONA_COLUMNS[self.method]
