"""`soundatlas build --engine spark`: the local engine's exit codes and messages, no JVM noise,
Parquet parts in, and the stated sample for catalogs too big to load whole."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from realdata import TOPHITS, shared_file
from test_cli import BAD_INPUTS, good_csv
from typer.testing import CliRunner

from soundatlas import load_atlas
from soundatlas.cli import app

pytestmark = pytest.mark.spark
runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(("file_name", "content", "message"), BAD_INPUTS)
def test_bad_input_exits_2_with_the_local_engines_message(
    spark, tmp_path, file_name, content, message
):
    path = tmp_path / file_name
    path.write_bytes(content)
    result = run("build", path, "-o", tmp_path / "atlas", "--engine", "spark", "--quiet")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert str(path) in result.output.replace("\n", "")
    assert "Traceback" not in result.output
    assert not (tmp_path / "atlas").exists()


def test_missing_column_message_is_the_same_on_both_engines(spark, tmp_path):
    path = tmp_path / "tracks.csv"
    path.write_text(good_csv(20).replace("tempo", "bpm_value"))
    local = run("build", path, "-o", tmp_path / "a", "--quiet")
    distributed = run("build", path, "-o", tmp_path / "b", "--engine", "spark", "--quiet")
    assert local.exit_code == distributed.exit_code == 2
    assert local.output == distributed.output


def test_a_repeated_column_is_refused_the_same_on_both_engines(spark, tmp_path):
    header, *rows = good_csv(20).splitlines()
    path = tmp_path / "tracks.csv"
    path.write_text("\n".join([f"{header},energy", *(f"{r},0.5" for r in rows)]) + "\n")
    local = run("build", path, "-o", tmp_path / "a", "--quiet")
    distributed = run("build", path, "-o", tmp_path / "b", "--engine", "spark", "--quiet")
    assert local.exit_code == distributed.exit_code == 2
    assert "2 columns could be energy" in local.output
    assert local.output == distributed.output


def test_options_that_do_not_fit_the_engine_are_refused(spark, tmp_path):
    path = tmp_path / "tracks.csv"
    path.write_text(good_csv(20))
    master_alone = run("build", path, "-o", tmp_path / "a", "--master", "local[2]")
    assert (
        master_alone.exit_code == 2 and "--master applies to --engine spark" in master_alone.output
    )
    bad_engine = run("build", path, "-o", tmp_path / "a", "--engine", "dask")
    assert bad_engine.exit_code == 2 and "--engine dask" in bad_engine.output
    hdbscan = run("build", path, "-o", tmp_path / "a", "--engine", "spark", "--density", "hdbscan")
    assert hdbscan.exit_code == 2 and "DBSCAN only" in hdbscan.output


def test_jvm_output_stays_off_the_terminal(tmp_path):
    """A fresh process starts its own JVM: nothing of it reaches stdout or stderr."""
    from spark.conftest import require_spark

    require_spark()
    path = tmp_path / "tracks.csv"
    path.write_text(good_csv(30))
    broken = tmp_path / "broken.csv"
    broken.write_text(good_csv(30).replace("tempo", "bpm_value"))
    env = os.environ | {"SOUNDATLAS_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-c", "from soundatlas.cli import main; main()"]
    good = subprocess.run(
        [
            *command,
            "build",
            path,
            "-o",
            tmp_path / "atlas",
            "--engine",
            "spark",
            "--k",
            "2",
            "--methods",
            "kmeans",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert good.returncode == 0, good.stderr
    bad = subprocess.run(
        [*command, "build", broken, "-o", tmp_path / "other", "--engine", "spark", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1
    assert bad.stderr.startswith("error: ") and "missing required audio-feature" in bad.stderr
    for output in (good.stdout + good.stderr, bad.stdout + bad.stderr):
        for noise in ("WARN", "log4j", "Exception", "Traceback", "SparkContext", "py4j"):
            assert noise not in output, output
    assert (tmp_path / "home" / "logs").is_dir()  # the JVM's output went to the log instead


def test_parquet_parts_folder_and_glob_give_the_csv_result(spark, tmp_path):
    from soundatlas import load_catalog

    source = shared_file(TOPHITS)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    parts = tmp_path / "parts"
    parts.mkdir()
    for number, start in enumerate(range(0, len(frame), 700)):
        frame.iloc[start : start + 700].to_parquet(parts / f"part-{number:05d}.parquet")
    local = load_catalog(source)
    local_lines = local.original["_sa_line"].to_numpy()[local.tracks["source_row"].to_numpy()]
    stale = tmp_path / ".folder.tmp-0123abcd"  # what a killed build leaves; nobody holds it
    stale.mkdir()
    for label, given in (("folder", parts), ("glob", f"{parts}/part-*.parquet")):
        result = run(
            "build",
            given,
            "-o",
            tmp_path / label,
            "--engine",
            "spark",
            "--k",
            "3",
            "--methods",
            "kmeans",
            "--quiet",
        )
        assert result.exit_code == 0, result.output
        atlas = load_atlas(tmp_path / label)
        assert atlas.report.file_format == "parquet"
        assert atlas.report.tracks == local.report.tracks
        assert atlas.report.dropped == local.report.dropped
        # Records are numbered across the parts in path order: line n of the CSV is record n-1.
        assert set(atlas.tracks["source_line"]) == {line - 1 for line in local_lines}
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "glob", "parts"]


def test_catalog_above_the_memory_limit_loads_a_stated_sample(sampled_atlas, tmp_path):
    atlas = load_atlas(sampled_atlas)
    sample = atlas.manifest["parts"]["sample"]
    assert 350 < sample["songs"] < 650 and sample["of"] == atlas.report.tracks == 1769
    assert atlas.sampled and len(atlas.tracks) == sample["songs"]
    assert atlas.personas_of("kmeans")["size"].sum() == 1769  # sizes cover every song
    info = run("info", sampled_atlas)
    assert info.exit_code == 0
    assert "uniform random sample" in info.output and "Engine" in info.output
    exported = run("export", sampled_atlas, "-f", "csv", "-o", tmp_path / "all.csv")
    assert exported.exit_code == 0, exported.output
    assert len(pd.read_csv(tmp_path / "all.csv")) == 1769  # exports cover every song


def test_similar_songs_of_a_sampled_atlas_come_from_every_song(sampled_atlas):
    import json

    import numpy as np

    from soundatlas.discovery.wholecatalog import (
        exact_neighbours,
        similar_in_catalog,
        song_directory,
    )

    atlas = load_atlas(sampled_atlas)
    directory = song_directory(atlas)
    assert directory.size == atlas.report.tracks == 1769
    outside = sorted(set(directory.songs["track_id"].to_pylist()) - set(atlas.tracks["track_id"]))
    query = outside[0]  # a song the in-memory sample does not hold
    found = similar_in_catalog(atlas, query, n=10)
    assert len(found) == 10 and query not in set(found["track_id"])
    assert np.all(np.diff(found["similarity"].to_numpy()) <= 0)
    row = directory.resolve(query)
    approximate, _ = directory.neighbours(row, 11)
    exact, _ = exact_neighbours(atlas, row, 11)
    assert len(set(approximate) & set(exact)) >= 9  # recall@10 of the index, with the query
    cli = run("similar", sampled_atlas, query, "--json")
    assert cli.exit_code == 0, cli.output
    assert [r["track_id"] for r in json.loads(cli.output)] == found["track_id"].tolist()
    by_title = similar_in_catalog(atlas, "Oops!...I Did It Again Britney Spears", n=3)
    assert "Oops!...I Did It Again" not in set(by_title["name"])


def _similar_one_by_one(directory, row, n, label=None, banned=()):
    """Similar songs by the rule applied candidate by candidate: the index's nearest songs in
    order, those passing the filters, each unless it is the same recording (`same_recording`)
    as the query or a song kept before it; from more neighbours while fewer than ``n``."""
    from soundatlas.discovery.recordings import same_recording

    songs = directory.songs
    wanted = songs[label][row].as_py() if label else None
    count = max(4 * n, 50)
    while True:
        rows, scores = directory.neighbours(row, min(count, directory.size))
        query, *recordings = directory.recordings(np.concatenate([[row], rows]))
        seen, kept = [query], []
        for candidate, score, recording in zip(
            rows.tolist(), scores.tolist(), recordings, strict=True
        ):
            if label and songs[label][candidate].as_py() != wanted:
                continue
            if set(banned) & set(songs["artists"][candidate].as_py() or []):
                continue
            if any(same_recording(recording, other) for other in seen):
                continue
            seen.append(recording)
            kept.append((candidate, round(score, 4)))
            if len(kept) == n:
                return kept
        if count >= min(directory.size, 64 * max(n, 50)):
            return kept
        count *= 4


def test_similar_songs_of_the_whole_catalog_follow_the_rule_song_by_song(sampled_atlas):
    """`similar_catalog_columns` filters and keeps one song per recording in array operations
    (primary-artist numbers first, titles and sounds only where an artist repeats): the same
    songs, order and scores as the rule applied one candidate at a time, with every option."""
    from soundatlas.clustering.result import LABEL_COLUMNS
    from soundatlas.discovery.wholecatalog import similar_catalog_columns, song_directory

    atlas = load_atlas(sampled_atlas)
    directory = song_directory(atlas)
    ids = directory.songs["track_id"].to_pylist()
    methods = [m for m, c in LABEL_COLUMNS.items() if c in directory.songs.column_names]
    asked = 0
    for row in range(0, directory.size, 59):
        for n, method, exclude in (
            (10, None, False),
            (3, "kmeans", True),
            (40, methods[-1], False),
        ):
            label = LABEL_COLUMNS[method] if method else None
            banned = directory.songs["artists"][row].as_py() or [] if exclude else []
            expected = _similar_one_by_one(directory, row, n, label, banned)
            found = similar_catalog_columns(
                atlas, ids[row], n=n, same_cluster=method, exclude_same_artist=exclude
            )
            assert [ids[r] for r, _ in expected] == found["track_id"].tolist()
            assert [s for _, s in expected] == found["similarity"].tolist()
            assert found["rank"].tolist() == list(range(1, len(expected) + 1))
            asked += 1
    assert asked >= 90


def test_the_library_decides_where_similar_songs_come_from(sampled_atlas):
    """One rule for every front door: a sampled atlas asked without a filter answers from every
    song; with a filter, from the loaded songs; several songs or chosen features are refused."""
    import numpy as np

    from soundatlas.discovery import searches_whole_catalog, similar_to_many, similar_tracks
    from soundatlas.discovery.wholecatalog import similar_in_catalog
    from soundatlas.errors import ConfigError

    atlas = load_atlas(sampled_atlas)
    row = 3
    track_id = str(atlas.tracks["track_id"].iloc[row])
    assert searches_whole_catalog(atlas)
    whole = similar_tracks(atlas, row, n=5)
    assert (
        whole["track_id"].tolist() == similar_in_catalog(atlas, track_id, n=5)["track_id"].tolist()
    )
    everyone = np.ones(len(atlas.tracks), dtype=bool)
    assert not searches_whole_catalog(atlas, allowed=everyone)
    loaded = similar_tracks(atlas, row, n=5, allowed=everyone)
    assert set(loaded["track_id"]) <= set(atlas.tracks["track_id"])
    with pytest.raises(ConfigError, match="too big"):
        similar_tracks(atlas, row, features=["energy"])
    with pytest.raises(ConfigError, match="several songs"):
        similar_to_many(atlas, [row, row + 1])


def test_the_api_answers_a_sampled_atlas_from_its_whole_catalog(sampled_atlas):
    """The similar-songs endpoint writes `similar_columns`' records: for a sampled atlas those
    of the whole catalog, the same songs, fields and values as `similar_tracks`' table."""
    import json

    import numpy as np
    from fastapi.testclient import TestClient

    from soundatlas.api import create_app
    from soundatlas.discovery import similar_tracks

    with TestClient(create_app(sampled_atlas, poll=0)) as client:
        atlas = client.app.state.holder.atlas
        for row in (3, 40):
            track_id = str(atlas.tracks["track_id"].iloc[row])
            answer = client.get(f"/soundatlas/v1/tracks/{track_id}/similar", params={"limit": 7})
            assert answer.status_code == 200, answer.text
            items = answer.json()["items"]
            table = similar_tracks(atlas, row, n=7)
            expected = json.loads(table.to_json(orient="records", force_ascii=False))
            assert [list(i) for i in items] == [list(e) for e in expected]
            assert [i["track_id"] for i in items] == table["track_id"].tolist()
            for item, old in zip(items, expected, strict=True):
                for key, value in old.items():
                    if isinstance(value, float):
                        assert np.isclose(item[key], value, rtol=0, atol=1e-10), key
                    else:
                        assert item[key] == value, key


