"""The demo catalog generator: schema, determinism, ranges, artists, files, faithfulness."""

from __future__ import annotations

import ast
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from realdata import GENRES_11K, SEED_SAMPLE, shared_file

from soundatlas.demo import SEED_COLUMNS, generate_catalog, iter_catalog_chunks, write_catalog
from soundatlas.errors import ConfigError
from soundatlas.ingest.schema import UNIT_FEATURES

N_SONGS = 40_000
INT_COLUMNS = [
    "popularity_songs",
    "duration_ms",
    "explicit",
    "key",
    "mode",
    "time_signature",
    "followers",
    "popularity_artists",
]
BASE62_ID = re.compile(r"[0-9A-Za-z]{22}")


@pytest.fixture(scope="module")
def catalog() -> pd.DataFrame:
    return generate_catalog(N_SONGS, random_state=7)


@pytest.fixture(scope="module")
def artists(catalog: pd.DataFrame) -> pd.DataFrame:
    return catalog.groupby("id_artists").agg(
        songs=("id_songs", "size"),
        names=("name_artists", "nunique"),
        popularity=("popularity_artists", "first"),
        popularity_values=("popularity_artists", "nunique"),
        followers=("followers", "first"),
        genres=("genres", "first"),
        mean_song_popularity=("popularity_songs", "mean"),
    )


@pytest.fixture(scope="module")
def real_tracks() -> pd.DataFrame:
    tracks = pd.read_csv(shared_file(GENRES_11K)).drop_duplicates("id")
    return tracks.rename(columns={"loadness": "loudness", "popularity": "popularity_songs"})


# ------------------------------------------------------------------------------------ schema


def test_seed_columns_are_the_seed_schema_in_order(catalog: pd.DataFrame) -> None:
    assert SEED_COLUMNS == (
        "id_songs", "name_song", "popularity_songs", "duration_ms", "explicit", "id_artists",
        "release_date", "danceability", "energy", "key", "loudness", "mode", "speechiness",
        "acousticness", "instrumentalness", "liveness", "valence", "tempo", "time_signature",
        "followers", "genres", "name_artists", "popularity_artists",
    )  # fmt: skip
    assert tuple(catalog.columns) == SEED_COLUMNS


@pytest.mark.realdata
def test_seed_columns_match_the_shared_schema_sample() -> None:
    header = pd.read_csv(shared_file(SEED_SAMPLE), nrows=0).columns
    assert tuple(header) == SEED_COLUMNS


@pytest.mark.parametrize("n_songs", [0, 1, 7, 1_234])
def test_generates_exactly_the_requested_number_of_songs(n_songs: int) -> None:
    frame = generate_catalog(n_songs)
    assert len(frame) == n_songs
    assert tuple(frame.columns) == SEED_COLUMNS
    assert frame.index.equals(pd.RangeIndex(n_songs))


def test_empty_catalog_keeps_the_usual_dtypes(catalog: pd.DataFrame) -> None:
    assert generate_catalog(0).dtypes.equals(catalog.dtypes)


def test_chunks_have_bounded_size_and_cover_the_catalog() -> None:
    sizes = [len(chunk) for chunk in iter_catalog_chunks(2_500, chunk_size=1_000)]
    assert sizes == [1_000, 1_000, 500]


# ------------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_catalog() -> None:
    pd.testing.assert_frame_equal(
        generate_catalog(3_000, random_state=11), generate_catalog(3_000, random_state=11)
    )


def test_different_seeds_give_different_catalogs() -> None:
    first = generate_catalog(3_000, random_state=1)
    second = generate_catalog(3_000, random_state=2)
    assert not first["id_songs"].isin(second["id_songs"]).any()
    assert not np.allclose(first["energy"], second["energy"])


@pytest.mark.parametrize("chunk_size", [1_000, 4_096, 60_000, 250_000])
def test_chunks_concatenate_to_generate_catalog(chunk_size: int) -> None:
    n_songs = 60_001  # spans two internal blocks
    whole = generate_catalog(n_songs, random_state=5)
    chunks = list(iter_catalog_chunks(n_songs, chunk_size=chunk_size, random_state=5))
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)


@pytest.mark.parametrize(
    ("n_songs", "options"),
    [(-1, {}), (2.5, {}), ("10", {}), (True, {}), (10, {"random_state": -3})],
)
def test_invalid_arguments_raise_config_error(n_songs: object, options: dict) -> None:
    with pytest.raises(ConfigError):
        generate_catalog(n_songs, **options)  # type: ignore[arg-type]


def test_invalid_chunk_size_raises_config_error() -> None:
    with pytest.raises(ConfigError):
        next(iter_catalog_chunks(10, chunk_size=0))


# ------------------------------------------------------------------------------------ values


