"""Normalising and validating track tables: column names, cell formats, bad rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from realdata import GENRES_11K, SEED_SAMPLE, TOPHITS, shared_file

from soundatlas.errors import CatalogError, ConfigError
from soundatlas.ingest.catalog import STATUS_COLUMN, TRACK_COLUMN, TYPICAL_TEMPO, load_catalog
from soundatlas.ingest.schema import AUDIO_FEATURES
from soundatlas.ingest.values import parse_flags, parse_name_lists, parse_years

FEATURE_ROW = {
    "danceability": 0.5,
    "energy": 0.6,
    "loudness": -7.0,
    "speechiness": 0.05,
    "acousticness": 0.2,
    "instrumentalness": 0.0,
    "liveness": 0.1,
    "valence": 0.4,
    "tempo": 120.0,
}


def songs(n: int = 12, **overrides) -> pd.DataFrame:
    """A small valid table with varied features; ``overrides`` set whole columns."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame([FEATURE_ROW] * n)
    frame[list(FEATURE_ROW)[:8]] = frame[list(FEATURE_ROW)[:8]] + rng.uniform(0.0, 0.04, (n, 8))
    frame.insert(0, "track_name", [f"Song {i}" for i in range(n)])
    frame.insert(1, "artist_name", [f"Artist {i % 4}" for i in range(n)])
    for column, values in overrides.items():
        frame[column] = values
    return frame


def write_csv(tmp_path, frame: pd.DataFrame, name: str = "tracks.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("['vintage chanson']", ["vintage chanson"]),
        ("['dance pop', 'pop']", ["dance pop", "pop"]),
        ('["k-pop", "k-rap"]', ["k-pop", "k-rap"]),
        ("hip hop, pop, R&B", ["hip hop", "pop", "r&b"]),
        ("rock", ["rock"]),
        ("[]", []),
        ("set()", []),
        ("", []),
        ("{'latin', 'pop'}", ["latin", "pop"]),
        ("['children\\'s music']", ["children's music"]),
        ("pop; rock", ["pop", "rock"]),
    ],
)
def test_genre_cells_in_every_real_form(cell, expected):
    assert parse_name_lists(pd.Series([cell]), split_commas=True, lower=True)[0] == expected


def test_artist_names_keep_commas_but_split_lists():
    cells = pd.Series(["Tyler, The Creator", "['Jay-Z', 'Kanye West']", "A; B"])
    parsed = parse_name_lists(cells, split_commas=False).tolist()
    assert parsed == [["Tyler, The Creator"], ["Jay-Z", "Kanye West"], ["A", "B"]]


def test_explicit_flags_in_any_case():
    cells = pd.Series(["TRUE", "false", "1", "0", "1.0", "Yes", "n", "maybe"])
    assert parse_flags(cells).tolist() == [True, False, True, False, True, True, False, pd.NA]


def test_release_year_from_year_or_date():
    cells = pd.Series(["1922", "2016-07-15", "1999.0", "07/2004", "", "someday"])
    assert parse_years(cells).tolist() == [1922, 2016, 1999, 2004, pd.NA, pd.NA]


def test_seed_schema_columns_map_onto_the_canonical_table():
    catalog = load_catalog(shared_file(SEED_SAMPLE))
    tracks = catalog.tracks
    assert catalog.report.column_map["track_id"] == "id_songs"
    assert catalog.report.column_map["name"] == "name_song"
    assert catalog.report.column_map["artists"] == "name_artists"
    assert catalog.report.column_map["popularity"] == "popularity_songs"
    assert tracks.loc[0, "genres"] == ["vintage chanson"]
    assert tracks.loc[0, "artists"] == ["Mistinguett"]
    assert "Ça c'est Paris" in tracks["name"].tolist()
    assert tracks["instrumentalness"].iloc[0] == pytest.approx(1.55e-05)
    assert len(tracks) == 14


def test_tophits_columns_duplicates_and_empty_genres():
    catalog = load_catalog(shared_file(TOPHITS))
    report = catalog.report
    assert report.column_map["artists"] == "artist"
    assert report.column_map["name"] == "song"
    assert report.column_map["release_year"] == "year"
    assert report.rows_read == 1821
    assert report.dropped == {"duplicate row": 52}
    assert report.tracks == 1769
    assert catalog.tracks["explicit"].dtype == "boolean"
    assert catalog.tracks["explicit"].notna().all()
    genres = catalog.tracks["genres"]
    assert genres.map(len).eq(0).sum() == 18
    assert ["hip hop", "pop", "r&b"] in genres.tolist()


