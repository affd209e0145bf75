"""Discovery added for the HTTP API: seed pools, seed genres, search paging, ids, cluster
profiles and songs nearest a sound not in the catalog."""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata

import numpy as np
import pytest
from realdata import TOPHITS

from soundatlas.discovery import (
    PlaylistRequest,
    artist_code_of_id,
    artist_ids,
    cluster_profile,
    derived_id,
    find_songs,
    generate_playlist,
    search,
    seed_pools,
    similar_to_sound,
    songs_at,
    track_clusters,
    track_row,
)
from soundatlas.discovery.text import name_id, normalise_text
from soundatlas.errors import ConfigError, LookupFailed


def test_seed_pool_counts_by_hand(three_artists) -> None:
    request = PlaylistRequest(
        method=None, seeds=("t00",), maximum={"popularity": 10}, allow_explicit=False
    )
    (pool,) = seed_pools(three_artists, request)
    # t01-t28 point the way t00 does (t29 the other way; t00 is the seed itself).
    assert pool.initial == 28
    # popularity <= 10 keeps t01-t10; not explicit drops t04 and t08.
    assert (pool.after_filtering, pool.after_relinking) == (8, 8)
    assert (pool.kind, pool.seed) == ("seeds", "t00")


def test_seed_pools_follow_the_request_order_by_kind(three_artists) -> None:
    request = PlaylistRequest(method=None, seed_genres=("rock",), seeds=("t03",))
    pools = seed_pools(three_artists, request)
    assert [(p.kind, p.seed) for p in pools] == [("seeds", "t03"), ("seed_genres", "rock")]


def test_seed_genre_measures_the_genre_average(three_artists) -> None:
    playlist = generate_playlist(three_artists, PlaylistRequest(method=None, seed_genres=("jazz",)))
    assert len(playlist.tracks) and (playlist.tracks["similarity"] > 0.99).all()
    with pytest.raises(LookupFailed, match=r"seed genre 'blues': no song of this atlas lists"):
        generate_playlist(three_artists, PlaylistRequest(method=None, seed_genres=("blues",)))


def test_playlists_reach_spotifys_hundred_songs() -> None:
    assert PlaylistRequest(method=None, seeds=("x",), size=100).size == 100
    with pytest.raises(ConfigError, match=r"size=101: must be from 1 to 100"):
        PlaylistRequest(method=None, seeds=("x",), size=101)
    with pytest.raises(ConfigError, match=r"6 songs, artists and genres given; at most 5"):
        PlaylistRequest(seeds=("a", "b"), seed_artists=("c", "d"), seed_genres=("e", "f"))


def test_ids() -> None:
    assert re.fullmatch(r"[0-9A-Za-z]{22}", derived_id("beyonce"))
    assert derived_id("beyonce") == derived_id("beyonce") != derived_id("beyonc")
    assert name_id("Beyoncé") == name_id("beyonce") == derived_id("beyonce")


def _one_digit_at_a_time(key: str) -> str:
    """The first definition of derived ids: base 62, one digit per division."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:16], "big")
    digits = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        digits.append(alphabet[digit])
    return "".join(reversed(digits))


def test_derived_ids_never_change() -> None:
    """Clients keep artist ids: the faster encoding must give the ids given before."""
    assert derived_id("beyonce") == "436CBFMiDMc8x9M8j4rrPX"
    assert derived_id("") == "6ve2WrOl3mnciB6WIL2fIa"
    keys = ["", "a", "ac dc", "beyonce", "!!!", "sigur rós", *(str(n) for n in range(2_000))]
    assert [derived_id(k) for k in keys] == [_one_digit_at_a_time(k) for k in keys]


def test_ascii_names_fold_as_by_the_unicode_path() -> None:
    """ASCII text skips the accent removal; it must fold exactly as the full path does."""
    rng = np.random.default_rng(0)
    alphabet = np.array(list(string.printable))
    texts = ["".join(rng.choice(alphabet, size=rng.integers(0, 20))) for _ in range(2_000)]
    for text in [*texts, "AC/DC", "  Guns N' Roses ", "__a__b", "\t\n"]:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
        assert normalise_text(text) == " ".join(re.sub(r"[\W_]+", " ", bare.lower()).split())


def test_songs_at_reads_songs_by_row_as_find_songs_finds_them_by_id(three_artists) -> None:
    ids = ["t03", "t29", "t00", "t03"]
    by_id = find_songs(three_artists, ids)
    assert repr(songs_at(three_artists, [3, 29, 0, 3], ids)) == repr(by_id)  # NaN != NaN
    assert [s.row for s in by_id] == [3, 29, 0, 3]
    # a row of -1 (outside a sampled atlas's sample) is looked up by id: none here
    assert songs_at(three_artists, [-1, None, 5], ["t03", "nope", "t05"])[:2] == [None, None]


def test_track_and_artist_ids_resolve_exactly(three_artists) -> None:
    assert track_row(three_artists, "t07") == 7
    with pytest.raises(LookupFailed, match=r"track id 'Tune 7': no song of this atlas has it"):
        track_row(three_artists, "Tune 7")  # a title is not an id
    ids = artist_ids(three_artists)
    assert len(set(ids)) == 3 and artist_code_of_id(three_artists, name_id("Bo")) is not None
    with pytest.raises(LookupFailed, match=r"artist id 'nope'"):
        artist_code_of_id(three_artists, "nope")


def test_cluster_profile_lists_its_most_popular_songs(three_artists) -> None:
    cluster = track_clusters(three_artists, 28)["kmeans"][0]
    profile = cluster_profile(three_artists, "kmeans", cluster, n=3)
    assert len(profile.top_songs) == 3
    assert (np.diff(profile.top_songs["popularity"].to_numpy(float)) <= 0).all()
    assert (profile.top_songs["cluster"] == cluster).all()
    assert profile.size == int((three_artists.tracks["cluster"] == cluster).sum())
    with pytest.raises(LookupFailed, match=r"cluster 7 \(K-Means\): this atlas has clusters 0, 1"):
        cluster_profile(three_artists, "kmeans", 7)
    with pytest.raises(ConfigError, match=r"n=0"):
        cluster_profile(three_artists, "kmeans", cluster, n=0)


@pytest.mark.realdata
def test_a_catalog_songs_own_sound_finds_it_first(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    found = similar_to_sound(atlas, atlas.scaled[42], n=3)
    assert found["row"].iat[0] == 42 and found["similarity"].iat[0] == pytest.approx(1.0)
    label = int(atlas.tracks["cluster"].iat[42])
    inside = similar_to_sound(atlas, atlas.scaled[42], n=5, method="kmeans", cluster=label)
    assert (inside["cluster"] == label).all()


@pytest.mark.realdata
def test_search_pages_add_up_to_the_first_results(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    whole = search(atlas, "love", limit=10)
    first, second = search(atlas, "love", limit=5), search(atlas, "love", limit=5, offset=5)
    assert first.songs["row"].tolist() + second.songs["row"].tolist() == whole.songs["row"].tolist()
    assert second.songs["rank"].tolist() == [6, 7, 8, 9, 10]
    assert first.total_songs == second.total_songs == len(search(atlas, "love", limit=1000).songs)
    with pytest.raises(ConfigError, match=r"offset=-1: must be between 0 and 1,000,000"):
        search(atlas, "love", offset=-1)