def test_features_stay_in_their_documented_ranges(catalog: pd.DataFrame) -> None:
    for column in UNIT_FEATURES:
        assert catalog[column].between(0, 1).all(), column
    assert catalog["loudness"].between(-60, 0).all()
    assert (catalog["tempo"] > 0).all()
    assert catalog["key"].between(0, 11).all()
    assert set(catalog["mode"]) <= {0, 1}
    assert set(catalog["explicit"]) <= {0, 1}
    assert set(catalog["time_signature"]) <= {1, 3, 4, 5}
    assert catalog["popularity_songs"].between(0, 100).all()
    assert catalog["popularity_artists"].between(0, 100).all()
    assert (catalog["duration_ms"] > 0).all()
    assert (catalog["followers"] >= 0).all()
    assert catalog.notna().all().all()


def test_integer_columns_are_ints(catalog: pd.DataFrame) -> None:
    for column in INT_COLUMNS:
        assert pd.api.types.is_integer_dtype(catalog[column]), column


def test_release_date_is_mostly_years_with_some_full_dates(catalog: pd.DataFrame) -> None:
    dates = catalog["release_date"]
    is_year = dates.map(lambda value: isinstance(value, int))
    assert 0.8 < is_year.mean() < 0.95
    assert dates[is_year].between(1900, 2025).all()
    full = dates[~is_year]
    assert full.map(lambda value: bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))).all()
    pd.to_datetime(full, format="%Y-%m-%d")  # every text date is a real calendar date


def test_tempo_and_key_vary(catalog: pd.DataFrame) -> None:
    assert catalog["key"].nunique() == 12
    assert catalog["time_signature"].value_counts(normalize=True)[4] > 0.8


# ------------------------------------------------------------------------------ ids and names


def test_song_ids_are_unique_base62(catalog: pd.DataFrame) -> None:
    assert catalog["id_songs"].is_unique
    assert catalog["id_songs"].str.fullmatch(BASE62_ID).all()
    assert catalog["id_artists"].str.fullmatch(BASE62_ID).all()


def test_song_ids_stay_unique_at_benchmark_scale() -> None:
    ids = pd.concat(chunk["id_songs"] for chunk in iter_catalog_chunks(300_000, chunk_size=150_000))
    assert ids.is_unique


def test_one_id_name_and_profile_per_artist(artists: pd.DataFrame) -> None:
    assert (artists["names"] == 1).all()
    assert (artists["popularity_values"] == 1).all()
    assert artists.reset_index()["id_artists"].is_unique


def test_names_are_marked_demo(catalog: pd.DataFrame) -> None:
    assert catalog["name_artists"].str.startswith("Demo Artist · ").all()
    assert catalog["name_song"].str.endswith(" (demo)").all()


def test_artist_names_are_unique_per_artist(catalog: pd.DataFrame) -> None:
    pairs = catalog[["id_artists", "name_artists"]].drop_duplicates()
    assert pairs["name_artists"].is_unique


def test_some_names_carry_accents_and_the_rest_is_ascii(catalog: pd.DataFrame) -> None:
    names = pd.concat([catalog["name_artists"], catalog["name_song"]])
    stripped = names.str.replace("Demo Artist · ", "", regex=False)
    accented = stripped.str.contains(r"[^\x00-\x7f]")
    assert 0 < accented.mean() < 0.2
    assert stripped.str.contains("[éç]").any()
    assert stripped[accented].str.fullmatch(r"[\x00-\x7féèçÉ]+").all()


def test_some_titles_are_shared_between_artists(catalog: pd.DataFrame) -> None:
    artists_per_title = catalog.groupby("name_song")["id_artists"].nunique()
    assert (artists_per_title > 1).any()
    assert catalog["name_song"].nunique() > 0.5 * len(catalog)  # but most titles are distinct


def test_genres_is_the_artists_python_list_of_one_to_three(artists: pd.DataFrame) -> None:
    lists = artists["genres"].map(ast.literal_eval)
    assert lists.map(lambda value: isinstance(value, list)).all()
    counts = lists.map(len)
    assert counts.between(1, 3).all()
    assert set(counts) == {1, 2, 3}
    assert lists.map(lambda value: len(set(value)) == len(value)).all()
    assert lists.explode().nunique() == 112


# ---------------------------------------------------------------------------------- artists


def test_artist_count_and_heavy_tail(artists: pd.DataFrame) -> None:
    songs = artists["songs"]
    assert 5.0 < N_SONGS / len(songs) < 5.9  # real catalog: 95,837 / 17,662 = 5.43
    assert (songs == 1).mean() > 0.1
    assert songs.max() > 20 * songs.median()


def test_demo_size_has_the_real_catalogs_artist_count() -> None:
    frame = generate_catalog(95_837)
    assert frame["id_artists"].nunique() == 17_662
    assert frame["name_artists"].nunique() == 17_662


def test_artist_popularity_and_followers_follow_their_songs(artists: pd.DataFrame) -> None:
    rich = artists[artists["songs"] >= 3]
    assert rich["popularity"].corr(rich["mean_song_popularity"]) > 0.7
    assert artists["popularity"].corr(artists["followers"], method="spearman") > 0.8


def test_an_artists_songs_resemble_each_other(catalog: pd.DataFrame) -> None:
    for column in ["energy", "acousticness", "popularity_songs"]:
        within = catalog.groupby("id_artists")[column].std().mean()
        assert within < 0.85 * catalog[column].std(), column


# -------------------------------------------------------------------------------------- files


