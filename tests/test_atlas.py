"""Atlases built from the real tables: every row labelled, saved safely, exported faithfully."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from realdata import GENRES_11K, SEED_SAMPLE, SHARED_FILES, TOPHITS, shared_file

from soundatlas.atlas.build import build_atlas
from soundatlas.atlas.model import load_atlas
from soundatlas.config import BuildConfig
from soundatlas.discovery.save import save_atlas
from soundatlas.errors import AtlasError, ConfigError
from soundatlas.formulas import neutralise_cell
from soundatlas.ingest.catalog import TRACK_COLUMN, load_catalog
from soundatlas.reports.exports import export_atlas


@pytest.mark.parametrize("name", SHARED_FILES)
def test_every_usable_row_is_labelled_by_all_three_methods(atlas_of, name):
    atlas = atlas_of(name)
    tracks = atlas.tracks
    assert set(atlas.methods) == {"kmeans", "dbscan", "hierarchical"}
    assert len(tracks) == atlas.report.tracks
    for column in ("cluster", "cluster_dbscan", "cluster_hc", "persona", "persona_dbscan"):
        assert tracks[column].notna().all(), column
    assert (tracks["cluster"] >= 0).all() and (tracks["cluster_hc"] >= 0).all()
    assert tracks["cluster"].nunique() == atlas.methods["kmeans"].params["k"]
    noise = (tracks["cluster_dbscan"] == -1).mean()
    assert noise == pytest.approx(atlas.methods["dbscan"].scores["noise_share"])
    for column in ("pc1", "pc2", "pc3"):
        assert np.isfinite(tracks[column]).all()


@pytest.mark.parametrize("name", SHARED_FILES)
def test_hierarchical_is_fitted_on_every_row(atlas_of, name):
    atlas = atlas_of(name)
    assert atlas.linkage.shape == (len(atlas.tracks) - 1, 4)
    assert atlas.linkage[-1, 3] == len(atlas.tracks)
    assert atlas.methods["hierarchical"].details["variant"].startswith("exact")


def test_manifest_records_versions_input_hash_drops_and_timings(atlas_of):
    atlas = atlas_of(GENRES_11K)
    manifest = atlas.manifest
    assert manifest["format_version"] == 1
    assert manifest["libraries"]["numpy"] and manifest["soundatlas_version"]
    assert len(manifest["source"]["sha256"]) == 64
    assert manifest["rows"] == {"read": 11200, "tracks": 10963, "rejected": 0, "merged": 237}
    assert manifest["report"]["dropped"] == {"repeated track id": 237}
    for stage in ("read", "kmeans", "dbscan", "hierarchical", "pca", "personas"):
        assert manifest["timings"][stage] >= 0
    kmeans = manifest["methods"]["kmeans"]
    assert kmeans["scores"]["silhouette_sample"] == 10_000
    assert "elbow" in kmeans["rule"]
    assert 0 < kmeans["details"]["stability"]["mean_ari"] <= 1
    assert {(r["first"], r["second"]) for r in manifest["agreement"]} == {
        ("kmeans", "dbscan"), ("kmeans", "hierarchical"), ("dbscan", "hierarchical")
    }  # fmt: skip


def test_same_seed_gives_the_same_atlas():
    from soundatlas.demo import generate_catalog

    songs = generate_catalog(1_500, random_state=4)
    config = BuildConfig(random_state=3, stability_resamples=1)
    first, second = build_atlas(songs, config), build_atlas(songs, config)
    for column in ("cluster", "cluster_dbscan", "cluster_hc", "persona"):
        assert first.tracks[column].tolist() == second.tracks[column].tolist()


def test_user_choices_are_honoured():
    config = BuildConfig(
        k=4,
        methods=("kmeans", "hierarchical"),
        features=("energy", "acousticness", "popularity"),
        scaling="robust",
    )
    atlas = build_atlas(shared_file(TOPHITS), config)
    assert set(atlas.methods) == {"kmeans", "hierarchical"}
    assert atlas.tracks["cluster"].nunique() == 4 and atlas.tracks["cluster_hc"].nunique() == 4
    assert "cluster_dbscan" not in atlas.tracks
    assert atlas.scaler.features == ("energy", "acousticness", "popularity")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"k": 1}, "k=1: must be between 2 and 200"),
        ({"methods": ("kmeans", "spectral")}, "methods spectral"),
        ({"features": ("energy", "colour")}, "features colour: not clusterable"),
        ({"scaling": "log"}, "scaling 'log'"),
        ({"eps": -1.0}, "eps=-1.0: must be a number above 0"),
        ({"eps": float("inf")}, "eps=inf: must be a number above 0"),
        ({"methods": ("kmeans", "kmeans")}, "name each method once"),
        ({"density_algorithm": "optics"}, "density algorithm 'optics'"),
    ],
)
def test_bad_build_options_are_refused_clearly(options, message):
    with pytest.raises(ConfigError, match=message):
        BuildConfig(**options)


@pytest.mark.parametrize("name", SHARED_FILES)
def test_seed_csv_export_gives_back_the_users_rows_unchanged(atlas_of, tmp_path, name):
    atlas = atlas_of(name)
    out = tmp_path / "export.csv"
    export_atlas(atlas, out, "seed-csv", raw=True)
    original = pd.read_csv(shared_file(name), dtype=str, keep_default_na=False)
    exported = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(exported) == len(original)
    pd.testing.assert_frame_equal(exported[list(original.columns)], original)
    methods = ["cluster", "cluster_dbscan", "cluster_hc", "persona", "persona_dbscan", "persona_hc"]
    assert list(exported.columns[len(original.columns) :]) == methods
    # Rows merged into another (duplicates, repeated ids) carry the labels of the row they joined.
    tracks = atlas.tracks
    mapping = atlas.original[TRACK_COLUMN].to_numpy()
    assert (
        exported["cluster"].astype(int).to_numpy() == tracks["cluster"].to_numpy()[mapping]
    ).all()


def test_default_export_neutralises_spreadsheet_formulas(atlas_of, tmp_path):
    atlas = atlas_of(GENRES_11K)
    out = tmp_path / "safe.csv"
    export_atlas(atlas, out, "seed-csv")
    exported = pd.read_csv(out, dtype=str, keep_default_na=False)
    names = set(exported["name"])
    assert "'+♂(Plus Danshi)" in names and "'@Isa - Ao Vivo" in names
    assert not any(n.startswith(("=", "+", "@")) for n in names)
    assert exported["loadness"].str.startswith("-").any(), "negative numbers stay numbers"
    assert neutralise_cell("-5.4") == "-5.4" and neutralise_cell("=1+1") == "'=1+1"


@pytest.mark.parametrize("file_format", ["csv", "parquet", "json"])
def test_track_table_exports(atlas_of, tmp_path, file_format):
    atlas = atlas_of(TOPHITS)
    out = tmp_path / f"tracks.{file_format}"
    export_atlas(atlas, out, file_format)
    if file_format == "csv":
        back = pd.read_csv(out)
    elif file_format == "parquet":
        back = pd.read_parquet(out)
    else:
        back = pd.DataFrame(json.loads(out.read_text(encoding="utf-8")))
    assert len(back) == len(atlas.tracks)
    assert {"track_id", "name", "cluster", "persona_hc", "pc1"} <= set(back.columns)

    def artists_text(cell) -> str:
        return cell if isinstance(cell, str) else ", ".join(cell)

    tracks = atlas.tracks
    for (artist, name), expected in TOPHITS_ROWS.items():
        found = back[(back["name"] == name) & (back["artists"].map(artists_text) == artist)]
        built = tracks[(tracks["name"] == name) & (tracks["artists"].map(artists_text) == artist)]
        assert len(found) == len(built) == 1, name
        row = found.iloc[0]
        for column, value in expected.items():
            assert row[column] == pytest.approx(value), (name, column)
        assert bool(row["explicit"]) == (name == "Without Me")
        for label in ("cluster", "persona", "cluster_hc", "persona_hc", "cluster_dbscan"):
            assert row[label] == built[label].iloc[0], (name, label)
        # pc1 by hand: the song's features scaled and projected on the first axis.
        features = np.array([expected[f] for f in atlas.scaler.features])
        scaled = (features - atlas.scaler.center) / atlas.scaler.scale
        pc1 = (scaled - atlas.projection.mean) @ atlas.projection.components[0]
        assert row["pc1"] == pytest.approx(pc1, abs=1e-6), name


TOPHITS_ROWS = {
    # Three lines of tophits_2k.csv, typed in from the file.
    ("Daft Punk", "One More Time"): {
        "duration_ms": 320357, "release_year": 2001, "popularity": 76, "danceability": 0.613,
        "energy": 0.697, "loudness": -8.618, "speechiness": 0.133, "acousticness": 0.0194,
        "instrumentalness": 0.0, "liveness": 0.332, "valence": 0.476, "tempo": 122.746,
    },
    ("Eminem", "Without Me"): {
        "duration_ms": 290320, "release_year": 2002, "popularity": 87, "danceability": 0.908,
        "energy": 0.669, "loudness": -2.827, "speechiness": 0.0738, "acousticness": 0.00286,
        "instrumentalness": 0.0, "liveness": 0.237, "valence": 0.662, "tempo": 112.238,
    },
    ("Lil Nas X", "Old Town Road - Remix"): {
        "duration_ms": 157066, "release_year": 2019, "popularity": 79, "danceability": 0.878,
        "energy": 0.619, "loudness": -5.56, "speechiness": 0.102, "acousticness": 0.0533,
        "instrumentalness": 0.0, "liveness": 0.113, "valence": 0.639, "tempo": 136.041,
    },
}  # fmt: skip


def _plain(value):
    """``value`` as JSON would give it back (tuples as lists, NumPy numbers as Python's)."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist()))


def test_saved_atlas_has_no_pickles_and_loads_as_it_was_built(tmp_path):
    from soundatlas.demo import generate_catalog

    built = build_atlas(generate_catalog(800, random_state=1), BuildConfig(stability_resamples=1))
    save_atlas(built, tmp_path / "atlas")
    with np.load(tmp_path / "atlas" / "model.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    loaded = load_atlas(tmp_path / "atlas")
    # Text columns come back as pandas strings (Arrow); every value is the one built.
    pd.testing.assert_frame_equal(loaded.tracks, built.tracks, check_dtype=False)
    for column in ("cluster", "cluster_dbscan", "cluster_hc"):
        assert loaded.tracks[column].dtype.kind == "i", column
    pd.testing.assert_frame_equal(loaded.personas, built.personas, check_dtype=False)
    np.testing.assert_array_equal(loaded.linkage, built.linkage)
    assert set(loaded.methods) == set(built.methods) == {"kmeans", "dbscan", "hierarchical"}
    for method, summary in built.methods.items():
        again = loaded.methods[method]
        assert (again.rule, _plain(again.params)) == (summary.rule, _plain(summary.params))
        assert _plain(again.scores) == _plain(summary.scores), method
        np.testing.assert_array_equal(loaded.centroids[method], built.centroids[method])
    np.testing.assert_array_equal(loaded.scaler.center, built.scaler.center)
    np.testing.assert_array_equal(loaded.scaler.scale, built.scaler.scale)
    np.testing.assert_array_equal(loaded.projection.components, built.projection.components)
    assert loaded.report.to_dict() == built.report.to_dict()
    assert loaded.config == built.config


def test_interrupted_save_leaves_the_previous_atlas(atlas_of, tmp_path, monkeypatch):
    first = atlas_of(SEED_SAMPLE)
    target = tmp_path / "atlas"
    save_atlas(first, target)
    before = (target / "manifest.json").read_bytes()
    second = atlas_of(TOPHITS)
    import soundatlas.atlas.store as store

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        save_atlas(second, target)
    assert (target / "manifest.json").read_bytes() == before
    assert len(load_atlas(target).tracks) == len(first.tracks)
    assert [p.name for p in tmp_path.iterdir()] == ["atlas"], "no temporary folders left behind"


def test_a_swap_cut_short_is_recovered_on_load(atlas_of, tmp_path):
    target = tmp_path / "atlas"
    save_atlas(atlas_of(SEED_SAMPLE), target)
    os.replace(target, tmp_path / ".atlas.old-12345678")
    assert len(load_atlas(target).tracks) == 14


def test_damaged_or_missing_atlases_say_what_to_do(atlas_of, tmp_path):
    with pytest.raises(AtlasError, match="no atlas here"):
        load_atlas(tmp_path / "nowhere")
    target = tmp_path / "atlas"
    save_atlas(atlas_of(SEED_SAMPLE), target)
    with (target / "tracks.parquet").open("r+b") as handle:
        handle.seek(100)
        handle.write(b"XXXX")
    with pytest.raises(AtlasError, match="does not match its checksum"):
        load_atlas(target)
    (target / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(AtlasError, match=r"manifest\.json is damaged"):
        load_atlas(target)


def test_saving_over_a_folder_that_is_not_an_atlas_is_refused(atlas_of, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(AtlasError, match="not an atlas folder"):
        save_atlas(atlas_of(SEED_SAMPLE), tmp_path / "photos")
    assert (tmp_path / "photos" / "cat.jpg").exists()


def test_assign_places_new_songs_in_existing_clusters(atlas_of):
    atlas = atlas_of(GENRES_11K)
    known = load_catalog(shared_file(GENRES_11K)).original.iloc[:50]
    known = known.drop(columns=[c for c in known.columns if c.startswith("_sa_")])
    assigned = atlas.assign(known)
    expected = atlas.tracks.set_index("track_id").loc[assigned["track_id"]]
    agreement = (assigned["cluster"].to_numpy() == expected["cluster"].to_numpy()).mean()
    assert agreement == 1.0, "K-Means assignment of songs it was fitted on is their label"
    hc = (assigned["cluster_hc"].to_numpy() == expected["cluster_hc"].to_numpy()).mean()
    assert hc > 0.7
    assert assigned["persona"].notna().all() and (assigned["distance"] >= 0).all()


def test_assign_fills_an_undetected_tempo_with_the_atlas_median(atlas_of):
    atlas = atlas_of(GENRES_11K)
    known = load_catalog(shared_file(GENRES_11K)).original.iloc[:5]
    new = known.drop(columns=[c for c in known.columns if c.startswith("_sa_")]).copy()
    new["tempo"] = [60.0, 61.0, 0.0, 62.0, 63.0]  # this file's own median would be 61.5
    atlas_median = float(atlas.tracks["tempo"].median())
    assert abs(atlas_median - 61.5) > 10, "the test needs the two medians apart"
    assigned = atlas.assign(new)
    assert assigned["tempo"].tolist() == pytest.approx([60.0, 61.0, atlas_median, 62.0, 63.0])


def test_formula_neutralising_covers_headers_categories_and_lists(tmp_path):
    from soundatlas.formulas import neutralise_formulas
    from soundatlas.reports.exports import write_table

    frame = pd.DataFrame(
        {
            "=HYPERLINK(1)": ["a", "b"],
            "name": ["@evil", "fine"],
            "loudness": ["-5.4", "+3"],
            "genres": [["=x", "pop"], []],
            "persona": pd.Categorical(["+Happy", "Calm"]),
            "n": [-1, 2],
        }
    )
    safe = neutralise_formulas(frame)
    assert safe.columns[0] == "'=HYPERLINK(1)"
    assert safe["name"].tolist() == ["'@evil", "fine"]
    assert safe["loudness"].tolist() == ["-5.4", "+3"], "numbers written as text stay numbers"
    assert safe["genres"].tolist() == [["'=x", "pop"], []]
    assert safe["persona"].astype(str).tolist() == ["'+Happy", "Calm"]
    assert safe["n"].tolist() == [-1, 2]
    assert frame.columns[0] == "=HYPERLINK(1)", "the input is not changed"
    out = write_table(frame, tmp_path / "out.csv", "csv")
    assert out.read_text(encoding="utf-8").startswith("'=HYPERLINK(1)")


def test_concurrent_saves_to_one_folder_both_succeed(atlas_of, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    first, second = atlas_of(SEED_SAMPLE), atlas_of(TOPHITS)
    target = tmp_path / "shared"
    with ThreadPoolExecutor(max_workers=4) as pool:
        # Many saves, so that one may check the folder while another swaps it (CI once caught
        # the folder missing there, before those checks took the swap lock).
        list(pool.map(lambda atlas: save_atlas(atlas, target), [first, second] * 10))
    assert len(load_atlas(target).tracks) in (len(first.tracks), len(second.tracks))
    assert [p.name for p in tmp_path.iterdir()] == ["shared"]
