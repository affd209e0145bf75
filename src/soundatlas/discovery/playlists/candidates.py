"""Which songs may go in a playlist, best first, and how many each constraint cut.

The songs in scope (a cluster's, or the whole catalog's) are scored by cosine similarity to the
sound asked for: the seeds' centroid, else the cluster's, seen from the catalog's average sound
like every similarity in discovery. Each filter (threshold, ``min_*``/``max_*`` limits, no
explicit songs) rejects songs independently; the songs passing all of them are ranked by
closeness to the targets, then similarity, then catalog order. Then only the best release of
each recording is kept (and none of a seed's recording: see `soundatlas.discovery.recordings`),
and songs whose artist already has ``max_per_artist`` songs are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.metrics import NOISE
from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.discovery.artists import artist_code
from soundatlas.discovery.index import DiscoveryIndex, discovery_index
from soundatlas.discovery.playlists.nearby import (
    Near,
    all_rows,
    within_reach,
)
from soundatlas.discovery.playlists.request import PlaylistRequest
from soundatlas.discovery.similar import resolve_track
from soundatlas.discovery.sortedtext import take_rows
from soundatlas.errors import ConfigError, LookupFailed

# `playlist_rows` first ranks this many passing songs (x size, plus), then grows the head
# fourfold while releases and the artist cap leave fewer than it wants.
HEAD_FACTOR = 4
HEAD_MINIMUM = 64


@dataclass(frozen=True)
class Source:
    """Where a playlist's songs and sound come from.

    Attributes
    ----------
    scope
        Catalog rows songs may be chosen from (ascending).
    reference
        Unit vector (from the catalog mean, see `DiscoveryIndex.direction`) songs are compared
        with.
    seed_rows
        Rows of the seed songs (no release of their recordings is chosen).
    scope_text, reference_text
        Both in words, for the playlist's message.
    """

    scope: np.ndarray
    reference: np.ndarray
    seed_rows: np.ndarray
    scope_text: str
    reference_text: str


@dataclass(frozen=True)
class Candidates:
    """The songs that pass every constraint, best first.

    Attributes
    ----------
    rows, similarity, distance
        Catalog rows, their similarity to the reference and distance to the targets (0 when
        the request has none), best first.
    cut_by
        Songs each constraint removed (see `Playlist.cut_by`).
    """

    rows: np.ndarray
    similarity: np.ndarray
    distance: np.ndarray
    cut_by: dict[str, int]


def sound_source(atlas: Atlas, index: DiscoveryIndex, request: PlaylistRequest) -> Source:
    """The scope and reference of a request.

    Raises
    ------
    LookupFailed, AmbiguousQuery
        If the method was not run, the cluster does not exist, or a seed is not found or
        names several songs or artists.
    ConfigError
        If the seeds' (or cluster's) centroid is the catalog's average itself.
    """
    scope, scope_text = scope_of(atlas, index, request)
    seed_rows, points = seed_songs(atlas, index, request.seeds)
    reference, reference_text = _reference(atlas, index, request, points)
    return Source(scope, reference, seed_rows, scope_text, reference_text)


def seed_songs(
    atlas: Atlas, index: DiscoveryIndex, seeds: Sequence[str]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The loaded rows of seed songs (`releases` keeps their recordings out of a
    playlist) and each seed's scaled sound.

    A sampled atlas finds a seed outside its loaded sample in its directory (every song, by
    id or exact title): its sound is the song's own, and the loaded releases of its recording
    are among the rows returned. The songs chosen still come from the loaded sample.

    Raises
    ------
    LookupFailed, AmbiguousQuery
        If a seed names no song of the catalog, or several.
    """
    directory = index.directory
    rows: list[int] = []
    points: list[np.ndarray] = []
    for seed in seeds:
        text = str(seed).strip()
        outside = None
        if directory is not None and index.row_of_id(text) is None:
            outside = directory.row_of_id(text)
        if outside is None:
            try:
                row = resolve_track(atlas, seed)
            except LookupFailed:
                if directory is None:
                    raise
                outside = directory.resolve(text)
            else:
                rows.append(row)
                points.append(index.scaled[row].astype(np.float64))
                continue
        points.append(directory.scaled(np.array([outside]))[0])
        releases = take_rows(directory.songs, directory.releases(outside), ["track_id"])
        found = (index.row_of_id(t) for t in releases["track_id"].to_pylist())
        rows += [r for r in found if r is not None]
    return np.unique(np.asarray(rows, dtype=np.int64)), points


