"""Search: folding of case, accents and punctuation; tier order; real accented names."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from realdata import SEED_SAMPLE, TOPHITS

from soundatlas.atlas.build import build_atlas
from soundatlas.config import BuildConfig
from soundatlas.discovery import normalise_text, search
from soundatlas.discovery.text import name_key, name_keys, normalise_array
from soundatlas.errors import ConfigError
from soundatlas.ingest.catalog import load_catalog

FOLDS = [
    ("Beyoncé", "beyonce"),
    ("AC/DC", "ac dc"),
    ("  Mötley   Crüe!! ", "motley crue"),
    ("Cam’ron", "cam ron"),
    ("Ça c'est Paris", "ca c est paris"),
    ("Guns N' Roses", "guns n roses"),
    ("Tiësto__Remix", "tiesto remix"),
    ("½ Moon", "1 2 moon"),
    ("東京ラブ", "東京ラフ"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "key"), FOLDS)
def test_normalise_text(text, key) -> None:
    assert normalise_text(text) == key


def test_the_vectorised_fold_equals_the_single_one() -> None:
    texts = [t for t, _ in FOLDS]
    assert normalise_array(pa.array(texts)).to_pylist() == [normalise_text(t) for t in texts]


def test_one_names_key_is_the_vectorised_one() -> None:
    """`name_key` (one name, Python) against `name_keys` (a column, Arrow), all-punctuation
    names (which keep their lowercase selves) and missing names included."""
    names = [t for t, _ in FOLDS] + ["!!!", "  ?!? ", "\u00a1\u00c9!", "...", None, "P!nk", "(   )"]
    keys = name_keys(pa.array(names, type=pa.large_string())).to_pylist()
    assert [name_key(n) for n in names] == keys
    assert name_key("!!!") == "!!!"


@pytest.fixture(scope="module")
def shelf():
    """Titles built so each tier occurs, with popularity against the tier order."""
    base = {
        "danceability": 0.5,
        "loudness": -8.0,
        "speechiness": 0.05,
        "acousticness": 0.3,
        "instrumentalness": 0.0,
        "liveness": 0.1,
        "tempo": 120.0,
        "duration_ms": 200_000,
    }
    songs = [
        ("Glove", "Hands", 99),  # substring of "love"
        ("Crazy Love", "Mia", 90),  # word prefix
        ("Lovely", "Mia", 80),  # prefix
        ("Love Story", "Taylor", 20),  # prefix, less popular
        ("Love", "Nobody Known", 1),  # exact
        ("Thunderstruck", "AC/DC", 70),
        ("Back in Black", "AC/DC", 72),
        ("Back in Black", "AC/DC", 40),  # a second release of the recording
        ("Halo", "Beyoncé", 74),
        ("Quiet", "Ann", 10),
        ("Enter Sandman - Remastered 2021", "Metallica", 85),
        ("Ed Sheeran Medley", "Cover Band", 95),  # mentions an artist in its title
        ("Perfect", "Ed Sheeran", 60),
    ]
    rows = [
        base
        | {
            "track_id": f"s{i}",
            "name": name,
            "artists": artist,
            "popularity": pop,
            "energy": 0.05 + 0.07 * i,
            "valence": 0.9 - 0.07 * i,
        }
        for i, (name, artist, pop) in enumerate(songs)
    ]
    catalog = load_catalog(pd.DataFrame(rows), min_tracks=len(rows))
    return build_atlas(catalog, BuildConfig(methods=("kmeans",), k=2))


def test_tiers_rank_exact_prefix_word_prefix_substring_then_popularity(shelf) -> None:
    songs = search(shelf, "LOVE").songs
    assert songs["name"].tolist() == ["Love", "Lovely", "Love Story", "Crazy Love", "Glove"]
    assert songs["match"].tolist() == [
        "exact",
        "prefix",
        "prefix",
        "word prefix",
        "substring",
    ]
    assert songs["rank"].tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("query", ["ac dc", "acdc", "AC-DC", "ac/dc"])
def test_punctuation_insensitive_artist_search(shelf, query) -> None:
    found = search(shelf, query)
    assert found.artists["artist"].tolist() == ["AC/DC"]
    assert found.artists["match"].iat[0] == "exact"
    assert found.artists["songs"].iat[0] == 3
    # Their songs come after title matches, found through the artist; releases shown once.
    assert sorted(found.songs["name"]) == ["Back in Black", "Thunderstruck"]
    releases = found.songs.set_index("name")["releases"]
    assert releases["Back in Black"] == 2 and releases["Thunderstruck"] == 1
    assert found.songs.set_index("name")["popularity"]["Back in Black"] == 72


def test_title_and_artist_together(shelf) -> None:
    for query in ("halo beyonce", "Beyoncé – Halo"):
        songs = search(shelf, query).songs
        assert songs["name"].tolist() == ["Halo"] and songs["match"].iat[0] == "exact"


def test_songs_and_artists_are_separate_tables(shelf) -> None:
    found = search(shelf, "mia")
    assert found.artists["artist"].tolist() == ["Mia"]
    assert set(found.songs["match"]) == {"by the artist"}
    assert {"rank", "artist", "match", "songs", "popularity", "genres"} <= set(found.artists)


@pytest.mark.parametrize(
    ("typed", "meant", "song"),
    [
        ("metalica", "Metallica", "Enter Sandman - Remastered 2021"),
        ("ed sheeren", "Ed Sheeran", "Perfect"),
    ],
)
def test_typos_find_the_name_meant_and_say_so(shelf, typed, meant, song) -> None:
    found = search(shelf, typed)
    assert found.suggestion == meant
    assert found.artists["artist"].iat[0] == meant
    assert found.songs["name"].iat[0] == song
    assert search(shelf, meant).suggestion is None
    assert search(shelf, "zzzzqqqq").suggestion is None


def test_an_artists_own_songs_rank_above_songs_naming_them(shelf) -> None:
    songs = search(shelf, "ed sheeran").songs
    assert songs["name"].tolist() == ["Perfect", "Ed Sheeran Medley"]
    assert songs["match"].tolist() == ["by the artist", "prefix"]


@pytest.mark.parametrize("query", ["enter sandman metallica", "Metallica - Enter Sandman"])
def test_title_and_artist_across_a_release_qualifier(shelf, query) -> None:
    songs = search(shelf, query).songs
    assert songs["name"].iat[0] == "Enter Sandman - Remastered 2021"
    assert songs["match"].iat[0] == "exact"


def test_results_page_with_totals(shelf) -> None:
    everything = search(shelf, "l", limit=100)
    total = everything.total_songs
    assert total == len(everything.songs) > 4
    first, second = search(shelf, "l", limit=2), search(shelf, "l", limit=2, offset=2)
    assert first.total_songs == second.total_songs == total
    assert first.page_text() == f"1-2 of {total} songs"
    assert second.page_text() == f"3-4 of {total} songs"
    assert second.songs["rank"].tolist() == [3, 4]
    assert second.songs["name"].tolist() == everything.songs["name"].tolist()[2:4]
    beyond = search(shelf, "l", limit=2, offset=500)
    assert beyond.songs.empty and beyond.page_text() == f"0 of {total} songs"
    with pytest.raises(ConfigError, match=r"offset=-1: must be between 0"):
        search(shelf, "l", offset=-1)


def test_limit_applies_to_each_table(shelf) -> None:
    found = search(shelf, "l", limit=2)
    assert len(found.songs) == 2 and len(found.artists) <= 2


@pytest.mark.parametrize(
    ("text", "limit", "match"),
    [
        ("!!!", 20, r"search text '!!!': has no letters or digits"),
        ("   ", 20, r"has no letters or digits"),
        ("love", 0, r"limit=0: must be between 1 and 1000"),
        ("love", 1001, r"limit=1001"),
        ("love", "5", r"limit='5': must be a whole number"),
    ],
)
def test_bad_searches(shelf, text, limit, match) -> None:
    with pytest.raises(ConfigError, match=match):
        search(shelf, text, limit=limit)


@pytest.mark.realdata
def test_unaccented_queries_find_accented_names_in_real_tables(atlas_of) -> None:
    charts = atlas_of(TOPHITS)
    found = search(charts, "Beyonce")
    assert found.artists["artist"].iat[0] == "Beyoncé"
    assert found.artists["match"].iat[0] == "exact"
    assert (found.songs["artists"].head(5) == "Beyoncé").all()
    assert search(charts, "tiesto").artists["artist"].iat[0] == "Tiësto"
    assert search(charts, "celine dion").artists["artist"].iat[0] == "Céline Dion"
    seed = atlas_of(SEED_SAMPLE)
    assert search(seed, "felix mayol").artists["artist"].tolist() == ["Félix Mayol"]
    assert search(seed, "ca c est paris").songs["name"].tolist() == ["Ça c'est Paris"]
    assert search(seed, "CA C'EST").songs["match"].tolist() == ["prefix"]


@pytest.mark.realdata
def test_ties_in_a_tier_go_to_the_most_popular(atlas_of) -> None:
    songs = search(atlas_of(TOPHITS), "the", limit=50).songs
    for _, group in songs.groupby("match", sort=False):
        popularity = group["popularity"].fillna(-1).to_numpy()
        assert (popularity[:-1] >= popularity[1:]).all()
    order = {"exact": 0, "prefix": 1, "word prefix": 2, "substring": 3, "title and artist": 4}
    tiers = songs["match"].map(order).to_numpy()
    assert (tiers[:-1] <= tiers[1:]).all()


@pytest.mark.realdata
def test_multi_word_queries_match_at_word_starts_and_inside_words(atlas_of) -> None:
    charts = atlas_of(TOPHITS)
    songs = search(charts, "small things").songs
    assert songs["name"].iat[0] == "All The Small Things"
    assert songs["match"].iat[0] == "word prefix"
    songs = search(charts, "ll the sm").songs
    assert songs["name"].tolist()[:1] == ["All The Small Things"]
    assert songs["match"].iat[0] == "substring"


@pytest.mark.realdata
@pytest.mark.parametrize("query", ["the", "a", "lo", "me", "you", "in the"])
def test_a_short_list_is_the_head_of_the_full_ranking(atlas_of, query) -> None:
    """Asking for a few results sorts only the best candidates; they must be the same songs
    a full ranking puts first."""
    charts = atlas_of(TOPHITS)
    full = search(charts, query, limit=1000)
    for limit in (1, 5, 20):
        few = search(charts, query, limit=limit)
        assert few.songs["row"].tolist() == full.songs["row"].tolist()[:limit]
        assert few.artists["artist"].tolist() == full.artists["artist"].tolist()[:limit]
    assert full.songs["row"].is_unique


@pytest.mark.realdata
def test_a_typo_of_a_real_artist_finds_them(atlas_of) -> None:
    charts = atlas_of(TOPHITS)
    for typed, meant in (("beyonse", "Beyoncé"), ("ed sheeren", "Ed Sheeran")):
        found = search(charts, typed)
        assert found.suggestion == meant
        assert (found.songs["artists"].head(5) == meant).all()


@pytest.mark.realdata
def test_the_rows_of_many_artists_are_each_artists_rows_in_turn(atlas_of) -> None:
    """`rows_of_artists` gathers at once what `rows_of_artist` gives one artist at a time."""
    import numpy as np

    from soundatlas.discovery.index import discovery_index

    index = discovery_index(atlas_of(TOPHITS))
    codes = np.random.default_rng(0).integers(0, len(index.artist_names), 300)
    for chosen in (codes, codes[:1], codes[:0], np.array([codes[0]] * 3)):
        parts = [index.rows_of_artist(int(c)) for c in chosen]
        expected = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        assert index.rows_of_artists(chosen).tolist() == expected.tolist()
    assert len(index.rows_of_artists(codes)) > 300
