"""How many songs each seed of a playlist request could give on its own: `seed_pools`.

Spotify's ``/recommendations`` answered, for every seed, the size of its pool before and after
the request's filters. A SoundAtlas playlist measures similarity to the seeds' centroid, so a
seed's own pool is what a request with that seed alone would consider:

- ``initial``: songs in scope (the cluster's, or the catalog's) within the request's
  similarity threshold of the seed, not counting releases of a seed song's recording;
- ``after_filtering``: those that also pass every ``min_*``/``max_*`` limit and the explicit
  filter;
- ``after_relinking``: those counted once per recording (the catalog lists a recording once per
  release; see `soundatlas.discovery.recordings`).

A sampled atlas counts the pools over its loaded sample, where its playlists choose songs from;
its seeds themselves may be any song or artist of the catalog (`seed_songs`, `seed_point`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.discovery.index import DiscoveryIndex, discovery_index
from soundatlas.discovery.playlists.candidates import (
    among,
    filters,
    releases,
    scope_of,
    seed_point,
    seed_songs,
    sound_source,
)
from soundatlas.discovery.playlists.nearby import Near, first_pass, reaching
from soundatlas.discovery.playlists.playlist import playlist_rows
from soundatlas.discovery.playlists.request import SEED_KINDS, PlaylistRequest


@dataclass(frozen=True)
class SeedPool:
    """The pool of one seed (see the module docstring for what each count holds).

    Attributes
    ----------
    kind
        ``"seeds"`` (a song), ``"seed_artists"`` or ``"seed_genres"``.
    seed
        The seed as the request gave it.
    initial, after_filtering, after_relinking
        Songs in its pool, after the filters, and once per recording.
    """

    kind: str
    seed: str
    initial: int
    after_filtering: int
    after_relinking: int


def seed_pools(atlas: Atlas, request: PlaylistRequest) -> list[SeedPool]:
    """The pool of every seed of ``request``, songs first, then artists, then genres.

    Raises
    ------
    LookupFailed, AmbiguousQuery
        As `generate_playlist`, for a seed or cluster that names nothing or several things.
    """
    index = discovery_index(atlas)
    seeds = _seed_directions(atlas, index, request)
    return _pools(atlas, index, request, seeds, [None] * len(seeds))


def recommend(atlas: Atlas, request: PlaylistRequest) -> tuple[np.ndarray, list[SeedPool]]:
    """`playlist_rows` and `seed_pools` of ``request`` together (the HTTP API's
    ``/v1/recommendations``), with one first pass for the playlist's reference and every seed
    (`soundatlas.discovery.playlists.nearby.first_pass`): the vectors are read once rather
    than once per direction. The same answers as the two calls.

    Raises
    ------
    LookupFailed, AmbiguousQuery, ConfigError
        As `generate_playlist`.
    """
    index = discovery_index(atlas)
    source = sound_source(atlas, index, request)
    seeds = _seed_directions(atlas, index, request)
    directions = [direction for _, _, direction in seeds if direction is not None]
    near = iter(first_pass(index, [source.reference, *directions], request.threshold))
    rows = playlist_rows(atlas, request, source=source, near=next(near))
    passes = [None if direction is None else next(near) for _, _, direction in seeds]
    return rows, _pools(atlas, index, request, seeds, passes)


def _seed_directions(
    atlas: Atlas, index: DiscoveryIndex, request: PlaylistRequest
) -> list[tuple[str, str, np.ndarray | None]]:
    """Each seed's kind, text and unit direction (None at the catalog's average sound)."""
    columns = index.feature_columns(None)
    return [
        (kind, seed, index.direction(seed_point(atlas, index, kind, seed), columns))
        for kind in SEED_KINDS
        for seed in getattr(request, kind)
    ]


def _pools(
    atlas: Atlas,
    index: DiscoveryIndex,
    request: PlaylistRequest,
    seeds: list[tuple[str, str, np.ndarray | None]],
    passes: list[Near | None],
) -> list[SeedPool]:
    """The pool of each of ``seeds`` (`_seed_directions`), with its direction's first pass
    over the catalog from ``passes`` where made (else `reaching` makes it)."""
    scope, _ = scope_of(atlas, index, request)
    seed_rows, _ = seed_songs(atlas, index, request.seeds)
    banned = releases(index, seed_rows)
    counted = np.zeros(len(index.releases), dtype=bool)  # one flag per recording
    pools = []
    for (kind, seed, direction), first in zip(seeds, passes, strict=True):
        near = np.zeros(0, dtype=np.int64)
        if direction is not None:
            # The same similarity as the playlist's, exact from the first pass (`nearby`).
            near = reaching(index, scope, direction, request.threshold, first)
            near = near[~among(near, banned)]
        # The filters but the threshold, over the seed's pool only.
        failing = filters(atlas, request, near, np.ones(len(near)))
        failing.pop("threshold")
        passing = near[~np.logical_or.reduce([np.zeros(len(near), bool), *failing.values()])]
        relinked = _distinct(index.recording[passing], counted)
        pools.append(SeedPool(kind, seed, len(near), len(passing), relinked))
    return pools


@numba.njit(cache=True, nogil=True)
def _distinct(values: np.ndarray, flags: np.ndarray) -> int:
    """How many distinct ``values`` (indexes of ``flags``, all False, left so): counted with
    a flag each rather than sorted, and without a pass over every flag."""
    count = 0
    for value in values:
        if not flags[value]:
            flags[value] = True
            count += 1
    for value in values:
        flags[value] = False
    return count