@pytest.mark.parametrize(
    "command",
    [
        ("search", "Britney"),
        ("playlist", "--cluster", "1", "--size", "5"),
        ("artist", "Britney Spears"),
        ("genres",),
        ("report", "-o", "{tmp}/report.html"),
    ],
    ids=lambda c: c[0],
)
def test_every_command_reads_a_sampled_atlas(sampled_atlas, tmp_path, command):
    args = [str(a).replace("{tmp}", str(tmp_path)) for a in command]
    result = run(args[0], sampled_atlas, *args[1:])
    assert result.exit_code == 0, result.output
    assert "error" not in result.output.lower()


def test_dashboard_finds_similar_songs_among_every_song_of_a_sampled_atlas(
    sampled_atlas, monkeypatch
):
    from dashboard.hostile import APP
    from streamlit.testing.v1 import AppTest

    from soundatlas.discovery.wholecatalog import similar_in_catalog

    monkeypatch.setenv("SOUNDATLAS_DASHBOARD_ATLAS", str(sampled_atlas))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page("app_pages/search.py").run()
    at.text_input(key="q").input("Britney").run()
    at.selectbox(key="se_song").select_index(0).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = at.dataframe[0].value
    atlas = load_atlas(sampled_atlas)
    picked = at.selectbox(key="se_song").value
    expected = similar_in_catalog(atlas, str(atlas.tracks["track_id"].iloc[picked]), n=10)
    assert shown["name"].tolist() == expected["name"].tolist()
    captions = " ".join(c.value for c in at.caption)
    assert "Found among all 1,769 songs" in captions


