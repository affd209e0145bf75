"""Playlists and seed pools keep only the songs that reach the threshold, scored in one
compiled pass (`soundatlas.discovery.playlists.nearby`): the same scores and answers as
scoring every song with `similarity_to`."""

from __future__ import annotations

import numpy as np
import pytest
from realdata import GENRES_11K

from soundatlas.discovery import (
    PlaylistRequest,
    generate_playlist,
    playlist_rows,
    recommend,
    seed_pools,
)
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.playlists import candidates, nearby, seeds
from soundatlas.discovery.playlists.nearby import (
    first_pass,
    float32_above,
    reaching,
    similarity_to,
    within_reach,
)


def _everything(index, scope, direction, threshold, near=None):
    """`within_reach` that keeps every song, scored by `similarity_to`: the whole scan."""
    return np.arange(len(scope)), similarity_to(index, scope, direction)


def _scored(index, scope, direction, threshold, near=None):
    """`reaching` by scoring every song."""
    return scope[similarity_to(index, scope, direction) >= threshold]


def _requests(index, count: int, seed: int) -> list[PlaylistRequest]:
    """Varied requests: one to three seed songs, thresholds from 0.7, targets and limits."""
    rng = np.random.default_rng(seed)
    requests = []
    for number in range(count):
        chosen = rng.choice(index.size, size=1 + number % 3, replace=False)
        requests.append(
            PlaylistRequest(
                method=None,
                seeds=tuple(str(index.ids[r]) for r in chosen),
                size=int(rng.choice([5, 20, 100])),
                threshold=float(rng.choice([0.7, 0.8, 0.9, 0.95])),
                target={"energy": round(float(rng.uniform(0.2, 0.9)), 2)} if number % 2 else {},
                minimum={"tempo": float(rng.integers(60, 130))} if number % 3 else {},
                maximum={"danceability": 0.8} if number % 4 == 1 else {},
                allow_explicit=bool(number % 5),
            )
        )
    requests.append(PlaylistRequest(method="kmeans", cluster=0, size=30, threshold=0.7))
    return requests


def test_answers_are_those_of_scoring_every_song(atlas_of, monkeypatch) -> None:
    atlas = atlas_of(GENRES_11K)
    index = discovery_index(atlas)
    requests = _requests(index, 40, seed=1)
    fast = [
        (playlist_rows(atlas, r), generate_playlist(atlas, r), seed_pools(atlas, r))
        for r in requests
    ]
    together = [recommend(atlas, r) for r in requests]
    monkeypatch.setattr(candidates, "within_reach", _everything)
    monkeypatch.setattr(seeds, "reaching", _scored)
    for request, (rows, playlist, pools), (shared_rows, shared_pools) in zip(
        requests, fast, together, strict=True
    ):
        whole = generate_playlist(atlas, request)
        assert rows.tolist() == whole.tracks["row"].tolist()
        assert shared_rows.tolist() == rows.tolist()
        assert shared_pools == pools
        assert playlist.tracks.equals(whole.tracks)
        assert playlist.cut_by == whole.cut_by
        assert playlist.message == whole.message
        assert pools == seed_pools(atlas, request)
    assert any(len(p.tracks) == r.size for (_, p, _), r in zip(fast, requests, strict=True))
    assert any(pool.initial > 0 for _, _, pools in fast for pool in pools)


def test_seed_pools_count_what_a_whole_scan_counts(atlas_of) -> None:
    """Counted by hand over every song, without the library's filters."""
    atlas = atlas_of(GENRES_11K)
    index = discovery_index(atlas)
    every = np.arange(index.size)
    for request in _requests(index, 12, seed=2)[:-1]:
        pools = seed_pools(atlas, request)
        banned = np.zeros(index.size, dtype=bool)  # every release of a seed's recording
        for row in candidates.seed_songs(atlas, index, request.seeds)[0]:
            banned[index.releases_of(int(row))] = True
        for pool, seed in zip(pools, request.seeds, strict=True):
            point = candidates.seed_point(atlas, index, "seeds", seed)
            direction = index.direction(point, index.feature_columns(None))
            near = (similarity_to(index, every, direction) >= request.threshold) & ~banned
            passing = near.copy()
            for column, low in request.minimum.items():
                passing &= index.numbers(column) >= low
            for column, high in request.maximum.items():
                passing &= index.numbers(column) <= high
            if not request.allow_explicit:
                passing &= index.numbers("explicit") != 1.0
            assert (pool.initial, pool.after_filtering) == (int(near.sum()), int(passing.sum()))
            assert pool.after_relinking == len(np.unique(index.recording[passing]))


