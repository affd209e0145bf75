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
    banned = np.zeros(index.size, dtype=bool)  # every release of a seed's recording
    for row in seed_rows:
        banned[index.releases_of(int(row))] = True
    allowed = ~banned[scope]
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


@pytest.mark.parametrize("table", [TOPHITS, GENRES_11K])
def test_playlist_rows_are_the_playlists_songs(atlas_of, table) -> None:
    """`playlist_rows` ranks only a head of the candidates (`candidates.leading`); the songs
    and their order are still `generate_playlist`'s, which ranks them all: with and without
    targets (every distance 0: the head is cut by similarity), small artist caps (the head
    must grow), sizes up to 100."""
    from dataclasses import replace

    from soundatlas.discovery import generate_playlist, playlist_rows

    atlas = atlas_of(table)
    compared = 0
    for number, request in enumerate(requests(atlas, 60)):
        request = replace(
            request,
            size=(20, 100, 5, 50)[number % 4],
            max_per_artist=(2, 1, 3)[number % 3],
            order=("score", "smooth", "rising", "falling")[number % 4],
        )
        expected = generate_playlist(atlas, request).tracks["row"].to_numpy()
        assert playlist_rows(atlas, request).tolist() == expected.tolist(), request
        compared += len(expected)
    assert compared > 500


def test_a_head_that_must_grow_gives_the_same_songs(atlas_of, monkeypatch) -> None:
    """With a head of exactly ``size`` songs, releases and the artist cap leave fewer: the
    head grows until they do not, and the songs are still the playlist's."""
    from dataclasses import replace

    import soundatlas.discovery.playlists.candidates as candidates
    from soundatlas.discovery import generate_playlist, playlist_rows

    atlas = atlas_of(GENRES_11K)
    monkeypatch.setattr(candidates, "HEAD_FACTOR", 1)
    monkeypatch.setattr(candidates, "HEAD_MINIMUM", 1)
    grown = 0
    ranked = candidates.leading

    def counted(similarity, distance, rows, count):
        nonlocal grown
        grown += count > 101  # beyond the first head of 26 or 101 songs
        return ranked(similarity, distance, rows, count)

    monkeypatch.setattr(candidates, "leading", counted)
    for number, request in enumerate(requests(atlas, 30)):
        request = replace(request, size=(25, 100)[number % 2], max_per_artist=1)
        expected = generate_playlist(atlas, request).tracks["row"].to_numpy()
        assert playlist_rows(atlas, request).tolist() == expected.tolist(), request
    assert grown > 0