def _outside_the_sample(atlas) -> dict:
    """A song of the catalog that the loaded sample does not hold, from the directory."""
    from soundatlas.discovery.wholecatalog import song_directory

    songs = song_directory(atlas).songs
    loaded = set(atlas.tracks["track_id"])
    row = next(i for i, t in enumerate(songs["track_id"].to_pylist()) if t not in loaded)
    return songs.slice(row, 1).drop_columns(["unit"]).to_pylist()[0]


def test_every_song_of_a_sampled_atlas_is_found_by_id(sampled_atlas):
    """The library finds a song outside the sample by its id (through the directory's sorted
    ids) with the same record a loaded song has."""
    from soundatlas.discovery import find_song, find_songs, songs_at
    from soundatlas.discovery.index import discovery_index
    from soundatlas.discovery.wholecatalog import song_directory
    from soundatlas.errors import LookupFailed

    atlas = load_atlas(sampled_atlas)
    outside = _outside_the_sample(atlas)
    song = find_song(atlas, outside["track_id"])
    assert song.row is None and song.name == outside["name"]
    assert song.artists == tuple(outside["artists"])
    assert song.values["energy"] == pytest.approx(outside["energy"])
    assert song.clusters["kmeans"] == (outside["cluster"], outside["persona"])
    loaded = str(atlas.tracks["track_id"].iloc[7])
    both = find_songs(atlas, [loaded, "no-such-id", outside["track_id"]])
    assert both[0].row == 7 and both[1] is None and both[2].track_id == outside["track_id"]
    placed = songs_at(atlas, [7, None, -1], [loaded, "no-such-id", outside["track_id"]])
    assert repr(placed) == repr(both)  # a search's rows (-1 outside the sample) give the same songs
    assert discovery_index(atlas).directory is song_directory(atlas)  # one per atlas
    directory = song_directory(atlas)
    ids = directory.songs["track_id"].to_pylist()
    scanned = [directory.row_of_id(t) for t in ids[::97]]  # one pass over the ids each
    directory.sort_ids()  # what a server does before serving: binary searches from here
    assert (
        [directory.row_of_id(t) for t in ids[::97]] == scanned == [ids.index(t) for t in ids[::97]]
    )
    assert directory.row_of_id("no-such-id") is None
    with pytest.raises(LookupFailed, match="no song of this atlas"):
        find_song(atlas, outside["track_id"] + "x")


