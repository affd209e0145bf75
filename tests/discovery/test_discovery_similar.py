"""Similar songs: hand-checked cosine ranking, copies never returned, options, errors, real data."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest
from realdata import GENRES_11K, TOPHITS

from soundatlas.atlas.build import build_atlas
from soundatlas.config import BuildConfig
from soundatlas.discovery import normalise_text, resolve_track, similar_to_many, similar_tracks
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.similar import difference_text
from soundatlas.errors import AmbiguousQuery, ConfigError, LookupFailed
from soundatlas.ingest.catalog import load_catalog

ROOT5 = math.sqrt(5)


def tiny_atlas(rows: list[dict], *, k: int = 2):
    """An atlas of a few hand-made songs: only the columns given vary, the rest are constant
    (a constant feature scales to 0 and adds nothing to cosine similarity)."""
    base = {
        "danceability": 0.5,
        "energy": 0.5,
        "loudness": -8.0,
        "speechiness": 0.05,
        "acousticness": 0.3,
        "instrumentalness": 0.0,
        "liveness": 0.1,
        "valence": 0.5,
        "tempo": 120.0,
        "popularity": 50,
        "duration_ms": 200_000,
        "explicit": 0,
    }
    frame = pd.DataFrame([{**base, **row} for row in rows])
    catalog = load_catalog(frame, min_tracks=len(rows))
    return build_atlas(catalog, BuildConfig(methods=("kmeans",), k=k))


@pytest.fixture(scope="module")
def four():
    """Energy z-scores (-3, -1, 1, 3)/√5 and valence (3, -3, 1, -1)/√5: in units of 1/√5 the
    songs are A(-3, 3), B(-1, -3), C(1, 1), D(3, -1)."""
    return tiny_atlas(
        [
            {"track_id": "A", "name": "Song A", "artists": "Ann", "energy": 0.2, "valence": 0.8},
            {"track_id": "B", "name": "Song B", "artists": "Bob", "energy": 0.4, "valence": 0.2},
            {"track_id": "C", "name": "Song C", "artists": "Cat", "energy": 0.6, "valence": 0.6},
            {"track_id": "D", "name": "Song D", "artists": "Dan", "energy": 0.8, "valence": 0.4},
        ]
    )


# ------------------------------------------------------------------------------ hand-checked


def test_cosine_ranking_matches_hand_computation(four) -> None:
    # cos(A, C) = (-3 + 3)/… = 0; cos(A, B) = (3 - 9)/(√18 √10) = -1/√5;
    # cos(A, D) = (-9 - 3)/(√18 √10) = -2/√5.
    result = similar_tracks(four, "A")
    assert result["track_id"].tolist() == ["C", "B", "D"]
    assert result["rank"].tolist() == [1, 2, 3]
    assert result["similarity"].to_numpy() == pytest.approx([0.0, -1 / ROOT5, -2 / ROOT5], abs=1e-6)
    # From C(1, 1): D = (3 - 1)/(√2 √10) = 1/√5, A = 0, B = (-1 - 3)/(√2 √10) = -2/√5.
    result = similar_tracks(four, "C")
    assert result["track_id"].tolist() == ["D", "A", "B"]
    assert result["similarity"].to_numpy() == pytest.approx([1 / ROOT5, 0.0, -2 / ROOT5], abs=1e-6)


def test_reasons_name_closest_and_most_different_features_in_their_units(four) -> None:
    first = similar_tracks(four, "A").iloc[0]  # C: energy 0.6 vs 0.2, valence 0.6 vs 0.8
    assert first["differs"] == "energy +0.40, valence −0.20"
    # Every other feature is equal; ties go to feature order.
    assert first["closest"] == "danceability, loudness"


def test_restricting_features_changes_the_geometry(four) -> None:
    # On energy alone every song is a point on a line: same sign -> 1, opposite -> -1.
    result = similar_tracks(four, "A", features=["energy"])
    assert result["track_id"].iloc[0] == "B"
    assert result["similarity"].tolist() == pytest.approx([1.0, -1.0, -1.0], abs=1e-6)
    assert set(result["closest"]) == {"energy"}


def test_similar_to_many_uses_the_centroid_and_excludes_every_query(four) -> None:
    # Centroid of A(-3, 3) and C(1, 1) is (-1, 2): B gives (1 - 6)/(√5 √10) = -1/√2,
    # D gives (-3 - 2)/(√5 √10) = -1/√2.
    result = similar_to_many(four, ["A", "C"], similarity="sound")
    assert sorted(result["track_id"]) == ["B", "D"]
    assert result["similarity"].to_numpy() == pytest.approx([-1 / math.sqrt(2)] * 2, abs=1e-6)


def test_result_has_the_promised_columns(four) -> None:
    result = similar_tracks(four, 0, n=2)
    for column in ("rank", "track_id", "name", "artists", "similarity", "closest", "differs"):
        assert column in result
    for column in ("cluster", "persona", "energy", "valence", "tempo", "popularity"):
        assert column in result
    assert len(result) == 2
    assert result["artists"].tolist() == ["Cat", "Bob"]


def test_difference_text_does_what_its_docstring_says() -> None:
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    (test,) = finder.find(
        difference_text, "difference_text", globs={"difference_text": difference_text}
    )
    assert len(test.examples) >= 3
    assert runner.run(test).failed == 0
    assert difference_text("duration_ms", -35_400) == "duration \N{MINUS SIGN}35 s"
    assert difference_text("energy", 0.001) == "energy ±0.00"


def test_ranking_is_deterministic(four) -> None:
    pd.testing.assert_frame_equal(similar_tracks(four, "B"), similar_tracks(four, "B"))


# ----------------------------------------------------------------------------------- allowed


def test_allowed_restricts_results_to_a_mask_or_rows(four) -> None:
    # From A: C, B, D. Leaving C out gives B, D; the query itself may be left out.
    mask = np.array([False, True, False, True])
    assert similar_tracks(four, "A", allowed=mask)["track_id"].tolist() == ["B", "D"]
    assert similar_tracks(four, "A", allowed=np.array([3, 1]))["track_id"].tolist() == ["B", "D"]
    assert similar_tracks(four, "A", allowed=[0, 3])["track_id"].tolist() == ["D"]
    # Allowing the query does not return it.
    assert similar_tracks(four, "A", allowed=np.ones(4, bool))["track_id"].tolist() == [
        "C",
        "B",
        "D",
    ]
    nothing = similar_tracks(four, "A", allowed=np.zeros(4, bool))
    assert nothing.empty and "similarity" in nothing
    assert similar_tracks(four, "A", allowed=np.array([], dtype=np.int64)).empty
    many = similar_to_many(four, ["A", "B"], allowed=np.array([True, True, False, True]))
    assert many["track_id"].tolist() == ["D"]


@pytest.mark.parametrize(
    ("allowed", "match"),
    [
        (np.ones(3, bool), r"allowed: a mask of shape \(3,\) for 4 songs"),
        (np.array([0, 4]), r"allowed: rows 0-4 are outside the atlas's 4 songs"),
        (np.array([-1]), r"outside"),
        (np.array([0.5, 1.0]), r"allowed: float64 values"),
        (np.ones((4, 1), bool), r"allowed: a mask of shape \(4, 1\) for 4 songs"),
    ],
)
def test_bad_allowed_says_what_is_wrong(four, allowed, match) -> None:
    with pytest.raises(ConfigError, match=match):
        similar_tracks(four, "A", allowed=allowed)


@pytest.mark.realdata
def test_allowed_gives_the_best_n_among_a_narrow_filter(atlas_of) -> None:
    """What the dashboard's sidebar filters need: n songs from a filter too narrow for
    'ask for 300, then filter' to fill, each the best allowed, never the query or a copy."""
    atlas = atlas_of(TOPHITS)
    tracks = atlas.tracks
    mask = ((tracks["energy"] < 0.45) & (tracks["popularity"] > 60)).to_numpy()
    assert 20 < mask.sum() < 120
    # Asking for 300 and filtering comes up short: none of song 0's 300 nearest pass.
    assert similar_tracks(atlas, 0, n=300)["row"].isin(np.flatnonzero(mask)).sum() < 10
    for query in (0, resolve_track(atlas, "halo beyonce"), int(np.flatnonzero(mask)[0])):
        result = similar_tracks(atlas, query, n=10, allowed=mask, similarity="sound")
        assert len(result) == 10 and mask[result["row"]].all()
        assert query not in result["row"].tolist()
        index = discovery_index(atlas)
        scores = index.unit @ index.unit[query]
        scores[~mask] = -np.inf
        scores[index.releases_of(query)] = -np.inf
        order = np.argsort(-scores, kind="stable")
        _, first = np.unique(index.recording[order], return_index=True)
        best = scores[order[np.sort(first)[:10]]]
        assert result["similarity"].to_numpy() == pytest.approx(best, abs=1e-6)
        rows = similar_tracks(atlas, query, n=10, allowed=np.flatnonzero(mask), similarity="sound")
        assert rows["row"].tolist() == result["row"].tolist()


# ------------------------------------------------------------------------------------ copies


@pytest.fixture(scope="module")
def duplicated(built_atlases):
    """60 chart songs, each listed three times as real catalogs do (album, remaster,
    compilation): new ids, title spelled differently, features nudged."""
    from realdata import shared_file

    songs = pd.read_csv(shared_file(TOPHITS)).drop_duplicates(["artist", "song"]).head(60)
    copies = []
    for take, spell in enumerate([str, str.upper, lambda s: s + "!"]):
        copy = songs.assign(song=songs["song"].map(spell))
        copy["track_id"] = [f"copy{take}-{i}" for i in range(len(copy))]
        copy["energy"] = (copy["energy"] + 0.004 * take).clip(0, 1)
        copies.append(copy)
    table = pd.concat(copies, ignore_index=True)
    return build_atlas(load_catalog(table), BuildConfig(methods=("kmeans",), k=4))


def _song_key(atlas, rows) -> list[tuple[str, tuple[str, ...]]]:
    tracks = atlas.tracks
    return [
        (
            normalise_text(tracks["name"].iat[r]),
            tuple(sorted(normalise_text(a) for a in tracks["artists"].iat[r])),
        )
        for r in rows
    ]


@pytest.mark.realdata
def test_a_duplicate_laden_table_never_returns_a_copy_of_the_query(duplicated) -> None:
    for row in range(len(duplicated.tracks)):
        result = similar_tracks(duplicated, row, n=10)
        query = _song_key(duplicated, [row])[0]
        found = _song_key(duplicated, result["row"])
        assert query not in found, f"row {row} returned a copy of itself"
        assert len(set(found)) == len(found), f"row {row} returned one song twice"
        assert len(result) == 10


@pytest.mark.realdata
def test_copies_of_chart_hits_are_never_neighbours(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    keys = _song_key(atlas, range(len(atlas.tracks)))
    repeated = pd.Series(keys).duplicated(keep=False).to_numpy()
    assert repeated.sum() >= 30  # the file repeats dozens of artist+song pairs
    for row in np.flatnonzero(repeated):
        result = similar_tracks(atlas, int(row), n=20)
        assert keys[row] not in _song_key(atlas, result["row"])
        assert row not in result["row"].to_numpy()


# ----------------------------------------------------------------------------------- options


@pytest.mark.realdata
def test_same_cluster_and_exclude_same_artist(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    query = resolve_track(atlas, "halo beyonce")
    for method, column in (("kmeans", "cluster"), ("hierarchical", "cluster_hc")):
        result = similar_tracks(atlas, query, n=15, same_cluster=method)
        assert (result[column] == atlas.tracks[column].iat[query]).all()
    plain = similar_tracks(atlas, "Beyoncé - Halo", n=50)
    assert plain["artists"].str.contains("Beyoncé").any()
    other = similar_tracks(atlas, query, n=50, exclude_same_artist=True)
    assert not other["artists"].str.contains("Beyoncé").any()


@pytest.mark.realdata
def test_same_cluster_on_a_noise_song_is_a_clear_error(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    noise = int(np.flatnonzero(atlas.tracks["cluster_dbscan"].to_numpy() == -1)[0])
    with pytest.raises(LookupFailed, match=r"noise for this method.*drop the same-cluster"):
        similar_tracks(atlas, noise, same_cluster="dbscan")


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"n": 0}, ConfigError, r"n=0: must be between 1 and 500"),
        ({"n": 501}, ConfigError, r"n=501"),
        ({"n": 2.5}, ConfigError, r"whole number"),
        ({"features": ["energy", "groove"]}, ConfigError, r"features groove: .*choose from"),
        ({"features": []}, ConfigError, r"features \(none\)"),
        ({"same_cluster": "hierarchical"}, LookupFailed, r"'hierarchical' was not run"),
        ({"same_cluster": "spectral"}, LookupFailed, r"'spectral' was not run"),
    ],
)
def test_bad_options_say_what_is_wrong(four, options, error, match) -> None:
    with pytest.raises(error, match=match):
        similar_tracks(four, "A", **options)


def test_bad_queries(four) -> None:
    with pytest.raises(LookupFailed, match=r"row 9: the atlas has 4 songs"):
        similar_tracks(four, 9)
    with pytest.raises(ConfigError, match=r"queries=\[\]"):
        similar_to_many(four, [])
    with pytest.raises(ConfigError, match=r"give a track id"):
        similar_tracks(four, True)


# ---------------------------------------------------------------------------------- resolving


@pytest.mark.realdata
def test_resolve_by_id_url_and_accent_insensitive_text(atlas_of) -> None:
    genres = atlas_of(GENRES_11K)
    track_id = genres.tracks["track_id"].iat[42]
    assert resolve_track(genres, track_id) == 42
    assert resolve_track(genres, f"https://open.spotify.com/track/{track_id}?si=x") == 42
    assert resolve_track(genres, f"spotify:track:{track_id}") == 42
    # The same pattern as the catalog reader (soundatlas.ingest.schema.SPOTIFY_TRACK_ID): localised
    # URLs, query strings and fragments, surrounding spaces.
    assert resolve_track(genres, f"https://open.spotify.com/intl-de/track/{track_id}") == 42
    assert resolve_track(genres, f"open.spotify.com/intl-pt-BR/track/{track_id}#x") == 42
    assert resolve_track(genres, f"  http://open.spotify.com/track/{track_id}?si=a&b=c ") == 42
    hits = atlas_of(TOPHITS)
    halo = resolve_track(hits, "halo beyonce")
    assert hits.tracks["name"].iat[halo] == "Halo"
    assert resolve_track(hits, "BEYONCÉ — halo") == halo
    assert resolve_track(hits, "Oops!... I did it again") == resolve_track(hits, "oops i did")


@pytest.mark.realdata
def test_text_naming_several_songs_raises_with_the_candidates(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    with pytest.raises(AmbiguousQuery, match=r"'love': matches 2 different songs") as caught:
        similar_tracks(atlas, "love")
    candidates = caught.value.candidates
    assert isinstance(candidates, pd.DataFrame)
    assert set(candidates["artists"]) == {"Keyshia Cole", "Musiq Soulchild"}
    assert {"row", "track_id", "name", "popularity"} <= set(candidates.columns)
    assert caught.value.exit_code == 2


@pytest.mark.realdata
def test_text_matching_nothing_says_what_to_do(atlas_of) -> None:
    with pytest.raises(LookupFailed, match=r"'zzqx': no song has this track id.*search"):
        resolve_track(atlas_of(TOPHITS), "zzqx")


@pytest.mark.realdata
def test_copies_resolve_to_one_song_not_an_ambiguity(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    row = resolve_track(atlas, "bad blood taylor swift")
    copies = atlas.tracks.index[atlas.tracks["name"] == "Bad Blood"]
    assert len(copies) == 2 and row in copies
    assert atlas.tracks["popularity"].iat[row] == atlas.tracks.loc[copies, "popularity"].max()


# ---------------------------------------------------------------------------------- real data


def _genres_of(atlas, rows) -> set[str]:
    return {g for r in rows for g in atlas.tracks["genres"].iat[r]}


@pytest.mark.realdata
def test_calm_tracks_have_no_extreme_metal_neighbours(atlas_of) -> None:
    """Every 'ambient' track, and every quiet 'sleep' track, has no death-metal or grindcore
    song among its ten nearest. (Nine of the hundred 'sleep' tracks are white-noise and rain
    recordings with energy near 1: on audio features they truly resemble noise-grind.)"""
    atlas = atlas_of(GENRES_11K)
    tracks = atlas.tracks
    extreme = {"death-metal", "grindcore"}
    checked = 0
    for genre in ("ambient", "sleep"):
        rows = np.flatnonzero(tracks["genres"].map(lambda g, genre=genre: genre in g).to_numpy())
        if genre == "sleep":
            rows = rows[tracks["energy"].to_numpy()[rows] < 0.5]
        for row in rows:
            found = similar_tracks(atlas, int(row), n=10)["row"]
            assert not (_genres_of(atlas, found) & extreme), tracks["name"].iat[row]
            checked += 1
    assert checked >= 160  # 100 ambient and the 69 quiet sleep tracks


# ------------------------------------------------------------------------- sound and context


def test_sound_and_context_weighs_popularity_year_and_duration(four) -> None:
    # A-D differ in sound only, so context (all equal) adds nothing to the order.
    by_sound = similar_tracks(four, "A", n=3, similarity="sound")
    with_context = similar_tracks(four, "A", n=3, similarity="sound+context")
    assert list(by_sound["track_id"]) == list(with_context["track_id"])
    with pytest.raises(ConfigError, match="similarity 'vibes': use one of sound, sound\\+context"):
        similar_tracks(four, "A", similarity="vibes")


def test_context_brings_a_same_era_song_closer_than_a_same_sound_one() -> None:
    rows = [
        {
            "track_id": "Q",
            "name": "Q",
            "artists": "Quin",
            "energy": 0.8,
            "popularity": 80,
            "release_year": 2019,
        },
        {
            "track_id": "SOUND",
            "name": "Sound",
            "artists": "Sam",
            "energy": 0.8,
            "popularity": 5,
            "release_year": 1961,
        },
        {
            "track_id": "ERA",
            "name": "Era",
            "artists": "Eve",
            "energy": 0.7,
            "popularity": 80,
            "release_year": 2019,
        },
        {
            "track_id": "FAR",
            "name": "Far",
            "artists": "Fay",
            "energy": 0.2,
            "popularity": 40,
            "release_year": 1990,
        },
        {
            "track_id": "MID",
            "name": "Mid",
            "artists": "Max",
            "energy": 0.5,
            "popularity": 40,
            "release_year": 1990,
        },
    ]
    atlas = tiny_atlas(rows)
    assert similar_tracks(atlas, "Q", n=1, similarity="sound")["track_id"].iloc[0] == "SOUND"
    assert similar_tracks(atlas, "Q", n=1, similarity="sound+context")["track_id"].iloc[0] == "ERA"


def test_sound_and_context_raises_same_genre_precision_on_real_tables(atlas_of) -> None:
    """The measurement behind the default (benchmarks/similarity.py), on 300 queries."""
    from soundatlas.discovery.context import genre_set

    for name in (GENRES_11K, TOPHITS):
        atlas = atlas_of(name)
        genres = atlas.tracks["genres"].to_numpy(dtype=object)
        queries = np.random.default_rng(0).choice(len(genres), 300, replace=False)
        precision = {}
        for kind in ("sound", "sound+context"):
            hits = shown = 0
            for row in queries:
                found = similar_tracks(atlas, int(row), n=10, similarity=kind)["row"]
                hits += sum(bool(genre_set(genres[r]) & genre_set(genres[row])) for r in found)
                shown += len(found)
            precision[kind] = hits / shown
        assert precision["sound+context"] > precision["sound"] + 0.05, (name, precision)


def test_genre_bonus_from_codes_equals_the_jaccard_share_of_label_sets(atlas_of) -> None:
    """A loaded atlas's index compares genre codes (`genre_keys_of`), the saved query path
    labels: both must give GENRE_WEIGHT × |A ∩ B| / |A ∪ B| of the label sets, a genre listed
    twice counted once and songs without genres 0, on a real catalog with genres."""
    from soundatlas.discovery.context import GENRE_WEIGHT, genre_bonus
    from soundatlas.discovery.index import discovery_index

    index = discovery_index(atlas_of("tracks_11k_genres.csv"))
    lists = index.genre_lists
    rng = np.random.default_rng(3)
    for _ in range(30):
        query = rng.choice(index.size, size=rng.integers(1, 4), replace=False)
        rows = rng.choice(index.size, size=200, replace=False)
        wanted = set().union(*(set(lists[r]) for r in query))
        expected = [
            GENRE_WEIGHT * len(set(lists[r]) & wanted) / len(set(lists[r]) | wanted)
            if len(lists[r]) and wanted
            else 0.0
            for r in rows
        ]
        by_codes = genre_bonus(index.genre_keys_of(query), index.genre_keys_of(rows))
        by_labels = genre_bonus(index.genres_of(query), index.genres_of(rows))
        assert by_codes.tolist() == expected
        assert by_labels.tolist() == expected


def test_genre_bonus_of_codes_in_arrays_equals_the_label_sets() -> None:
    """The codes' bonus is computed in array operations: a code listed twice, songs without
    genres, query songs without genres, no shared genre, all give the label sets' shares."""
    from soundatlas.discovery.context import genre_bonus

    rng = np.random.default_rng(8)
    for _ in range(200):
        songs = [rng.integers(0, 12, rng.integers(0, 5)) for _ in range(rng.integers(0, 30))]
        query = [rng.integers(0, 12, rng.integers(0, 3)) for _ in range(rng.integers(1, 4))]
        as_labels = genre_bonus(
            [[f"g{c}" for c in q] for q in query], [[f"g{c}" for c in s] for s in songs]
        )
        assert genre_bonus(query, songs).tolist() == as_labels.tolist()


def test_kth_highest_is_the_partitions() -> None:
    """`kth_highest` partitions only the scores above a bound read from a sample; it gives
    the value a partition of every score gives: ties, -inf (left-out rows), a sample unlike
    the rest (the bound reached by fewer than k), k up to every score."""
    from soundatlas.discovery.nearest import kth_highest

    rng = np.random.default_rng(9)
    for size in (1, 17, 300, 5000, 100_000):
        for kind in ("normal", "ties", "banned", "sample above the rest"):
            scores = rng.normal(size=size).astype(np.float32)
            if kind == "ties":
                scores = np.round(scores, 1)
            if kind == "banned":
                scores[rng.random(size) < 0.5] = -np.inf
            if kind == "sample above the rest":  # fewer than k reach its bound
                scores[::16] = scores.max() + 1
            for k in {1, 2, 10, 208, size // 3 + 1, size}:
                if 0 < k <= size:
                    expected = np.partition(scores, size - k)[size - k]
                    assert kth_highest(scores, k) == expected, (size, kind, k)