def test_genre_table_misspelled_loudness_and_repeated_ids():
    catalog = load_catalog(shared_file(GENRES_11K))
    report = catalog.report
    assert report.column_map["loudness"] == "loadness"
    assert report.dropped == {"repeated track id": 237}
    assert report.tracks == 11200 - 237
    tracks = catalog.tracks.set_index("track_id")
    original = catalog.original
    repeated = original[original[STATUS_COLUMN] == "repeated track id"]
    first = repeated.iloc[0]
    kept = tracks.loc[first["id"]]
    assert first["genre"] in kept["genres"], "genres of the repeat are merged into the kept row"
    assert len(kept["genres"]) >= 2
    assert tracks["release_year"].between(1900, 2025).all()


def test_missing_feature_column_names_it_and_suggests(tmp_path):
    frame = songs().rename(columns={"loudness": "loudnes"}).drop(columns=["tempo"])
    path = write_csv(tmp_path, frame)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert str(path) in message
    assert "loudness (did you mean 'loudnes'?)" in message
    assert "tempo" in message
    assert "--column loudness=" in message


def test_header_that_looks_like_data(tmp_path):
    path = tmp_path / "noheader.csv"
    path.write_text("0.5,0.6,-7,0.05\n0.4,0.5,-6,0.04\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="first line looks like data"):
        load_catalog(path)


def test_column_override_maps_unknown_names(tmp_path):
    frame = songs().rename(columns={"valence": "Mood", "track_name": "Title"})
    path = write_csv(tmp_path, frame)
    catalog = load_catalog(path, columns={"valence": "Mood", "name": "Title"})
    assert catalog.tracks["name"].iloc[0] == "Song 0"
    assert catalog.tracks["valence"].notna().all()
    with pytest.raises(CatalogError, match=r"no column 'Mod'.*did you mean 'Mood'"):
        load_catalog(path, columns={"valence": "Mod"})
    with pytest.raises(ConfigError, match="'colour' is not a SoundAtlas column"):
        load_catalog(path, columns={"colour": "Mood"})


def test_bad_cells_reject_rows_with_column_line_and_value(tmp_path):
    frame = songs(20)
    frame["danceability"] = frame["danceability"].astype(object)
    frame.loc[3, "danceability"] = "abc"
    frame.loc[5, "danceability"] = 1.7
    frame.loc[7, "energy"] = None
    path = write_csv(tmp_path, frame)
    catalog = load_catalog(path)
    report = catalog.report
    assert report.rows_rejected == 3
    assert report.tracks == 17
    by_rule = {f.rule: f for f in report.findings}
    non_numeric = by_rule["non-numeric danceability"]
    assert non_numeric.rows == (5,) and non_numeric.column == "danceability"
    assert "line 5" in non_numeric.message and "'abc'" in non_numeric.message
    out_of_range = by_rule["out-of-range danceability"]
    assert out_of_range.rows == (7,) and "'1.7'" in out_of_range.message
    assert "0 to 1" in out_of_range.message
    assert by_rule["missing energy"].rows == (9,)
    statuses = catalog.original[STATUS_COLUMN]
    assert statuses.iloc[3] == "non-numeric danceability"
    assert (catalog.original[TRACK_COLUMN] < 0).sum() == 3


def test_undetected_tempo_is_imputed_not_dropped(tmp_path):
    # The detected tempos sorted: 90 95 100 105 110 [115] 125 130 135 140 150, so the median
    # is 115 (not the typical 120, nor the mean 117.7, nor a median that counts the 0).
    tempos = [90, 100, 0, 110, 130, 140, 150, 95, 105, 115, 125, 135]
    catalog = load_catalog(write_csv(tmp_path, songs(12, tempo=tempos)))
    assert catalog.report.tracks == 12
    finding = next(f for f in catalog.report.findings if f.rule == "undetected tempo")
    assert finding.severity == "fixed" and finding.rows == (4,)
    assert catalog.tracks.loc[2, "tempo"] == pytest.approx(115.0)
    assert "115" in finding.message and "median" in finding.message
    others = catalog.tracks["tempo"].drop(index=2).tolist()
    assert others == [t for t in tempos if t], "detected tempos are kept as they are"


def test_metadata_out_of_range_is_cleared_and_reported(tmp_path):
    frame = songs(12, popularity=[50] * 11 + [250])
    catalog = load_catalog(write_csv(tmp_path, frame))
    assert catalog.report.tracks == 12
    assert pd.isna(catalog.tracks.loc[11, "popularity"])
    assert any(f.rule == "out-of-range popularity" for f in catalog.report.findings)


def test_too_few_usable_rows_says_why(tmp_path):
    frame = songs(12)
    frame["energy"] = "loud"
    with pytest.raises(CatalogError, match=r"only 0 usable track.*12 × non-numeric energy"):
        load_catalog(write_csv(tmp_path, frame))


def test_european_csv_with_decimal_commas(tmp_path):
    frame = songs(12)
    path = tmp_path / "eu.csv"
    frame.to_csv(path, sep=";", decimal=",", index=False)
    catalog = load_catalog(path)
    assert catalog.report.delimiter == ";"
    assert catalog.tracks["loudness"].iloc[0] == pytest.approx(frame["loudness"].iloc[0])
    assert any("decimals with a comma" in f.message for f in catalog.report.findings)


def test_percent_columns_and_duration_in_seconds(tmp_path):
    frame = songs(12)
    frame = frame.rename(columns={"danceability": "danceability_%"})
    frame["danceability_%"] = (frame["danceability_%"] * 100).round(1)
    frame["duration"] = 200.5
    catalog = load_catalog(write_csv(tmp_path, frame))
    assert catalog.tracks["danceability"].between(0, 1).all()
    assert catalog.tracks["duration_ms"].iloc[0] == pytest.approx(200_500)


def test_spotify_urls_become_track_ids_and_missing_ids_are_made(tmp_path):
    frame = songs(12)
    frame.insert(0, "track_uri", [f"spotify:track:{'a' * 20}{i:02d}" for i in range(12)])
    frame.loc[11, "track_uri"] = ""
    catalog = load_catalog(write_csv(tmp_path, frame))
    assert catalog.tracks["track_id"].iloc[0] == "a" * 20 + "00"
    assert catalog.tracks["track_id"].iloc[11].startswith("sa")


def test_dataframe_input_and_feature_subset():
    frame = songs(12).drop(columns=["tempo", "liveness"])
    features = tuple(f for f in AUDIO_FEATURES if f not in ("tempo", "liveness"))
    catalog = load_catalog(frame, features=features)
    assert catalog.report.source == "<DataFrame>"
    assert len(catalog.tracks) == 12


def test_clock_durations_with_a_bad_cell(tmp_path):
    frame = songs(12)
    frame["duration"] = ["3:25"] * 10 + ["1:02:03", "n/a"]
    catalog = load_catalog(write_csv(tmp_path, frame))
    durations = catalog.tracks["duration_ms"]
    assert durations.iloc[0] == 205_000 and durations.iloc[10] == 3_723_000
    assert pd.isna(durations.iloc[11]) and catalog.report.tracks == 12
    finding = next(f for f in catalog.report.findings if f.rule == "non-numeric duration_ms")
    assert finding.rows == (13,) and "'n/a'" in finding.message


def test_an_exact_copy_of_a_repeated_id_row_follows_it_to_its_track(tmp_path):
    frame = songs(12)
    frame.insert(0, "id", [f"{'x' * 20}{i:02d}" for i in range(12)])
    frame.loc[1, "id"] = frame.loc[0, "id"]  # row 1 repeats row 0's id with other values
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)  # row 12 copies row 1
    catalog = load_catalog(write_csv(tmp_path, frame))
    tracks = catalog.original[TRACK_COLUMN].tolist()
    assert tracks[1] == tracks[0] == tracks[12] == 0
    assert catalog.report.dropped == {"repeated track id": 1, "duplicate row": 1}
    assert catalog.report.rows_merged == 2 and catalog.report.tracks == 11


def test_all_tempos_undetected_get_a_stated_typical_tempo(tmp_path):
    catalog = load_catalog(write_csv(tmp_path, songs(12, tempo=[0] * 12)))
    assert (catalog.tracks["tempo"] == TYPICAL_TEMPO).all()
    finding = next(f for f in catalog.report.findings if f.rule == "undetected tempo")
    assert "no song here has a detected tempo" in finding.message