def test_the_api_finds_songs_outside_the_sample(sampled_atlas):
    from fastapi.testclient import TestClient

    from soundatlas.api import create_app

    atlas = load_atlas(sampled_atlas)
    outside = _outside_the_sample(atlas)
    track_id = outside["track_id"]
    with TestClient(create_app(sampled_atlas, poll=0)) as client:
        track = client.get(f"/v1/tracks/{track_id}")
        assert track.status_code == 200, track.text
        assert track.json()["id"] == track_id and track.json()["name"] == outside["name"]
        assert [a["name"] for a in track.json()["artists"]] == outside["artists"]
        several = client.get("/v1/tracks", params={"ids": f"{track_id},nope"}).json()
        assert several["tracks"][0]["id"] == track_id and several["tracks"][1] is None
        features = client.get(f"/v1/audio-features/{track_id}").json()
        assert features["energy"] == pytest.approx(outside["energy"])
        assert features["tempo"] == pytest.approx(outside["tempo"])
        loaded_id = str(atlas.tracks["track_id"].iloc[0])
        asked = f"{track_id},{loaded_id},nope"
        listed = client.get("/v1/audio-features", params={"ids": asked}).json()["audio_features"]
        assert listed[0] == features and listed[2] is None
        assert listed[1] == client.get(f"/v1/audio-features/{loaded_id}").json()
        clusters = client.get(f"/soundatlas/v1/tracks/{track_id}/clusters").json()
        assert clusters["clusters"]["kmeans"]["cluster"] == outside["cluster"]
        similar = client.get(f"/soundatlas/v1/tracks/{track_id}/similar", params={"limit": 5})
        assert similar.status_code == 200, similar.text
        assert len(similar.json()["items"]) == 5
        assert client.get(f"/v1/tracks/{track_id}x").status_code == 404