def test_a_songs_similarity_is_the_same_whichever_songs_are_scored_with_it(atlas_of) -> None:
    atlas = atlas_of(GENRES_11K)
    index = discovery_index(atlas)
    rng = np.random.default_rng(3)
    every = np.arange(index.size)
    for _ in range(20):
        direction = index.direction(
            rng.normal(size=index.unit.shape[1]), index.feature_columns(None)
        )
        whole = similarity_to(index, every, direction)
        for count in (1, 3, 17, 1000):
            rows = np.sort(rng.choice(index.size, count, replace=False))
            assert np.array_equal(similarity_to(index, rows, direction), whole[rows])
        # The first pass keeps exactly the songs that reach the threshold, with their scores.
        for threshold in (0.7, 0.9):
            reach, similarity = within_reach(index, every, direction, threshold)
            assert reach.tolist() == np.flatnonzero(~(whole < threshold)).tolist()
            assert np.array_equal(similarity, whole[reach])
            found = reaching(index, every, direction, threshold)
            assert found.tolist() == np.flatnonzero(whole >= threshold).tolist()


@pytest.mark.parametrize("block", [100, 1000])
def test_one_first_pass_for_several_directions_keeps_what_each_alone_keeps(
    atlas_of, monkeypatch, block
) -> None:
    """`recommend` shares one pass for the reference and every seed (`first_pass`), taken a
    block of songs at a time: each direction keeps exactly the songs reaching the threshold,
    with `similarity_to`'s scores bit for bit where scored (the first ``scored`` directions);
    a direction not scored keeps exactly the songs `reaching` counts."""
    atlas = atlas_of(GENRES_11K)
    index = discovery_index(atlas)
    # Several blocks, the last one short; at 100 songs a block, the kept songs outgrow the
    # room first made for them (four blocks) many times.
    monkeypatch.setattr(nearby, "BLOCK", block)
    rng = np.random.default_rng(5)
    every = np.arange(index.size)
    columns = index.feature_columns(None)
    directions = [index.direction(rng.normal(size=len(columns)), columns) for _ in range(6)]
    cluster = np.flatnonzero(index.labels["kmeans"] == 0)
    for threshold, scored in ((0.7, 6), (0.9, 6), (0.7, 2), (0.8, 0)):
        passes = first_pass(index, directions, threshold, scored=scored)
        assert len(passes) == len(directions)
        for number, (direction, near) in enumerate(zip(directions, passes, strict=True)):
            whole = similarity_to(index, every, direction)
            if number < scored:
                assert near.rows.tolist() == np.flatnonzero(~(whole < threshold)).tolist()
                assert np.array_equal(near.similarity, whole[near.rows])
            else:
                assert near.similarity is None
                assert near.rows.tolist() == np.flatnonzero(whole >= threshold).tolist()
            for scope in (every, cluster, cluster[:0]):
                found = reaching(index, scope, direction, threshold, near)
                assert found.tolist() == scope[whole[scope] >= threshold].tolist()
                reach, similarity = within_reach(index, scope, direction, threshold, near)
                assert reach.tolist() == np.flatnonzero(~(whole[scope] < threshold)).tolist()
                assert np.array_equal(similarity, whole[scope][reach])


def test_a_cluster_scope_is_narrowed_within_the_cluster(atlas_of) -> None:
    atlas = atlas_of(GENRES_11K)
    index = discovery_index(atlas)
    scope = np.flatnonzero(index.labels["kmeans"] == 0)
    direction = index.unit[scope[0]]
    reach, similarity = within_reach(index, scope, direction, 0.8)
    assert reach.max() < len(scope)
    assert np.array_equal(similarity, similarity_to(index, scope[reach], direction))
    assert (similarity >= 0.8).all()
    assert scope[0] in scope[reach]


def test_leading_is_a_prefix_of_the_whole_ranking() -> None:
    """Ties in distance (no targets: all 0) and in similarity, and missing similarities."""
    rng = np.random.default_rng(4)
    for trial in range(200):
        size = int(rng.integers(1, 300))
        similarity = np.round(rng.uniform(0.7, 1.0, size), int(rng.integers(1, 4)))
        similarity[rng.random(size) < 0.02] = np.nan
        distance = np.round(rng.uniform(0, 2, size), 1) if trial % 2 else np.zeros(size)
        rows = rng.permutation(size * 2)[:size]
        whole = candidates.rank_order(similarity, distance, rows)
        for count in (1, 5, size // 2 + 1, size):
            found = candidates.leading(similarity, distance, rows, count)
            assert len(found) >= min(count, size)
            assert found.tolist() == whole[: len(found)].tolist()


def test_the_float32_threshold_keeps_what_the_float64_filter_keeps() -> None:
    """`first_pass` compares float32 scores with `float32_above`; the playlist's filter
    compares them as float64 with the threshold: the same songs, at every threshold, for
    scores on both sides of it and exactly at its float32 neighbours."""
    rng = np.random.default_rng(6)
    for threshold in [0.7, 0.8, 0.9, 0.95, 0.75, *rng.uniform(0.7, 1.0, 50)]:
        near = np.float32(threshold)
        scores = np.concatenate(
            [
                rng.uniform(threshold - 1e-6, threshold + 1e-6, 200).astype(np.float32),
                [near, np.nextafter(near, np.float32(0)), np.nextafter(near, np.float32(2))],
                [np.float32(np.nan)],
            ]
        ).astype(np.float32)
        low = float32_above(threshold)
        assert ((scores < low) == (scores.astype(np.float64) < threshold)).all()
