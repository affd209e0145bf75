"""Filtering a catalog fast: what a filter is, the sliders' ranges, and applying them.

`FilterIndex` is built once per atlas by its `DiscoveryIndex` (and so shared by every session
and front door): contiguous arrays for every filterable column, so a filter change is a handful
of vectorised comparisons — a few milliseconds at a million songs — rather than a pass over the
track table. Labels, persona names, artists and genre postings come from the discovery index,
so a filter names an artist or genre exactly as search does. Everything is built in the
constructor and then frozen (read-only arrays, read-only mappings).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from soundatlas.atlas.model import PCA_COLUMNS, Atlas
from soundatlas.clustering.personas import NOISE_NAME
from soundatlas.clustering.result import METHODS
from soundatlas.discovery.text import normalise_text
from soundatlas.ingest import schema

if TYPE_CHECKING:
    from soundatlas.discovery.index import DiscoveryIndex

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


class FilterIndex:
    """Read-only arrays of one atlas for fast filtering and charting; built once per atlas, by
    its `DiscoveryIndex` (``discovery_index(atlas).filters``), whose labels, persona names and
    artist keys it shares.

    Never mutate an index: one instance is shared by every session that opens the atlas.
    """

    def __init__(self, atlas: Atlas, songs: DiscoveryIndex, *, random_state: int = 0) -> None:
        tracks = atlas.tracks
        self._songs = songs
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
        self.labels: Mapping[str, np.ndarray] = MappingProxyType(
            {m: songs.labels[m] for m in self.methods}
        )
        self.personas: Mapping[str, Mapping[int, str]] = MappingProxyType(
            {m: MappingProxyType(songs.cluster_names[m]) for m in self.methods}
        )
        self.genre_names: tuple[str, ...] = songs.genres.names
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

    def absent_columns(self) -> list[str]:
        """The catalog columns filters need that no song has a value in, among ``"artist"``,
        ``"genre"``, ``"popularity"``, ``"duration"`` and ``"explicit"``: a front door says so
        once and hides the controls that would match nothing."""
        absent = []
        if len(self._songs.artists) == 0:
            absent.append("artist")
        if len(self.genre_names) == 0:
            absent.append("genre")
        for column, values in (("popularity", self.popularity), ("duration", self.duration)):
            if column not in self.bounds or values is None or bool(np.isnan(values).all()):
                absent.append(column)
        if not (self.explicit >= 0).any():
            absent.append("explicit")
        return absent

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
        found = [rows for rows in map(self._songs.genres.rows_of, genres) if rows is not None]
        if not found:
            return None
        out = np.zeros(self.n, dtype=bool)
        for rows in found:
            out[rows] = True
        return out

    def matching_artists(self, text: str) -> np.ndarray:
        """Codes of the artists a query names, as search folds names (any case, accents and
        punctuation: "beyonce" names "Beyoncé"): an exact name, else every artist whose name
        contains it."""
        key = normalise_text(text)
        with self._lock:
            if key in self._artist_matches:
                self._artist_matches.move_to_end(key)
                return self._artist_matches[key]
        keys = self._songs.artist_keys
        exact = np.flatnonzero(pc.equal(keys, key).to_numpy(zero_copy_only=False))
        if not len(exact) and key:
            contains = pc.match_substring(keys, key)
            exact = np.flatnonzero(contains.to_numpy(zero_copy_only=False))
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
            out[self._songs.rows_of_artist(int(code))] = True
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
            (self._songs.row_artist_codes, self._songs.artist_pair_rows, len(self._songs.artists))
            if which == "artists"
            else (
                self._songs.genres.pair_codes,
                self._songs.genres.pair_rows,
                len(self.genre_names),
            )
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
