"""`seed_pools` counts each seed's pool from the positions of its near songs; here the same
counts by the plain rule (a mask over every song in scope per seed, as it was first written),
on real tables, over varied requests."""

from __future__ import annotations

import numpy as np
import pytest
from realdata import GENRES_11K, TOPHITS

from soundatlas.discovery import PlaylistRequest, seed_pools
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.playlists.candidates import (
    filters,
    releases_mask,
    scope_of,
    seed_point,
    seed_songs,
)
from soundatlas.discovery.playlists.request import SEED_KINDS

pytestmark = pytest.mark.realdata


def plain_pools(atlas, request: PlaylistRequest) -> list[tuple[str, str, int, int, int]]:
    """Each seed's (kind, seed, initial, after filtering, after relinking), one full mask per
    seed."""
    index = discovery_index(atlas)
    scope, _ = scope_of(atlas, index, request)
    seed_rows, _ = seed_songs(atlas, index, request.seeds)
    allowed = ~releases_mask(index, seed_rows)[scope]
    failing = filters(atlas, request, scope, np.ones(len(scope)))
    failing.pop("threshold")
    passes = ~np.logical_or.reduce([np.zeros(len(scope), bool), *failing.values()])
    columns = index.feature_columns(None)
    found = []
    for kind in SEED_KINDS:
        for seed in getattr(request, kind):
            direction = index.direction(seed_point(atlas, index, kind, seed), columns)
            near = np.zeros(len(scope), dtype=bool)
            if direction is not None:
                near = allowed & (index.unit[scope] @ direction >= request.threshold)
            passing = near & passes
            recordings = len(np.unique(index.recording[scope][passing]))
            found.append((kind, seed, int(near.sum()), int(passing.sum()), recordings))
    return found


def requests(atlas, count: int) -> list[PlaylistRequest]:
    """Varied requests: one to three seed songs, an artist or a genre, limits, targets, a
    cluster's scope, explicit songs left out, other thresholds."""
    rng = np.random.default_rng(7)
    tracks = atlas.tracks
    ids = tracks["track_id"].to_numpy()
    artists = [a[0] for a in tracks["artists"].iloc[:500] if len(a)]
    genres = [g[0] for g in tracks["genres"].iloc[:500] if g is not None and len(g)]
    made = []
    for number in range(count):
        seeds = tuple(str(t) for t in rng.choice(ids, 1 + number % 3, replace=False))
        options: dict = {"seeds": seeds, "threshold": (0.8, 0.7, 0.9)[number % 3]}
        if number % 4 == 1:
            options["minimum"] = {"tempo": float(rng.integers(70, 130))}
            options["target"] = {"energy": float(rng.uniform(0.3, 0.9))}
        if number % 4 == 2:
            options["maximum"] = {"energy": 0.6, "danceability": 0.8}
            options["allow_explicit"] = False
        if number % 5 == 3:
            options["method"], options["cluster"] = "kmeans", int(tracks["cluster"].iat[0])
        if number % 6 == 4 and artists:
            options["seed_artists"] = (str(rng.choice(artists)),)
        if number % 6 == 5 and genres:
            options["seed_genres"] = (str(rng.choice(genres)),)
        made.append(PlaylistRequest(**options))
    return made


@pytest.mark.parametrize("table", [TOPHITS, GENRES_11K])
def test_seed_pools_count_as_the_plain_rule(atlas_of, table) -> None:
    atlas = atlas_of(table)
    counted = 0
    for request in requests(atlas, 60):
        found = [(p.kind, p.seed, p.initial, p.after_filtering, p.after_relinking)
                 for p in seed_pools(atlas, request)]  # fmt: skip
        assert found == plain_pools(atlas, request), request
        counted += sum(p[2] for p in found)
    assert counted > 1000  # the seeds have pools: the counts were compared, not zeros
