"""The discovery commands: exit codes and messages, --json, -o, candidate lists."""

from __future__ import annotations

import json
import re

import pytest
from realdata import GENRES_11K, TOPHITS
from typer.testing import CliRunner

from soundatlas.cli import app
from soundatlas.discovery.save import save_atlas

pytestmark = pytest.mark.realdata
WIDE = {"COLUMNS": "200"}


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], env=WIDE)

    return invoke


@pytest.fixture
def charts(atlas_of) -> str:
    return atlas_of(TOPHITS).manifest["path"]


@pytest.fixture
def genres_atlas(atlas_of) -> str:
    return atlas_of(GENRES_11K).manifest["path"]


def test_similar_prints_a_table(run, charts) -> None:
    result = run("similar", charts, "halo beyonce", "--n", "5")
    assert result.exit_code == 0, result.output
    assert "Songs like 'halo beyonce'" in result.stdout
    assert "Destiny's Child" in result.stdout and "differs most" in result.stdout


def test_similar_json_is_pure_json(run, charts) -> None:
    result = run("similar", charts, "halo beyonce", "--n", "4", "--exclude-artist", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert all("Beyoncé" not in r["artists"] for r in rows)
    assert {"similarity", "closest", "differs", "persona"} <= set(rows[0])


def test_similar_to_several_songs_and_saved(run, charts, tmp_path) -> None:
    target = tmp_path / "like.csv"
    result = run("similar", charts, "halo beyonce", "--also", "oops i did it again", "-o", target)
    assert result.exit_code == 0, result.output
    assert "Songs like 2 songs" in result.stdout and f"Wrote {target}" in result.stderr
    assert target.read_text("utf-8").startswith("rank,row,track_id,name,artists,similarity")


def test_ambiguous_query_lists_the_candidates_and_exits_2(run, charts) -> None:
    result = run("similar", charts, "love")
    assert result.exit_code == 2
    assert "'love': matches 2 different songs" in result.stderr
    assert "Candidates:" in result.stderr
    assert "Love — Keyshia Cole (2005)" in result.stderr
    assert "Love — Musiq Soulchild (2000)" in result.stderr
    assert result.stdout == ""


def test_ambiguous_query_with_json_gives_the_candidates_as_json(run, charts) -> None:
    result = run("similar", charts, "love", "--json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert "matches 2 different songs" in data["error"]
    assert {c["artists"] for c in data["candidates"]} == {"Keyshia Cole", "Musiq Soulchild"}


def test_unknown_song_and_bad_options_exit_2_with_the_reason(run, charts) -> None:
    result = run("similar", charts, "zzqx")
    assert result.exit_code == 2
    assert "error: song query 'zzqx': no song has this track id" in result.stderr
    result = run("similar", charts, "halo beyonce", "--features", "energy,groove")
    assert result.exit_code == 2 and "features groove: not features of this atlas" in result.stderr
    result = run("similar", charts, "halo beyonce", "--same-cluster", "spectral")
    assert result.exit_code == 2 and "method 'spectral' was not run" in result.stderr


def test_missing_atlas_exits_2(run, tmp_path) -> None:
    result = run("search", tmp_path / "nothing", "love")
    assert result.exit_code == 2 and "no atlas here" in result.stderr


def test_playlist_table_message_and_files(run, genres_atlas, tmp_path) -> None:
    result = run(
        "playlist", genres_atlas, "--cluster", "1", "--size", "8", "--order", "rising",
        "--max", "tempo=140", "-o", tmp_path / "mix.txt",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Playlist (rising order)" in result.stdout
    assert "8 songs chosen from" in result.stdout
    urls = (tmp_path / "mix.txt").read_text().splitlines()
    assert len(urls) == 8 and all(u.startswith("https://open.spotify.com/track/") for u in urls)
    result = run(
        "playlist", genres_atlas, "--cluster", "1", "--size", "8", "-o", tmp_path / "m.csv"
    )
    assert result.exit_code == 0 and (tmp_path / "m.csv").read_text().count("\n") == 9


def test_playlist_shortfall_and_json(run, charts) -> None:
    result = run("playlist", charts, "--cluster", "0", "--threshold", "0.95", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["limiting"] == "threshold" and data["passed"] < 20
    assert len(data["tracks"]) == data["passed"]
    assert all(t["similarity"] >= 0.95 for t in data["tracks"])
    assert "similarity ≥ 0.95 cut the most" in data["message"]


def test_an_empty_playlist_exits_1_with_its_reason(run, charts) -> None:
    result = run("playlist", charts, "--cluster", "0", "--threshold", "1.0", "--min", "energy=0.99")
    assert result.exit_code == 1, result.output
    assert "None of the 20 songs asked for pass every constraint" in " ".join(result.stderr.split())
    one = run("playlist", charts, "--cluster", "0", "--size", "1")
    assert one.exit_code == 0, one.output
    assert "1 song chosen from" in " ".join(one.stdout.split())


def test_no_explicit_on_a_catalog_without_an_explicit_column_warns(run, tmp_path) -> None:
    import pandas as pd

    from soundatlas import build_atlas
    from soundatlas.config import BuildConfig

    rng = pd.Series(range(40), dtype=float) / 40
    frame = pd.DataFrame(
        {
            "name": [f"Song {i}" for i in range(40)],
            "artists": [f"Artist {i % 7}" for i in range(40)],
            **{
                f: rng.sample(frac=1.0, random_state=i).to_numpy()
                for i, f in enumerate(
                    ["danceability", "energy", "speechiness", "acousticness", "valence"]
                )
            },
            "instrumentalness": 0.0,
            "liveness": 0.1,
            "loudness": -8.0,
            "tempo": 120.0,
        }
    )
    save_atlas(build_atlas(frame, BuildConfig(methods=("kmeans",), k=2)), tmp_path / "atlas")
    result = run("playlist", tmp_path / "atlas", "--cluster", "0", "--no-explicit", "-n", "5")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stderr.split())
    assert "warning:" in flat and "has no explicit column" in flat


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min", "energy"], "--min energy: write it as feature=value"),
        (["--min", "energy=abc"], "--min energy=abc: write it as feature=value"),
        (["--threshold", "0.5"], "threshold=0.5: must be from 0.7 to 1"),
        (["--max", "groove=1"], "max_groove: 'groove' cannot be limited"),
        (["--order", "random"], "order='random'"),
    ],
)
def test_playlist_bad_options(run, charts, args, message) -> None:
    result = run("playlist", charts, "--cluster", "0", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_playlist_txt_needs_spotify_ids(run, charts, tmp_path) -> None:
    result = run(
        "playlist", charts, "--cluster", "0", "--threshold", "0.7", "-o", tmp_path / "x.txt"
    )
    assert result.exit_code == 2
    assert "not Spotify ids; save as .csv or .json" in result.stderr
    assert not (tmp_path / "x.txt").exists()


def test_playlist_with_an_ambiguous_seed_artist(run, charts) -> None:
    result = run("playlist", charts, "--seed-artist", "the")
    assert result.exit_code == 2
    assert "artist 'the': matches" in result.stderr and "The Weeknd" in result.stderr


def test_search_tables_and_json(run, charts) -> None:
    result = run("search", charts, "beyonce", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "Artists matching 'beyonce'" in result.stdout and "Beyoncé" in result.stdout
    data = json.loads(run("search", charts, "tiesto", "--json").stdout)
    assert data["artists"][0]["artist"] == "Tiësto"
    result = run("search", charts, "!!!")
    assert result.exit_code == 2 and "has no letters or digits" in result.stderr


def test_search_says_did_you_mean_and_pages(run, charts) -> None:
    result = run("search", charts, "beyonse", "--limit", "3")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert "Nothing matches 'beyonse'. Did you mean Beyoncé? Showing its results." in flat
    assert "1-3 of 12 songs" in flat and "More: --offset 3" in flat
    data = json.loads(
        run("search", charts, "love", "--limit", "5", "--offset", "5", "--json").stdout
    )
    assert data["offset"] == 5 and data["total_songs"] > 10 and data["suggestion"] is None
    assert [s["rank"] for s in data["songs"]] == [6, 7, 8, 9, 10]


def test_similar_by_sound_or_context(run, charts) -> None:
    for kind in ("sound", "sound+context"):
        result = run("similar", charts, "halo beyonce", "--by", kind, "-n", "3")
        assert result.exit_code == 0, result.output
        assert f"(by {kind})" in result.stdout
    result = run("similar", charts, "halo beyonce", "--by", "vibes")
    assert result.exit_code == 2 and "similarity 'vibes': use one of" in result.stderr


def test_search_lists_a_recording_once_with_its_other_titles(run, charts) -> None:
    """DJ Snake's "Taki Taki" is in the file twice, credited "with" and "feat.": one recording."""
    data = json.loads(run("search", charts, "taki taki", "--json").stdout)
    assert len(data["songs"]) == 1
    song = data["songs"][0]
    titles = {song["name"], song["other_titles"]}
    assert song["releases"] == 2
    assert titles == {f"Taki Taki ({w} Selena Gomez, Ozuna & Cardi B)" for w in ("with", "feat.")}
    result = run("search", charts, "taki taki")
    assert result.exit_code == 0, result.output
    assert "releases" in result.stdout and "also as" in result.stdout
    assert song["other_titles"] in result.stdout


def test_artist_profile_and_file(run, charts, tmp_path) -> None:
    result = run("artist", charts, "eminem", "-o", tmp_path / "eminem.json")
    assert result.exit_code == 0, result.output
    assert "Eminem" in result.stdout and "Sound against the catalog" in result.stdout
    assert "Artists who sound alike" in result.stdout
    saved = json.loads((tmp_path / "eminem.json").read_text("utf-8"))
    assert saved["name"] == "Eminem" and len(saved["similar_artists"]) == 10
    result = run("artist", charts, "the")
    assert result.exit_code == 2 and "Candidates:" in result.stderr


def test_genres_lens(run, genres_atlas, tmp_path) -> None:
    result = run("genres", genres_atlas, "--method", "hierarchical", "--limit", "5")
    assert result.exit_code == 0, result.output
    assert "Genre–cluster agreement" in result.stdout
    assert "Genres by purity — Hierarchical (Ward)" in result.stdout
    assert "… 107 more genres" in result.stdout
    assert "Songs farthest from their genre's sound" in result.stdout
    result = run("genres", genres_atlas, "--json", "-o", tmp_path / "g.csv")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert len(data["genres"]) == 112 and len(data["outliers"]) == 50
    assert (tmp_path / "g.csv").read_text().startswith("genre,songs,clusters")


def test_every_count_option_takes_n(run, charts, genres_atlas) -> None:
    """``-n`` is the short form of each count of results, and means the same as the long one."""
    for args, long_form, count in [
        (["similar", charts, "halo beyonce", "--json"], "--n", lambda d: len(d)),
        (
            ["playlist", charts, "--cluster", "0", "--threshold", "0.7", "--json"],
            "--size",
            lambda d: len(d["tracks"]),
        ),
        (["search", charts, "love", "--json"], "--limit", lambda d: len(d["songs"])),
    ]:
        short = run(*args, "-n", "3")
        assert short.exit_code == 0, (args, short.output)
        assert count(json.loads(short.stdout)) == 3
        assert short.stdout == run(*args, long_form, "3").stdout
    result = run("genres", genres_atlas, "-n", "5")
    assert result.exit_code == 0, result.output
    assert "… 107 more genres" in result.stdout
    for command in ("similar", "playlist", "search", "genres"):
        assert re.search(r"(?<![-\w])-n\b", run(command, "--help").stdout), command
