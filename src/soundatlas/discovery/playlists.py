"""Smart playlists: what Spotify's closed ``/recommendations`` endpoint did, on your own catalog.

A request names where the sound comes from (a cluster of any method, and/or up to five seed
songs or artists), how close songs must be to it (cosine similarity to the cluster's centroid
or to the seeds' centroid, 0.70-1.00), and optional limits (``min_``/``max_``/``target_`` on
any audio feature, popularity, duration; explicit songs; songs per artist). Songs that pass
are ranked by closeness to the targets if any, else by similarity, then optionally ordered to
flow. The same request on the same atlas always gives the same playlist.

When fewer songs pass than were asked for, the playlist is shorter: it is never padded with
songs below the threshold, and it says how many passed and which constraint cut the most.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from soundatlas.atlas import Atlas
from soundatlas.clustering.metrics import NOISE
from soundatlas.clustering.result import METHOD_TITLES, METHODS
from soundatlas.discovery.artists import artist_code
from soundatlas.discovery.index import DiscoveryIndex, discovery_index
from soundatlas.discovery.similar import resolve_track
from soundatlas.errors import ConfigError, LookupFailed
from soundatlas.exports import neutralise_formulas
from soundatlas.files import write_text_atomic
from soundatlas.schema import AUDIO_FEATURES, RANGES

ORDERS: tuple[str, ...] = ("score", "smooth", "rising", "falling")
"""``score``: best first; ``smooth``: each song next to the one closest in tempo and energy;
``rising``/``falling``: by energy, low to high or high to low."""
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
SIZE_RANGE = (1, 50)
THRESHOLD_RANGE = (0.70, 1.00)
SPOTIFY_TRACK_URL = "https://open.spotify.com/track/"
_SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}")


@dataclass(frozen=True)
class PlaylistRequest:
    """What a playlist should sound like, and the limits it must respect.

    Attributes
    ----------
    method, cluster
        A cluster of a method (``"kmeans"``, ``"dbscan"``, ``"hierarchical"``): songs come
        from it, and without seeds similarity is measured to its centroid.
    seeds, seed_artists
        Up to 5 songs (track ids or text, see `resolve_track`) and artists in all; similarity
        is measured to the centroid of the seed songs and of each seed artist's average sound.
        Seed songs (and their copies) are not repeated in the playlist.
    size
        Songs wanted, 1-50.
    threshold
        Least cosine similarity to the centroid, 0.70-1.00.
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
    size: int = 20
    threshold: float = 0.80
    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)
    target: dict[str, float] = field(default_factory=dict)
    allow_explicit: bool = True
    max_per_artist: int = 2
    order: str = "score"

    def __post_init__(self) -> None:
        for name in ("seeds", "seed_artists"):
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
        for name in ("seeds", "seed_artists"):
            for seed in getattr(self, name):
                if not isinstance(seed, str) or not seed.strip():
                    raise ConfigError(f"{name}: {seed!r} is not a song or artist; give text.")
        seeds = len(self.seeds) + len(self.seed_artists)
        if seeds > MAX_SEEDS:
            raise ConfigError(
                f"seeds: {seeds} songs and artists given; at most {MAX_SEEDS} in all. Keep the "
                "ones that matter most."
            )
        if self.cluster is None and seeds == 0:
            raise ConfigError(
                "playlist: no source of sound; give a cluster (method and cluster), seed songs "
                "or seed artists."
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
        data["seeds"], data["seed_artists"] = list(self.seeds), list(self.seed_artists)
        return data


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


@dataclass(frozen=True)
class Playlist:
    """A generated playlist and the account of how it was chosen.

    Attributes
    ----------
    request
        The request it answers.
    tracks
        ``position`` (in the chosen order), ``rank`` (by score), ``similarity``,
        ``target_distance`` (when targets were given), then ``row, track_id, name, artists``,
        clusters and personas, genres, popularity, release year, duration, explicit, features.
    passed
        Songs that pass every constraint (at most ``size`` of them are in ``tracks``).
    limiting
        When fewer than ``size`` passed: the constraint that cut the most songs; else None.
    cut_by
        Songs each constraint removed. Filters (``threshold``, ``min_*``, ``max_*``,
        ``explicit``) are counted independently over the songs in scope (a song failing two
        counts for both); ``copies`` and ``max_per_artist`` among the songs passing every filter.
    message
        One sentence saying what happened, for people.
    """

    request: PlaylistRequest
    tracks: pd.DataFrame
    passed: int
    limiting: str | None
    cut_by: dict[str, int]
    message: str


def generate_playlist(atlas: Atlas, request: PlaylistRequest) -> Playlist:
    """Choose and order the songs of a playlist.

    Raises
    ------
    LookupFailed
        If the method was not run, the cluster does not exist, or a seed is not found.
    AmbiguousQuery
        If a seed names several songs or artists.

    Examples
    --------
    >>> request = PlaylistRequest(cluster=2, size=30, threshold=0.9, maximum={"tempo": 110})
    >>> playlist = generate_playlist(atlas, request)  # doctest: +SKIP
    >>> playlist.message  # doctest: +SKIP
    """
    index = discovery_index(atlas)
    scope, scope_text = _scope(atlas, index, request)
    seed_rows = np.unique([resolve_track(atlas, s) for s in request.seeds]).astype(np.int64)
    reference, reference_text = _reference(atlas, index, request, seed_rows)
    similarity = (index.unit[scope] @ reference).astype(np.float64)
    failing = _filters(atlas, request, scope, similarity)
    passing = ~np.logical_or.reduce(list(failing.values()))
    if len(seed_rows):
        seed_copies = np.concatenate([index.copies_of(r) for r in seed_rows])
        passing &= ~np.isin(scope, seed_copies)
    positions = np.flatnonzero(passing)
    distance = _target_distance(atlas, index, request, scope[positions])
    ranked = positions[_rank_order(similarity[positions], distance, scope[positions])]
    distance_of = np.zeros(len(scope))
    distance_of[positions] = distance
    unique = _first_copies(index, scope[ranked])
    eligible = ranked[unique]
    capped = _artist_cap(index, scope[eligible], request.max_per_artist)
    chosen = eligible[capped]
    cut_by = {name: int(mask.sum()) for name, mask in failing.items()}
    cut_by["copies"] = int(len(ranked) - len(eligible))
    cut_by["max_per_artist"] = int(len(eligible) - len(chosen))
    passed = len(chosen)
    chosen = chosen[: request.size]
    flow = _flow_order(atlas, request.order, scope[chosen])
    chosen = chosen[flow]
    ranks = flow + 1
    tracks = _track_table(
        index, scope[chosen], ranks, similarity[chosen], request, distance_of[chosen]
    )
    limiting = None
    if passed < request.size and any(cut_by.values()):
        limiting = max(cut_by, key=lambda name: cut_by[name])
    message = _message(request, passed, limiting, cut_by, scope_text, reference_text, len(scope))
    return Playlist(request, tracks, passed, limiting, cut_by, message)


def _scope(atlas: Atlas, index: DiscoveryIndex, request: PlaylistRequest) -> tuple[np.ndarray, str]:
    if request.cluster is None:
        return np.arange(index.size), f"the catalog's {index.size:,} songs"
    method = request.method or "kmeans"
    atlas.require_method(method)
    personas = atlas.personas_of(method)
    clusters = personas.loc[personas["cluster"] != NOISE, "cluster"].astype(int).tolist()
    if request.cluster not in clusters:
        raise LookupFailed(
            f"cluster {request.cluster} ({METHOD_TITLES[method]}): this atlas has clusters "
            f"{_span(clusters)}; choose one of them."
        )
    persona = personas.set_index("cluster").loc[request.cluster, "persona"]
    rows = np.flatnonzero(index.labels[method] == request.cluster)
    title = METHOD_TITLES[method]
    return rows, f"the {len(rows):,} songs of {title} cluster {request.cluster} ({persona})"


def _span(clusters: list[int]) -> str:
    if clusters and clusters == list(range(clusters[0], clusters[-1] + 1)):
        return f"{clusters[0]}-{clusters[-1]}"
    return ", ".join(map(str, clusters)) or "none"


def _reference(
    atlas: Atlas, index: DiscoveryIndex, request: PlaylistRequest, seed_rows: np.ndarray
) -> tuple[np.ndarray, str]:
    """Unit vector songs are compared with: the seeds' centroid, else the cluster's."""
    points = [index.scaled[r].astype(np.float64) for r in seed_rows]
    for name in request.seed_artists:
        rows = index.rows_of_artist(artist_code(atlas, name))
        points.append(index.scaled[rows].astype(np.float64).mean(axis=0))
    if points:
        centre = np.mean(points, axis=0)
        text = "the seeds' centroid"
    else:
        centre = np.asarray(atlas.centroids[request.method or "kmeans"][request.cluster])
        text = "the cluster's centroid"
    norm = float(np.linalg.norm(centre))
    if norm == 0.0:
        raise ConfigError(
            f"playlist: {text} sits exactly at the catalog's average sound, so similarity to it "
            "is undefined; choose other seeds or a cluster."
        )
    return (centre / norm).astype(np.float32), text


def _column(atlas: Atlas, column: str, rows: np.ndarray) -> np.ndarray:
    values = atlas.tracks[column]
    return values.to_numpy(dtype=np.float64, na_value=np.nan)[rows]


def _filters(
    atlas: Atlas, request: PlaylistRequest, scope: np.ndarray, similarity: np.ndarray
) -> dict[str, np.ndarray]:
    """For each active filter, which songs in scope it rejects."""
    failing = {"threshold": similarity < request.threshold}
    for column, low in request.minimum.items():
        values = _column(atlas, column, scope)
        failing[f"min_{column}"] = ~(values >= low)
    for column, high in request.maximum.items():
        values = _column(atlas, column, scope)
        failing[f"max_{column}"] = ~(values <= high)
    if not request.allow_explicit:
        explicit = atlas.tracks["explicit"].to_numpy(dtype=bool, na_value=False)
        failing["explicit"] = explicit[scope]
    return failing


def _target_distance(
    atlas: Atlas, index: DiscoveryIndex, request: PlaylistRequest, rows: np.ndarray
) -> np.ndarray:
    """Root-mean-square distance to the targets in catalog standard deviations (0 if none)."""
    if not request.target:
        return np.zeros(len(rows))
    squares = np.zeros(len(rows))
    for column, goal in request.target.items():
        everything = atlas.tracks[column].to_numpy(dtype=np.float64, na_value=np.nan)
        spread = float(np.nanstd(everything)) or 1.0
        gap = (everything[rows] - goal) / spread
        squares += np.where(np.isnan(gap), np.inf, gap * gap)
    return np.sqrt(squares / len(request.target))


def _rank_order(similarity: np.ndarray, distance: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Closest to the targets first, then most similar, then catalog order (deterministic)."""
    return np.lexsort((rows, -similarity, distance))


def _first_copies(index: DiscoveryIndex, rows: np.ndarray) -> np.ndarray:
    """Positions of the first (best-ranked) copy of each song in ``rows``."""
    _, first = np.unique(index.copy_group[rows], return_index=True)
    return np.sort(first)


def _artist_cap(index: DiscoveryIndex, rows: np.ndarray, cap: int) -> np.ndarray:
    """Positions of ``rows`` kept, in order, when no artist may have more than ``cap`` songs.

    A song by several artists counts for each of them, and is kept only if none of them is
    full. When every song has at most one artist this is a vectorised running count.
    """
    per_song = np.diff(index.row_artist_ptr)[rows]
    if (per_song <= 1).all():
        codes = np.full(len(rows), -1, dtype=np.int64)
        has = per_song == 1
        codes[has] = index.row_artist_codes[index.row_artist_ptr[rows[has]]]
        seen = pd.Series(codes).groupby(codes).cumcount().to_numpy()
        return np.flatnonzero((codes < 0) | (seen < cap))
    counts: dict[int, int] = {}
    kept = []
    for position, row in enumerate(rows):
        artists = index.artists_of(row).tolist()
        if any(counts.get(a, 0) >= cap for a in artists):
            continue
        for a in artists:
            counts[a] = counts.get(a, 0) + 1
        kept.append(position)
    return np.asarray(kept, dtype=np.int64)


def _flow_order(atlas: Atlas, order: str, rows: np.ndarray) -> np.ndarray:
    """Permutation of the chosen songs (given best first) for the requested order."""
    ranks = np.arange(len(rows))
    if order == "score" or len(rows) < 2:
        return ranks
    energy = atlas.tracks["energy"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
    if order in ("rising", "falling"):
        key = np.nan_to_num(energy, nan=np.inf if order == "rising" else -np.inf)
        return np.lexsort((ranks, key if order == "rising" else -key))
    tempo = atlas.tracks["tempo"].to_numpy(dtype=np.float64, na_value=np.nan)
    spread_tempo = float(np.nanstd(tempo)) or 1.0
    spread_energy = float(np.nanstd(atlas.tracks["energy"].to_numpy(np.float64, na_value=np.nan)))
    points = np.column_stack(
        [np.nan_to_num(tempo[rows] / spread_tempo), np.nan_to_num(energy / (spread_energy or 1.0))]
    )
    path = [0]
    left = list(range(1, len(rows)))
    while left:
        here = points[path[-1]]
        gaps = np.linalg.norm(points[left] - here, axis=1)
        path.append(left.pop(int(np.argmin(gaps))))
    return np.asarray(path)


def _track_table(
    index: DiscoveryIndex,
    rows: np.ndarray,
    ranks: np.ndarray,
    similarity: np.ndarray,
    request: PlaylistRequest,
    distance: np.ndarray,
) -> pd.DataFrame:
    song = index.song_columns(rows)
    table: dict[str, object] = {
        "position": np.arange(1, len(rows) + 1),
        "rank": ranks.astype(np.int64),
        "row": song.pop("row"),
        "track_id": song.pop("track_id"),
        "name": song.pop("name"),
        "artists": song.pop("artists"),
        "similarity": np.clip(similarity, -1.0, 1.0),
    }
    if request.target:
        table["target_distance"] = np.asarray(distance, dtype=np.float64)
    table.update(song)
    return pd.DataFrame(table)


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
    return "one copy of each song"


_ADVICE = {
    "threshold": "lower the threshold",
    "explicit": "allow explicit songs",
    "max_per_artist": "allow more songs per artist",
    "copies": "choose another source of sound (the catalog lists these songs several times)",
}


def _message(
    request: PlaylistRequest,
    passed: int,
    limiting: str | None,
    cut_by: dict[str, int],
    scope_text: str,
    reference_text: str,
    scope_size: int,
) -> str:
    source = f"similarity to {reference_text}, from {scope_text}"
    if passed >= request.size:
        return f"{request.size} songs chosen from {passed:,} that pass every constraint ({source})."
    if passed == 0:
        words = f"None of the {request.size} songs asked for pass every constraint"
    else:
        words = f"Only {passed:,} of the {request.size} songs asked for pass every constraint"
    if limiting is None:
        return f"{words} ({source}): there are no more songs to choose from."
    if limiting.startswith("min_"):
        advice = f"lower min_{limiting[4:]}"
    elif limiting.startswith("max_") and limiting != "max_per_artist":
        advice = f"raise max_{limiting[4:]}"
    else:
        advice = _ADVICE[limiting]
    return (
        f"{words} ({source}); {describe_constraint(limiting, request)} cut the most: "
        f"{cut_by[limiting]:,} of {scope_size:,} songs. To get more, {advice}."
    )


def playlist_csv(playlist: Playlist) -> str:
    """The playlist's songs as CSV text (text cells that could run as formulas neutralised)."""
    return neutralise_formulas(playlist.tracks).to_csv(index=False, na_rep="")


def playlist_json(playlist: Playlist) -> str:
    """The playlist as JSON: the request, the account (passed, limiting, cut_by, message) and
    the songs (text cells that could run as formulas neutralised)."""
    records = json.loads(
        neutralise_formulas(playlist.tracks).to_json(orient="records", force_ascii=False)
    )
    data = {
        "request": playlist.request.to_dict(),
        "passed": playlist.passed,
        "limiting": playlist.limiting,
        "cut_by": playlist.cut_by,
        "message": playlist.message,
        "tracks": records,
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


def spotify_urls(playlist: Playlist) -> list[str]:
    """``https://open.spotify.com/track/…`` for every song, in order; an empty list unless every
    track id is a Spotify id (22 base-62 characters)."""
    ids = [str(i) for i in playlist.tracks["track_id"]]
    if not ids or not all(_SPOTIFY_ID.fullmatch(i) for i in ids):
        return []
    return [SPOTIFY_TRACK_URL + i for i in ids]


def save_playlist(playlist: Playlist, path: str | Path) -> Path:
    """Write the playlist atomically as ``.csv``, ``.json`` or ``.txt`` (Spotify track URLs).

    Raises
    ------
    ConfigError
        If the suffix is another, or ``.txt`` is asked for a catalog without Spotify ids.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_text_atomic(path, playlist_csv(playlist))
    if suffix == ".json":
        return write_text_atomic(path, playlist_json(playlist))
    if suffix == ".txt":
        urls = spotify_urls(playlist)
        if not urls and len(playlist.tracks):
            raise ConfigError(
                f"{path}: a .txt playlist lists Spotify track URLs, but this catalog's track ids "
                "are not Spotify ids; save as .csv or .json instead."
            )
        return write_text_atomic(path, "".join(f"{url}\n" for url in urls))
    raise ConfigError(
        f"{path}: playlists are saved as .csv, .json or .txt (Spotify URLs), not "
        f"{suffix or 'a file without suffix'!r}; choose one of those suffixes."
    )
