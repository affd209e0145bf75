"""Smart playlists: threshold and artist cap hold, shortfalls explained, order, exports."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from realdata import GENRES_11K, TOPHITS

from soundatlas.atlas.build import build_atlas
from soundatlas.config import BuildConfig
from soundatlas.discovery import (
    PlaylistRequest,
    generate_playlist,
    playlist_csv,
    playlist_json,
    save_playlist,
    spotify_urls,
)
from soundatlas.discovery.playlists import Playlist, artist_cap
from soundatlas.errors import AmbiguousQuery, ConfigError, LookupFailed
from soundatlas.ingest.catalog import load_catalog

# ---------------------------------------------------------------------------- real-data rules


@pytest.mark.realdata
@pytest.mark.parametrize("name", [TOPHITS, GENRES_11K])
def test_threshold_and_artist_cap_always_hold(atlas_of, name) -> None:
    atlas = atlas_of(name)
    for cluster in atlas.personas_of("kmeans")["cluster"]:
        for cap in (1, 2):
            request = PlaylistRequest(
                cluster=int(cluster), size=50, threshold=0.95, max_per_artist=cap
            )
            playlist = generate_playlist(atlas, request)
            tracks = playlist.tracks
            assert (tracks["similarity"] >= 0.95).all()
            assert (tracks["cluster"] == cluster).all()
            artists = atlas.tracks["artists"].iloc[tracks["row"]].explode().dropna()
            assert artists.empty or artists.value_counts().max() <= cap
            assert len(tracks) == min(50, playlist.passed)


@pytest.mark.realdata
def test_seeded_playlist_excludes_the_seeds_and_respects_limits(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    request = PlaylistRequest(
        method=None,
        seeds=("halo beyonce",),
        seed_artists=("rihanna",),
        size=15,
        threshold=0.75,
        minimum={"danceability": 0.4},
        maximum={"energy": 0.8, "tempo": 140},
        allow_explicit=False,
    )
    tracks = generate_playlist(atlas, request).tracks
    assert len(tracks) == 15
    assert "Halo" not in tracks["name"].tolist()
    assert (tracks["danceability"] >= 0.4).all() and (tracks["energy"] <= 0.8).all()
    assert (tracks["tempo"] <= 140).all() and not tracks["explicit"].any()


# --------------------------------------------------------------------------------- shortfalls


@pytest.mark.realdata
def test_shortfall_names_the_threshold_when_it_cuts_most(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    playlist = generate_playlist(atlas, PlaylistRequest(cluster=0, size=20, threshold=0.95))
    assert playlist.passed < 20 and len(playlist.tracks) == playlist.passed
    assert playlist.limiting == "threshold"
    assert playlist.cut_by["threshold"] > 0
    assert f"Only {playlist.passed} of the 20 songs asked for" in playlist.message
    assert "similarity ≥ 0.95 cut the most" in playlist.message
    assert "lower the threshold" in playlist.message


@pytest.mark.realdata
def test_shortfall_names_a_feature_limit_when_it_cuts_most(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    request = PlaylistRequest(cluster=0, size=50, threshold=0.7, maximum={"energy": 0.2})
    playlist = generate_playlist(atlas, request)
    assert playlist.limiting == "max_energy"
    assert playlist.cut_by["max_energy"] > playlist.cut_by["threshold"]
    assert (
        "energy ≤ 0.2 cut the most" in playlist.message and "raise max_energy" in playlist.message
    )


def test_shortfall_names_the_artist_cap_when_it_binds(three_artists) -> None:
    request = PlaylistRequest(method=None, seeds=("t00",), size=20, threshold=0.7)
    playlist = generate_playlist(three_artists, request)
    assert playlist.passed == 6 and len(playlist.tracks) == 6  # 3 artists x 2
    assert playlist.limiting == "max_per_artist"
    assert playlist.cut_by["threshold"] == 1  # only t29 points the other way
    assert playlist.cut_by["max_per_artist"] == 28 - 6  # t01-t28 pass every filter
    assert "at most 2 songs per artist cut the most" in playlist.message


def test_full_playlist_reports_no_limiting_constraint(three_artists) -> None:
    request = PlaylistRequest(method=None, seeds=("t00",), size=5, threshold=0.7)
    playlist = generate_playlist(three_artists, request)
    assert len(playlist.tracks) == 5 and playlist.limiting is None
    assert playlist.message.startswith("5 songs chosen from 6 that pass every constraint")


def test_never_padded_below_the_threshold(three_artists) -> None:
    playlist = generate_playlist(
        three_artists, PlaylistRequest(method=None, seeds=("t00",), size=20, threshold=1.0)
    )
    assert (playlist.tracks["similarity"] >= 1.0).all()
    assert len(playlist.tracks) == playlist.passed < 20


# ------------------------------------------------------------------------------ artist cap


def _greedy_cap(artists: list[list[int]], cap: int) -> list[int]:
    """The rule, written plainly: in rank order, keep a song unless one of its artists
    already has ``cap`` songs kept."""
    counts: dict[int, int] = {}
    kept = []
    for position, names in enumerate(artists):
        if any(counts.get(a, 0) >= cap for a in names):
            continue
        for a in names:
            counts[a] = counts.get(a, 0) + 1
        kept.append(position)
    return kept


def _csr_index(artists: list[list[int]]) -> SimpleNamespace:
    """The artist columns of a discovery index (CSR: row -> artist codes)."""
    lengths = [len(a) for a in artists]
    return SimpleNamespace(
        row_artist_ptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        row_artist_codes=np.array([c for a in artists for c in a], dtype=np.int64),
        artists=range(max((c for a in artists for c in a), default=-1) + 1),
    )


def test_artist_cap_counts_every_artist_of_a_song() -> None:
    # Ranked: s0 by A and B, s1 by A, s2 by B and C, s3 by C, s4 by nobody, s5 by D.
    artists = [[0, 1], [0], [1, 2], [2], [], [3]]
    index = _csr_index(artists)
    rows = np.arange(6)
    assert artist_cap(index, rows, 1).tolist() == [0, 3, 4, 5]  # s1: A full; s2: B full
    assert artist_cap(index, rows, 2).tolist() == [0, 1, 2, 3, 4, 5]
    # Rank order decides: s2 first keeps B and C, so s0 (B) and s3 (C) go.
    assert artist_cap(index, np.array([2, 0, 1, 3]), 1).tolist() == [0, 2]
    assert artist_cap(index, np.array([4]), 1).tolist() == [0]  # nobody credited
    assert artist_cap(index, np.zeros(0, dtype=np.int64), 1).tolist() == []


def test_artist_cap_matches_the_plain_rule_at_a_million_songs() -> None:
    """The cap used to loop in Python over every song once any song had several artists
    (seconds at a million songs; `benchmarks/discovery.py` times playlists). Its array form
    must agree with the plain rule, a Python loop, on every one of a million songs."""
    rng = np.random.default_rng(0)
    size = 1_000_000
    lengths = rng.choice([0, 1, 2, 3], size=size, p=[0.02, 0.78, 0.15, 0.05])
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    owner = np.repeat(np.arange(size), lengths)
    within = np.arange(len(owner)) - ptr[owner]
    main = rng.zipf(1.6, size=size) % 40_000  # a few artists with many songs, most with few
    codes = (main[owner] + within * 7_919) % 40_000  # an artist is listed once per song
    index = SimpleNamespace(row_artist_ptr=ptr, row_artist_codes=codes, artists=range(40_000))
    rows = rng.permutation(size)
    listed = np.split(codes, ptr[1:-1])
    plain = _greedy_cap([listed[r].tolist() for r in rows], 2)
    kept = artist_cap(index, rows, 2)
    assert kept.tolist() == plain and len(kept) < size


def test_multi_artist_songs_respect_the_cap_in_a_playlist() -> None:
    """Songs featuring a second artist count for both. As in `three_artists`, only loudness
    varies and d23 is the quiet one, so d01-d22 are equally similar to d00 and rank in
    catalog order."""
    credited = ["Ana;Bo", "Bo;Cy", "Cy", "Ana", "Dee;Ana"]
    rows = [
        {
            "track_id": f"d{i:02d}",
            "name": f"Duet {i}",
            "artists": credited[i % 5],
            "loudness": -60.0 if i == 23 else -7.0 + 0.1 * i,
            "danceability": 0.6,
            "energy": 0.5,
            "speechiness": 0.05,
            "acousticness": 0.2,
            "instrumentalness": 0.0,
            "liveness": 0.1,
            "valence": 0.5,
            "tempo": 100.0,
        }
        for i in range(24)
    ]
    atlas = build_atlas(load_catalog(pd.DataFrame(rows)), BuildConfig(methods=("kmeans",), k=2))
    ranked = [credited[i % 5].split(";") for i in range(1, 23)]
    for cap in (1, 2, 3):
        request = PlaylistRequest(
            method=None, seeds=("d00",), size=20, threshold=0.7, max_per_artist=cap
        )
        playlist = generate_playlist(atlas, request)
        expected = [f"d{p + 1:02d}" for p in _greedy_cap(ranked, cap)]
        assert playlist.tracks["track_id"].tolist() == expected[:20]
        assert playlist.passed == len(expected)
        assert playlist.cut_by["max_per_artist"] == 22 - len(expected)
        artists = atlas.tracks["artists"].iloc[playlist.tracks["row"]].explode()
        assert artists.value_counts().max() <= cap


# ------------------------------------------------------------------------------------- order


@pytest.mark.realdata
@pytest.mark.parametrize(("order", "sign"), [("rising", 1), ("falling", -1)])
def test_energy_arcs_are_monotone(atlas_of, order, sign) -> None:
    atlas = atlas_of(GENRES_11K)
    request = PlaylistRequest(cluster=1, size=30, threshold=0.85, order=order)
    energy = generate_playlist(atlas, request).tracks["energy"].to_numpy()
    assert len(energy) == 30
    assert (sign * np.diff(energy) >= 0).all()


@pytest.mark.realdata
def test_orders_only_rearrange_the_same_songs(atlas_of) -> None:
    atlas = atlas_of(GENRES_11K)
    by_score = generate_playlist(atlas, PlaylistRequest(cluster=2, size=25)).tracks
    assert by_score["rank"].tolist() == list(range(1, 26))
    assert (np.diff(by_score["similarity"]) <= 0).all()
    for order in ("smooth", "rising", "falling"):
        other = generate_playlist(atlas, PlaylistRequest(cluster=2, size=25, order=order)).tracks
        assert sorted(other["track_id"]) == sorted(by_score["track_id"])
        assert other["position"].tolist() == list(range(1, 26))


@pytest.mark.realdata
def test_smooth_order_has_gentler_steps_than_score_order(atlas_of) -> None:
    atlas = atlas_of(GENRES_11K)
    steps = {}
    for order in ("score", "smooth"):
        tracks = generate_playlist(atlas, PlaylistRequest(cluster=0, size=40, order=order)).tracks
        steps[order] = np.abs(np.diff(tracks["tempo"].to_numpy())).mean()
    assert steps["smooth"] < steps["score"] / 2


@pytest.mark.realdata
def test_same_request_same_playlist(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    request = PlaylistRequest(cluster=1, size=30, threshold=0.8, order="smooth")
    first, second = generate_playlist(atlas, request), generate_playlist(atlas, request)
    pd.testing.assert_frame_equal(first.tracks, second.tracks)
    assert first.message == second.message and first.cut_by == second.cut_by


@pytest.mark.realdata
def test_targets_rank_the_nearest_first(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    request = PlaylistRequest(cluster=0, size=20, threshold=0.7, target={"tempo": 100})
    tracks = generate_playlist(atlas, request).tracks
    assert (np.diff(tracks["target_distance"]) >= 0).all()
    assert abs(tracks["tempo"].iat[0] - 100) < abs(tracks["tempo"].iat[-1] - 100)


@pytest.mark.realdata
def test_missing_values_fail_a_limit(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)  # the chart table has no time signature
    request = PlaylistRequest(cluster=0, size=5, minimum={"time_signature": 3})
    playlist = generate_playlist(atlas, request)
    assert playlist.passed == 0 and playlist.limiting == "min_time_signature"
    assert playlist.message.startswith("None of the 5 songs asked for pass")


# -------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"size": 0}, r"size=0: must be from 1 to 100"),
        ({"size": 101}, r"size=101"),
        ({"threshold": 0.69}, r"threshold=0.69: must be from 0.7 to 1"),
        ({"threshold": 1.01}, r"threshold=1.01"),
        ({"seeds": ("a", "b", "c"), "seed_artists": ("d", "e", "f")}, r"at most 5 in all"),
        ({"minimum": {"energy": 0.8}, "maximum": {"energy": 0.2}}, r"min_energy=0.8 is above"),
        ({"minimum": {"groove": 1}}, r"min_groove: 'groove' cannot be limited"),
        ({"maximum": {"energy": 2}}, r"max_energy=2: must be 0 to 1"),
        ({"target": {"tempo": 90}, "minimum": {"tempo": 100}}, r"target_tempo=90: outside"),
        ({"order": "random"}, r"order='random': use one of score, smooth, rising, falling"),
        ({"cluster": None}, r"no source of sound"),
        ({"method": None}, r"cluster=1: say which method"),
        ({"cluster": -1}, r"noise \(-1\) is not a cluster"),
        ({"method": "spectral"}, r"method='spectral'"),
        ({"max_per_artist": 0}, r"max_per_artist=0"),
    ],
)
def test_bad_requests_say_what_is_wrong(fields, match) -> None:
    with pytest.raises(ConfigError, match=match):
        PlaylistRequest(**({"cluster": 1} | fields))


@pytest.mark.realdata
def test_lookups_fail_clearly(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    with pytest.raises(LookupFailed, match=r"cluster 42 \(K-Means\): this atlas has clusters 0-"):
        generate_playlist(atlas, PlaylistRequest(cluster=42))
    with pytest.raises(AmbiguousQuery, match=r"'love'"):
        generate_playlist(atlas, PlaylistRequest(method=None, seeds=("love",)))
    with pytest.raises(AmbiguousQuery, match=r"artist 'the'"):
        generate_playlist(atlas, PlaylistRequest(method=None, seed_artists=("the",)))


# ----------------------------------------------------------------------------------- exports


def test_exports_neutralise_formulas_and_keep_numbers(three_artists, tmp_path) -> None:
    playlist = generate_playlist(
        three_artists, PlaylistRequest(method=None, seeds=("t04",), size=5, threshold=0.7)
    )
    assert '=HYPERLINK("http://x")' in playlist.tracks["name"].tolist()
    text = playlist_csv(playlist)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    save_playlist(playlist, tmp_path / "p.csv")
    assert pd.read_csv(tmp_path / "p.csv")["loudness"].lt(0).all()
    data = json.loads(playlist_json(playlist))
    assert data["passed"] == playlist.passed and data["request"]["seeds"] == ["t04"]
    assert data["tracks"][0]["name"] == playlist.tracks["name"].iat[0]
    assert any(t["name"].startswith("'=") for t in data["tracks"])
    save_playlist(playlist, tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text("utf-8"))["message"] == playlist.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv", "p.json"]


@pytest.mark.realdata
def test_spotify_urls_only_for_spotify_ids(atlas_of, tmp_path) -> None:
    real = generate_playlist(atlas_of(GENRES_11K), PlaylistRequest(cluster=0, size=5))
    urls = spotify_urls(real)
    assert len(urls) == 5
    assert all(
        u == f"https://open.spotify.com/track/{i}"
        for u, i in zip(urls, real.tracks["track_id"], strict=True)
    )
    save_playlist(real, tmp_path / "list.txt")
    assert (tmp_path / "list.txt").read_text().splitlines() == urls
    charts = generate_playlist(atlas_of(TOPHITS), PlaylistRequest(cluster=0, size=5))
    assert spotify_urls(charts) == []
    with pytest.raises(ConfigError, match=r"not Spotify ids; save as .csv or .json"):
        save_playlist(charts, tmp_path / "charts.txt")
    as_references = Playlist(
        real.request,
        real.tracks.assign(
            track_id=[
                f"spotify:track:{real.tracks['track_id'].iat[0]}",
                f"https://open.spotify.com/intl-fr/track/{real.tracks['track_id'].iat[1]}?si=1",
                *real.tracks["track_id"].iloc[2:],
            ]
        ),
        real.passed,
        real.limiting,
        real.cut_by,
        real.message,
    )
    assert spotify_urls(as_references) == urls
    with pytest.raises(ConfigError, match=r"not '.xlsx'"):
        save_playlist(charts, tmp_path / "charts.xlsx")
    assert not (tmp_path / "charts.txt").exists()


def test_targets_are_moved_inside_limits_given_elsewhere():
    from soundatlas.discovery import targets_within

    # Up to a lower limit with no upper one (the dashboard's clamp used to undo this), down to
    # an upper limit, and left alone inside its range or without limits.
    moved = targets_within(
        {"tempo": 100.0, "energy": 0.9, "valence": 0.5, "danceability": 0.2},
        {"tempo": 110.0, "valence": 0.1},
        {"energy": 0.7, "valence": 0.9},
    )
    assert moved == {"tempo": 110.0, "energy": 0.7, "valence": 0.5, "danceability": 0.2}


def test_allowed_limits_a_playlist_to_the_filtered_songs(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    pop = atlas.tracks["genres"].map(lambda g: "pop" in list(g)).to_numpy()
    playlist = generate_playlist(atlas, PlaylistRequest(cluster=0, size=10), allowed=pop)
    assert len(playlist.tracks) == 10 and pop[playlist.tracks["row"]].all()
    rows = generate_playlist(
        atlas, PlaylistRequest(cluster=0, size=10), allowed=np.flatnonzero(pop)
    )
    assert rows.tracks["row"].tolist() == playlist.tracks["row"].tolist()
    none = generate_playlist(
        atlas, PlaylistRequest(cluster=0, size=1), allowed=np.zeros(len(pop), dtype=bool)
    )
    assert none.tracks.empty and none.limiting == "filters"
    assert none.message.startswith("None of the 1 song asked for")
    assert none.message.endswith("To get more, widen the filters.")