def select(
    atlas: Atlas,
    index: DiscoveryIndex,
    request: PlaylistRequest,
    source: Source,
    allowed: np.ndarray | None = None,
    *,
    counted: bool = True,
    near: Near | None = None,
) -> Candidates:
    """Every song in scope that passes every constraint (and is ``allowed``), best first.

    Only the songs that reach the threshold are filtered and ranked (found in one compiled
    pass, `soundatlas.discovery.playlists.nearby`). ``counted`` also counts, over the whole scope,
    the songs each filter removes (``cut_by``). Without it (`playlist_rows`, which wants only
    the songs) ``cut_by`` is empty and the candidates are the best ``request.size`` or more,
    not all: only as many of the songs passing the filters are ranked as it takes
    (`leading`), since keeping a recording's best release and capping each artist depend only
    on the songs ranked before. ``near``: the reference's first pass
    (`soundatlas.discovery.playlists.nearby.first_pass`), when the caller made it."""
    everywhere = source.scope
    reach, similarity = within_reach(index, everywhere, source.reference, request.threshold, near)
    scope = everywhere[reach]
    failing = filters(atlas, request, scope, similarity)
    if allowed is not None:
        failing["filters"] = ~in_scope(allowed, scope)
    passing = ~np.logical_or.reduce(list(failing.values()))
    passing &= ~among(scope, releases(index, source.seed_rows))
    positions = np.flatnonzero(passing)
    distance = _target_distance(atlas, request, scope[positions])
    count = len(positions) if counted else HEAD_FACTOR * request.size + HEAD_MINIMUM
    while True:
        ranking = leading(similarity[positions], distance, scope[positions], count)
        ranked, ranked_distance = positions[ranking], distance[ranking]
        unique = index.first_releases(scope[ranked])
        kept = unique[artist_cap(index, scope[ranked[unique]], request.max_per_artist)]
        if len(kept) >= request.size or len(ranking) == len(positions):
            break
        count *= 4
    cut_by: dict[str, int] = {}
    if counted:
        cut_by = _cut_counts(atlas, request, everywhere, allowed)
        cut_by["threshold"] = len(everywhere) - len(scope) + int(failing["threshold"].sum())
        cut_by["releases"] = int(len(ranked) - len(unique))
        cut_by["max_per_artist"] = int(len(unique) - len(kept))
    chosen = ranked[kept]
    return Candidates(scope[chosen], similarity[chosen], ranked_distance[kept], cut_by)


def _cut_counts(
    atlas: Atlas, request: PlaylistRequest, scope: np.ndarray, allowed: np.ndarray | None
) -> dict[str, int]:
    """How many songs of the whole ``scope`` each filter rejects on its own (the threshold's
    count is the caller's: it scored only the songs within reach of it)."""
    failing = filters(atlas, request, scope, np.ones(len(scope)))
    if allowed is not None:
        failing["filters"] = ~in_scope(allowed, scope)
    return {name: int(mask.sum()) for name, mask in failing.items()}


def in_scope(values: np.ndarray, scope: np.ndarray) -> np.ndarray:
    """``values`` (one per catalog row) of the songs in ``scope`` (ascending rows): the array
    itself when the scope is the whole catalog, which every request without a cluster has,
    rather than a copy of it made by indexing."""
    return values if len(scope) == len(values) else values[scope]


