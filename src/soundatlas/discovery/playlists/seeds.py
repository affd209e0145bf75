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

import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.playlists.candidates import (
    filters,
    releases_mask,
    scope_of,
    seed_point,
    seed_songs,
)
from soundatlas.discovery.playlists.nearby import reaching
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
    scope, _ = scope_of(atlas, index, request)
    seed_rows, _ = seed_songs(atlas, index, request.seeds)
    banned = releases_mask(index, seed_rows)
    columns = index.feature_columns(None)
    seeds = [(kind, seed) for kind in SEED_KINDS for seed in getattr(request, kind)]
    counted = np.zeros(len(index.releases), dtype=bool)  # one flag per recording
    pools = []
    for kind, seed in seeds:
        direction = index.direction(seed_point(atlas, index, kind, seed), columns)
        near = np.zeros(0, dtype=np.int64)
        if direction is not None:
            # The same similarity as the playlist's, scored only where the first pass is
            # unsure (`nearby`).
            near = reaching(index, scope, direction, request.threshold)
            near = near[~banned[near]]
        # The filters but the threshold, over the seed's pool only.
        failing = filters(atlas, request, near, np.ones(len(near)))
        failing.pop("threshold")
        passing = near[~np.logical_or.reduce([np.zeros(len(near), bool), *failing.values()])]
        counted[:] = False
        counted[index.recording[passing]] = True  # distinct recordings, without sorting
        pools.append(SeedPool(kind, seed, len(near), len(passing), int(counted.sum())))
    return pools
