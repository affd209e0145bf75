"""What a playlist should sound like, and the limits it must respect: `PlaylistRequest`.

A request is checked in full when it is made, so a bad one fails before any atlas is touched,
with a message that says what to change.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from soundatlas.clustering.result import METHODS
from soundatlas.discovery.playlists.ordering import ORDERS
from soundatlas.errors import ConfigError
from soundatlas.ingest.schema import AUDIO_FEATURES, RANGES

LIMITED_COLUMNS: tuple[str, ...] = (
    *AUDIO_FEATURES,
    "key",
    "mode",
    "time_signature",
    "popularity",
    "duration_ms",
    "release_year",
)
"""Columns ``minimum``, ``maximum`` and ``target`` accept (Spotify's list, plus release year)."""
MAX_SEEDS = 5
SEED_KINDS = ("seeds", "seed_artists", "seed_genres")
SIZE_RANGE = (1, 100)
"""Songs a playlist may have (Spotify's ``/recommendations`` allowed 1-100)."""
THRESHOLD_RANGE = (0.70, 1.00)


@dataclass(frozen=True)
class PlaylistRequest:
    """What a playlist should sound like, and the limits it must respect.

    Attributes
    ----------
    method, cluster
        A cluster of a method (``"kmeans"``, ``"dbscan"``, ``"hierarchical"``): songs come
        from it, and without seeds similarity is measured to its centroid.
    seeds, seed_artists, seed_genres
        Up to 5 songs (track ids or text, see `resolve_track`), artists and genres (as the
        catalog spells them) in all; similarity is measured to the centroid of the seed songs
        and of each seed artist's and seed genre's average sound. Seed songs (and other
        releases of their recordings) are not repeated in the playlist.
    size
        Songs wanted, 1-100.
    threshold
        Least cosine similarity to the centroid, 0.70-1.00 (angles seen from the catalog's
        average sound, as in `similar_tracks`).
    minimum, maximum
        ``{column: value}`` limits on any of `LIMITED_COLUMNS` (a song missing the value fails).
    target
        ``{column: value}``: songs nearest these values come first (distance in catalog
        standard deviations); similarity breaks ties.
    allow_explicit
        False leaves out songs marked explicit (songs with no explicit flag are kept).
    max_per_artist
        Most songs by any one artist (a song counts for each of its artists).
    order
        One of `ORDERS`.
    """

    method: str | None = "kmeans"
    cluster: int | None = None
    seeds: tuple[str, ...] = ()
    seed_artists: tuple[str, ...] = ()
    seed_genres: tuple[str, ...] = ()
    size: int = 20
    threshold: float = 0.80
    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)
    target: dict[str, float] = field(default_factory=dict)
    allow_explicit: bool = True
    max_per_artist: int = 2
    order: str = "score"

    def __post_init__(self) -> None:
        for name in SEED_KINDS:
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        for name in ("minimum", "maximum", "target"):
            object.__setattr__(self, name, _limits(name, getattr(self, name)))
        self._check()

    def _check(self) -> None:
        if self.method is not None and self.method not in METHODS:
            raise ConfigError(f"method={self.method!r}: use one of {', '.join(METHODS)}.")
        if self.cluster is not None:
            if isinstance(self.cluster, bool) or not isinstance(self.cluster, (int, np.integer)):
                raise ConfigError(f"cluster={self.cluster!r}: must be a cluster number (0, 1, …).")
            if self.cluster < 0:
                raise ConfigError(
                    f"cluster={self.cluster}: noise (-1) is not a cluster; choose a cluster "
                    "number from 0."
                )
            if self.method is None:
                raise ConfigError(f"cluster={self.cluster}: say which method's cluster (method=).")
        for name in SEED_KINDS:
            for seed in getattr(self, name):
                if not isinstance(seed, str) or not seed.strip():
                    raise ConfigError(
                        f"{name}: {seed!r} is not a song, artist or genre; give text."
                    )
        seeds = sum(len(getattr(self, name)) for name in SEED_KINDS)
        if seeds > MAX_SEEDS:
            raise ConfigError(
                f"seeds: {seeds} songs, artists and genres given; at most {MAX_SEEDS} in all. "
                "Keep the ones that matter most."
            )
        if self.cluster is None and seeds == 0:
            raise ConfigError(
                "playlist: no source of sound; give a cluster (method and cluster), seed songs, "
                "seed artists or seed genres."
            )
        _check_number("size", self.size, *SIZE_RANGE, whole=True)
        _check_number("threshold", self.threshold, *THRESHOLD_RANGE)
        _check_number("max_per_artist", self.max_per_artist, 1, SIZE_RANGE[1], whole=True)
        for column in set(self.minimum) & set(self.maximum):
            if self.minimum[column] > self.maximum[column]:
                raise ConfigError(
                    f"min_{column}={self.minimum[column]:g} is above max_{column}="
                    f"{self.maximum[column]:g}; no song could pass. Swap or widen them."
                )
        for column, value in self.target.items():
            low = self.minimum.get(column, -math.inf)
            high = self.maximum.get(column, math.inf)
            if not low <= value <= high:
                raise ConfigError(
                    f"target_{column}={value:g}: outside its own limits ({low:g} to {high:g}); "
                    "move the target inside them."
                )
        if not isinstance(self.allow_explicit, (bool, np.bool_)):
            raise ConfigError(f"allow_explicit={self.allow_explicit!r}: must be True or False.")
        if self.order not in ORDERS:
            raise ConfigError(f"order={self.order!r}: use one of {', '.join(ORDERS)}.")

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        data = asdict(self)
        for name in SEED_KINDS:
            data[name] = list(getattr(self, name))
        return data


