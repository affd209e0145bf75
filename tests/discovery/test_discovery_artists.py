"""Artist profiles and the genre lens, on real tables and hand-checked ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from realdata import GENRES_11K, SEED_SAMPLE, TOPHITS

from soundatlas.atlas.build import build_atlas
from soundatlas.config import BuildConfig
from soundatlas.discovery import artist_profile, genre_lens, resolve_artist
from soundatlas.errors import AmbiguousQuery, ConfigError, LookupFailed
from soundatlas.ingest.catalog import load_catalog

# ----------------------------------------------------------------------------------- artists


@pytest.mark.realdata
def test_profile_of_an_accented_artist_from_plain_text(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    profile = artist_profile(atlas, "beyonce")
    assert profile.name == "Beyoncé"
    assert len(profile.songs) == 12
    assert (profile.songs["artists"].str.contains("Beyoncé")).all()
    assert profile.genres[:2] == ["pop", "r&b"]
    popularity = profile.top_songs["popularity"].to_numpy()
    assert (np.diff(popularity) <= 0).all() and len(profile.top_songs) == 10


@pytest.mark.realdata
def test_cluster_shares_and_dominant_personas_agree(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    profile = artist_profile(atlas, "Eminem")
    shares = profile.cluster_shares
    assert set(shares["method"]) == set(atlas.methods)
    for method, group in shares.groupby("method"):
        assert group["share"].sum() == pytest.approx(1.0)
        assert group["songs"].sum() == len(profile.songs)
        assert profile.dominant_personas[method] == group["persona"].iat[0]


@pytest.mark.realdata
def test_profile_z_scores_are_against_the_catalog(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    profile = artist_profile(atlas, "eminem").profile
    tracks = atlas.tracks
    mine = tracks[tracks["artists"].map(lambda a: "Eminem" in a)]
    speech = profile.set_index("feature").loc["speechiness"]
    assert speech["mean"] == pytest.approx(mine["speechiness"].mean())
    assert speech["catalog_mean"] == pytest.approx(tracks["speechiness"].mean())
    expected = (mine["speechiness"].mean() - tracks["speechiness"].mean()) / tracks[
        "speechiness"
    ].std(ddof=0)
    assert speech["z"] == pytest.approx(expected)
    assert speech["z"] > 1  # a rapper talks more than the chart average


@pytest.mark.realdata
def test_similar_artists_exclude_the_artist_and_are_ranked(atlas_of) -> None:
    similar = artist_profile(atlas_of(TOPHITS), "Eminem").similar_artists
    assert len(similar) == 10 and "Eminem" not in similar["artist"].tolist()
    assert (np.diff(similar["similarity"]) <= 0).all()
    assert list(similar.columns) == ["artist", "similarity", "songs"]


@pytest.mark.realdata
def test_top_songs_hold_each_song_once(atlas_of) -> None:
    profile = artist_profile(atlas_of(TOPHITS), "taylor swift")
    assert profile.songs["name"].tolist().count("Bad Blood") == 2
    assert profile.top_songs["name"].tolist().count("Bad Blood") == 1


@pytest.mark.realdata
def test_artist_lookups_fail_clearly(atlas_of) -> None:
    charts = atlas_of(TOPHITS)
    with pytest.raises(AmbiguousQuery, match=r"artist 'the': matches \d+ artists") as caught:
        artist_profile(charts, "the")
    assert "The Weeknd" in caught.value.candidates["artist"].tolist()
    with pytest.raises(LookupFailed, match=r"artist 'qqzz': no artist's name contains it"):
        artist_profile(charts, "qqzz")
    with pytest.raises(LookupFailed, match=r"has no artist column"):
        artist_profile(atlas_of(GENRES_11K), "anyone")
    assert resolve_artist(atlas_of(SEED_SAMPLE), "armstrong") == "Louis Armstrong & His Hot Five"


# ---------------------------------------------------------------------------------- genres


@pytest.fixture(scope="module")
def two_sounds():
    """Two genres that sound nothing alike (and two clusters that find them), plus one
    'calm' song that sounds like the loud ones: the lens must flag it."""
    rows = []
    for i in range(24):
        loud = i % 2 == 1 or i == 0
        rows.append(
            {
                "track_id": f"g{i}",
                "name": f"Track {i}",
                "artists": f"Band {i % 5}",
                "genres": "['calm']" if i % 2 == 0 else "['loud']",
                "danceability": 0.5 + 0.01 * (i % 3),
                "energy": (0.9 if loud else 0.1) + 0.01 * (i % 4),
                "loudness": (-4.0 if loud else -20.0) + 0.1 * (i % 5),
                "speechiness": 0.05,
                "acousticness": (0.05 if loud else 0.9) + 0.01 * (i % 3),
                "instrumentalness": 0.0,
                "liveness": 0.1 + 0.01 * (i % 2),
                "valence": 0.5,
                "tempo": 120.0 + i,
                "popularity": 50,
                "duration_ms": 200_000,
            }
        )
    return build_atlas(load_catalog(pd.DataFrame(rows)), BuildConfig(methods=("kmeans",), k=2))


def test_genre_lens_on_a_hand_made_catalog(two_sounds) -> None:
    lens = genre_lens(two_sounds, outliers=3)
    table = lens.genres.set_index("genre")
    assert table.loc["loud", "purity"] == 1.0 and table.loc["loud", "entropy"] == 0.0
    assert table.loc["calm", "purity"] == pytest.approx(11 / 12)
    assert table.loc["calm", "clusters"] == 2
    p = 11 / 12
    bits = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    assert table.loc["calm", "entropy"] == pytest.approx(bits)
    top = lens.outliers.iloc[0]
    assert top["track_id"] == "g0" and top["genre"] == "calm" and top["nearest_genre"] == "loud"
    assert (np.diff(lens.outliers["z"]) <= 0).all()
    assert lens.agreement["method"].tolist() == ["kmeans"]


@pytest.mark.realdata
def test_genre_lens_on_the_112_genre_table(atlas_of) -> None:
    atlas = atlas_of(GENRES_11K)
    lens = genre_lens(atlas, method="hierarchical", outliers=50)
    # 100 rows per genre; a few ids repeat within a genre (hip-hop keeps 98 distinct songs).
    assert len(lens.genres) == 112 and lens.genres["songs"].between(95, 100).all()
    assert lens.genres["purity"].between(0, 1).all() and (lens.genres["entropy"] >= 0).all()
    assert (np.diff(lens.genres["purity"]) <= 0).all()
    assert set(lens.agreement["method"]) == {"kmeans", "dbscan", "hierarchical"}
    assert lens.agreement["nmi"].between(0, 1).all()
    assert len(lens.outliers) == 50
    for row in lens.outliers.itertuples():
        assert row.genre in atlas.tracks["genres"].iat[row.row]
    assert lens.outliers["row"].is_unique


@pytest.mark.realdata
def test_genre_lens_errors(atlas_of, two_sounds) -> None:
    with pytest.raises(LookupFailed, match=r"'dbscan' was not run"):
        genre_lens(two_sounds, method="dbscan")
    with pytest.raises(ConfigError, match=r"min_songs=500: no genre has that many songs"):
        genre_lens(two_sounds, min_songs=500)
    with pytest.raises(ConfigError, match=r"outliers=-1"):
        genre_lens(two_sounds, outliers=-1)
    charts = atlas_of(TOPHITS)
    assert genre_lens(charts, min_songs=50).genres["songs"].min() >= 50