def releases(index: DiscoveryIndex, rows: np.ndarray) -> np.ndarray:
    """Every release of the recordings of ``rows`` (catalog rows, ascending, once each)."""
    found = [index.releases_of(int(row)) for row in rows]
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def among(rows: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Whether each of ``rows`` is one of ``chosen`` (ascending): a binary search in the few
    chosen rows (a seed's releases) rather than a mask over the whole catalog."""
    if len(chosen) == 0:
        return np.zeros(len(rows), dtype=bool)
    at = np.minimum(np.searchsorted(chosen, rows), len(chosen) - 1)
    return chosen[at] == rows


# -------------------------------------------------------------------------------- the source


def scope_of(
    atlas: Atlas, index: DiscoveryIndex, request: PlaylistRequest
) -> tuple[np.ndarray, str]:
    if request.cluster is None:
        return all_rows(index), f"the catalog's {index.size:,} songs"
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
    atlas: Atlas, index: DiscoveryIndex, request: PlaylistRequest, songs: list[np.ndarray]
) -> tuple[np.ndarray, str]:
    """Unit vector songs are compared with: from the catalog mean towards the seeds' centroid
    (``songs``: the seed songs' scaled sounds, `seed_songs`), else towards the cluster's (the
    same centring as every song's vector)."""
    points = list(songs)
    points += [seed_point(atlas, index, "seed_artists", n) for n in request.seed_artists]
    points += [seed_point(atlas, index, "seed_genres", g) for g in request.seed_genres]
    if points:
        centroid = np.mean(points, axis=0)
        text = "the seeds' centroid"
    else:
        centroid = np.asarray(atlas.centroids[request.method or "kmeans"][request.cluster])
        text = "the cluster's centroid"
    direction = index.direction(centroid, index.feature_columns(None))
    if direction is None:
        raise ConfigError(
            f"playlist: {text} sits exactly at the catalog's average sound, so similarity to it "
            "is undefined; choose other seeds or a cluster."
        )
    return direction, text


def seed_point(atlas: Atlas, index: DiscoveryIndex, kind: str, seed: str) -> np.ndarray:
    """The scaled sound of one seed: a song's features, an artist's or a genre's average.

    A sampled atlas finds seed songs (`seed_songs`) and artists in its whole catalog: an
    artist named by id or exact name is the average of all their songs, not only the sample's.

    Raises
    ------
    LookupFailed, AmbiguousQuery
        If the seed names no song, artist or genre of the atlas, or several.
    """
    directory = index.directory
    if kind == "seeds":
        return seed_songs(atlas, index, [seed])[1][0]
    if kind == "seed_artists" and directory is not None:
        everywhere = directory.artist_rows(seed)
        if everywhere is not None:
            return directory.scaled(everywhere).mean(axis=0)
    if kind == "seed_artists":
        rows = index.rows_of_artist(artist_code(atlas, seed))
    else:
        rows = index.genres.rows_of(seed)
        if rows is None:
            raise LookupFailed(
                f"seed genre {seed!r}: no song of this atlas lists it; choose one of the "
                "catalog's genres (exact spelling)."
            )
    return index.scaled[rows].astype(np.float64).mean(axis=0)


# ------------------------------------------------------------------------------- constraints


def filters(
    atlas: Atlas, request: PlaylistRequest, scope: np.ndarray, similarity: np.ndarray
) -> dict[str, np.ndarray]:
    """For each active filter, which songs in scope it rejects."""
    index = discovery_index(atlas)
    failing = {"threshold": similarity < request.threshold}
    for column, low in request.minimum.items():
        failing[f"min_{column}"] = ~(in_scope(index.numbers(column), scope) >= low)
    for column, high in request.maximum.items():
        failing[f"max_{column}"] = ~(in_scope(index.numbers(column), scope) <= high)
    if not request.allow_explicit:
        failing["explicit"] = in_scope(index.numbers("explicit"), scope) == 1.0
    return failing


def _target_distance(atlas: Atlas, request: PlaylistRequest, rows: np.ndarray) -> np.ndarray:
    """Root-mean-square distance to the targets in catalog standard deviations (0 if none)."""
    if not request.target:
        return np.zeros(len(rows))
    index = discovery_index(atlas)
    squares = np.zeros(len(rows))
    for column, goal in request.target.items():
        spread = index.spread(column) or 1.0
        gap = (index.numbers(column)[rows] - goal) / spread
        squares += np.where(np.isnan(gap), np.inf, gap * gap)
    return np.sqrt(squares / len(request.target))


# ----------------------------------------------------------------------------------- ranking


def rank_order(similarity: np.ndarray, distance: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Closest to the targets first, then most similar, then catalog order (deterministic)."""
    return np.lexsort((rows, -similarity, distance))


def leading(
    similarity: np.ndarray, distance: np.ndarray, rows: np.ndarray, count: int
) -> np.ndarray:
    """The first ``count`` or more positions of `rank_order` (all of them when there are no
    more), in that order, ranking only those: the songs ahead of the ``count``-th best by
    distance, and of those tied with it the ones as similar as the ``count``-th of them or
    more. Every song ranked before one it returns is among them, so they are a prefix."""
    if count >= len(rows):
        return rank_order(similarity, distance, rows)
    bound = np.partition(distance, count - 1)[count - 1]
    chosen = distance < bound
    tied = np.flatnonzero(distance == bound)
    wanted = count - int(chosen.sum())
    closest = -similarity[tied]
    least = np.partition(closest, wanted - 1)[wanted - 1]
    chosen[tied if np.isnan(least) else tied[closest <= least]] = True
    positions = np.flatnonzero(chosen)
    return positions[rank_order(similarity[positions], distance[positions], rows[positions])]


def artist_cap(index: DiscoveryIndex, rows: np.ndarray, cap: int) -> np.ndarray:
    """Positions of ``rows`` (best first) kept when no artist may have more than ``cap`` songs.

    A song by several artists counts for each of them, and is kept only if none of them is
    full; a song without artists is always kept. Whether a song is kept depends on which
    earlier songs were, so this is one compiled pass over the songs' artists (a few
    milliseconds for a million songs) rather than array arithmetic. It counts only the artists
    of ``rows`` (a playlist's head credits a few hundred; a count for every artist of a
    10,000,000-song catalog cost half a millisecond to clear per request).
    """
    kept = _capped(
        np.asarray(rows, dtype=np.int64),
        index.row_artist_ptr,
        index.row_artist_codes,
        int(cap),
    )
    return np.flatnonzero(kept)


@numba.njit(cache=True, nogil=True)
def _capped(rows: np.ndarray, ptr: np.ndarray, codes: np.ndarray, cap: int) -> np.ndarray:
    listed = 0
    for row in rows:
        listed += ptr[row + 1] - ptr[row]
    credited = np.empty(listed, dtype=np.int64)
    at = 0
    for row in rows:
        for j in range(ptr[row], ptr[row + 1]):
            credited[at] = codes[j]
            at += 1
    artists = np.unique(credited)  # the artists of ``rows``: counted by their position here
    counts = np.zeros(len(artists), dtype=np.int64)
    kept = np.zeros(len(rows), dtype=np.bool_)
    for position in range(len(rows)):
        row = rows[position]
        local = np.searchsorted(artists, codes[ptr[row] : ptr[row + 1]])
        full = False
        for artist in local:
            if counts[artist] >= cap:
                full = True
                break
        if full:
            continue
        for artist in local:
            counts[artist] += 1
        kept[position] = True
    return kept