def test_csv_round_trips_through_read_csv(tmp_path: Path) -> None:
    expected = generate_catalog(2_000, random_state=3)
    path = write_catalog(tmp_path / "demo.csv", 2_000, random_state=3)
    loaded = pd.read_csv(path)
    assert tuple(loaded.columns) == SEED_COLUMNS
    numeric = [c for c in SEED_COLUMNS if c != "release_date"]
    pd.testing.assert_frame_equal(loaded[numeric], expected[numeric])
    assert (loaded["release_date"] == expected["release_date"].astype(str)).all()


def test_parquet_round_trips(tmp_path: Path) -> None:
    expected = generate_catalog(2_000, random_state=3)
    loaded = pd.read_parquet(write_catalog(tmp_path / "demo.parquet", 2_000, random_state=3))
    pd.testing.assert_frame_equal(
        loaded, expected.assign(release_date=expected["release_date"].astype(str))
    )


def test_write_reports_progress_and_leaves_no_temp_file(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    target = tmp_path / "nested" / "demo.csv"
    written = write_catalog(target, 1_000, progress=lambda done, total: calls.append((done, total)))
    assert written == target
    assert calls[0] == (0, 1_000)
    assert calls[-1] == (1_000, 1_000)
    assert [p.name for p in target.parent.iterdir()] == ["demo.csv"]


def test_write_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "demo.csv"
    target.write_text("old content\n")
    write_catalog(target, 10)
    assert len(pd.read_csv(target)) == 10


def test_unknown_suffix_is_refused_without_writing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\.csv or \.parquet"):
        write_catalog(tmp_path / "demo.xlsx", 10)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "demo.csv"
    target.write_text("old content\n")

    def interrupt(done: int, total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_catalog(target, 10, progress=interrupt)
    assert target.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["demo.csv"]


# ------------------------------------------------------------------------- shipped figures


def test_stats_table_is_small_and_derived_only() -> None:
    source = resources.files("soundatlas") / "data" / "demo_genre_stats.json"
    text = source.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 1_000_000
    stats = json.loads(text)
    assert stats["provenance"]["derived_figures_only"] is True
    assert len(stats["genres"]) == 112
    assert all(len(g["key_probs"]) == 12 for g in stats["genres"])


# ------------------------------------------------------------- faithfulness to real music

#: Allowed |generated mean - real mean| per column (40,000 generated songs).
MEAN_TOLERANCE = {
    "danceability": 0.02,
    "energy": 0.02,
    "speechiness": 0.015,
    "acousticness": 0.02,
    "instrumentalness": 0.02,
    "liveness": 0.015,
    "valence": 0.02,
    "loudness": 0.5,
    "tempo": 2.0,
    "popularity_songs": 2.0,
    "duration_ms": 12_000,
    "mode": 0.02,
    "explicit": 0.03,
}


@pytest.mark.realdata
@pytest.mark.parametrize("column", sorted(MEAN_TOLERANCE))
def test_feature_means_match_real_music(
    catalog: pd.DataFrame, real_tracks: pd.DataFrame, column: str
) -> None:
    real = real_tracks[column].mean()
    generated = catalog[column].mean()
    assert abs(generated - real) <= MEAN_TOLERANCE[column], (column, real, generated)


@pytest.mark.realdata
def test_release_years_match_real_music(catalog: pd.DataFrame, real_tracks: pd.DataFrame) -> None:
    real = real_tracks["release_date"].str[:4].astype(int)
    generated = catalog["release_date"].astype(str).str[:4].astype(int)
    assert abs(generated.median() - real.median()) <= 1
    assert abs(generated.mean() - real.mean()) <= 1.5


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("left", "right", "tolerance"),
    [
        ("energy", "loudness", 0.05),  # real: strongly positive (~0.77)
        ("energy", "acousticness", 0.06),  # real: strongly negative (~-0.75)
        ("loudness", "acousticness", 0.06),
        ("danceability", "valence", 0.06),
    ],
)
def test_key_correlations_match_real_music(
    catalog: pd.DataFrame, real_tracks: pd.DataFrame, left: str, right: str, tolerance: float
) -> None:
    real = real_tracks[left].corr(real_tracks[right])
    generated = catalog[left].corr(catalog[right])
    assert np.sign(generated) == np.sign(real)
    assert abs(generated - real) <= tolerance, (left, right, real, generated)


@pytest.mark.realdata
def test_energy_loudness_and_acousticness_are_strongly_correlated(
    catalog: pd.DataFrame,
) -> None:
    assert catalog["energy"].corr(catalog["loudness"]) > 0.65
    assert catalog["energy"].corr(catalog["acousticness"]) < -0.6


@pytest.mark.realdata
def test_instrumental_share_matches_real_music(
    catalog: pd.DataFrame, real_tracks: pd.DataFrame
) -> None:
    real, generated = real_tracks["instrumentalness"], catalog["instrumentalness"]
    assert abs((generated > 0.5).mean() - (real > 0.5).mean()) <= 0.02
    assert abs((generated == 0).mean() - (real == 0).mean()) <= 0.05  # exact zeros kept