def test_the_cli_finds_songs_outside_the_sample(sampled_atlas):
    import json

    atlas = load_atlas(sampled_atlas)
    outside = _outside_the_sample(atlas)
    found = run("similar", sampled_atlas, outside["track_id"], "--json", "-n", "3")
    assert found.exit_code == 0, found.output
    assert len(json.loads(found.output)) == 3


def test_search_finds_songs_outside_the_sample(sampled_atlas):
    """A title held only outside the loaded sample is found by search in the library, the API
    (Spotify's paging object) and the CLI."""
    import json

    from fastapi.testclient import TestClient

    from soundatlas.api import create_app
    from soundatlas.discovery import search

    atlas = load_atlas(sampled_atlas)
    loaded_titles = set(atlas.tracks["name"].str.lower())
    outside = _outside_the_sample(atlas)
    from soundatlas.discovery.wholecatalog import song_directory

    songs = song_directory(atlas).songs
    for row, name in enumerate(songs["name"].to_pylist()):  # a title the sample lacks
        if name.lower() not in loaded_titles and len(name) > 6:
            outside = songs.slice(row, 1).drop_columns(["unit"]).to_pylist()[0]
            break
    found = search(atlas, outside["name"], limit=50)
    hits = found.songs[found.songs["track_id"] == outside["track_id"]]
    assert len(hits) == 1 and hits["row"].iloc[0] == -1 and hits["match"].iloc[0] == "exact"
    assert found.total_songs >= 1
    with TestClient(create_app(sampled_atlas, poll=0)) as client:
        page = client.get("/v1/search", params={"q": outside["name"], "type": "track"})
        assert page.status_code == 200, page.text
        ids = [t["id"] for t in page.json()["tracks"]["items"]]
        assert outside["track_id"] in ids
    cli = run("search", sampled_atlas, outside["name"], "--json")
    assert cli.exit_code == 0, cli.output
    assert outside["track_id"] in cli.output
    assert json.loads(cli.output)


def test_an_artist_outside_the_sample_is_found_by_id(sampled_atlas):
    """An artist credited only on songs outside the loaded sample is found by id in the library
    and through /v1/artists/{id}, with the genres of all their songs."""
    from fastapi.testclient import TestClient

    from soundatlas.api import create_app
    from soundatlas.discovery import find_artist
    from soundatlas.discovery.text import name_id
    from soundatlas.discovery.wholecatalog import song_directory
    from soundatlas.errors import LookupFailed

    atlas = load_atlas(sampled_atlas)
    loaded = {name_id(a) for artists in atlas.tracks["artists"] for a in artists}
    songs = song_directory(atlas).songs
    credited = [
        (a, tuple(g or ()))
        for a, g in zip(songs["artists"].to_pylist(), songs["genres"].to_pylist(), strict=True)
    ]
    name = next(a for artists, _ in credited for a in artists if name_id(a) not in loaded)
    genres = {g for artists, listed in credited if name in artists for g in listed}
    artist = find_artist(atlas, name_id(name))
    assert artist.name == name and set(artist.genres) == genres and artist.songs >= 1
    with pytest.raises(LookupFailed, match="no artist of this atlas"):
        find_artist(atlas, "0" * 22)
    with TestClient(create_app(sampled_atlas, poll=0)) as client:
        found = client.get(f"/v1/artists/{name_id(name)}")
        assert found.status_code == 200, found.text
        assert found.json()["name"] == name and set(found.json()["genres"]) == genres
        assert client.get(f"/v1/artists/{'0' * 22}").status_code == 404