def targets_within(
    target: dict[str, float], minimum: dict[str, float], maximum: dict[str, float]
) -> dict[str, float]:
    """Each target moved to the nearest value its limits allow.

    For limits and targets that come from different places — the dashboard's sidebar ranges
    narrow the catalog, its target sliders say what to aim for — a target outside the range
    means "as close to it as the range allows". Limits and targets a user writes together (the
    CLI's ``--min``/``--target``, the API's ``min_``/``target_``) are taken as written, and
    `PlaylistRequest` refuses a target outside its own limits as a contradiction.

    Examples
    --------
    >>> targets_within({"energy": 0.9, "tempo": 100.0}, {"tempo": 110.0}, {"energy": 0.7})
    {'energy': 0.7, 'tempo': 110.0}
    """
    return {
        column: min(max(value, minimum.get(column, -math.inf)), maximum.get(column, math.inf))
        for column, value in target.items()
    }


def describe_constraint(name: str, request: PlaylistRequest) -> str:
    """A constraint in words: ``"similarity ≥ 0.95"``, ``"energy ≤ 0.4"``."""
    if name == "threshold":
        return f"similarity ≥ {request.threshold:.2f}"
    if name.startswith("min_"):
        return f"{name[4:]} ≥ {request.minimum[name[4:]]:g}"
    if name.startswith("max_") and name != "max_per_artist":
        return f"{name[4:]} ≤ {request.maximum[name[4:]]:g}"
    if name == "explicit":
        return "no explicit songs"
    if name == "max_per_artist":
        return f"at most {request.max_per_artist} songs per artist"
    if name == "filters":
        return "the filters"
    return "one release of each recording"


def _limits(name: str, values: object) -> dict[str, float]:
    if not isinstance(values, dict):
        raise ConfigError(f"{name}: must be a dict of column to value, got {values!r}.")
    prefix = {"minimum": "min", "maximum": "max", "target": "target"}[name]
    out: dict[str, float] = {}
    for column, value in values.items():
        if column not in LIMITED_COLUMNS:
            raise ConfigError(
                f"{prefix}_{column}: '{column}' cannot be limited; use one of "
                f"{', '.join(LIMITED_COLUMNS)}."
            )
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ConfigError(f"{prefix}_{column}={value!r}: must be a number.")
        number = float(value)
        bounds = RANGES.get(column)
        if not math.isfinite(number) or (bounds and not bounds.low <= number <= bounds.high):
            span = f"{bounds.low:g} to {bounds.high:g} ({bounds.meaning})" if bounds else "finite"
            raise ConfigError(f"{prefix}_{column}={number:g}: must be {span}.")
        out[column] = number
    return out


def _check_number(name: str, value: object, low: float, high: float, *, whole: bool = False):
    kinds = (int, np.integer) if whole else (int, float, np.number)
    if isinstance(value, bool) or not isinstance(value, kinds):
        kind = "whole number" if whole else "number"
        raise ConfigError(f"{name}={value!r}: must be a {kind} from {low:g} to {high:g}.")
    if not low <= value <= high:
        raise ConfigError(f"{name}={value:g}: must be from {low:g} to {high:g}.")
