"""The soundatlas command: exit codes and messages, never tracebacks."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from realdata import SEED_SAMPLE, TOPHITS, shared_file
from typer.testing import CliRunner

from soundatlas.cli import app

runner = CliRunner()
FEATURES = (
    "danceability,energy,loudness,speechiness,acousticness,instrumentalness,liveness,valence,tempo"
)
GOOD_ROW = "0.5,0.6,-7,0.05,0.2,0.0,0.1,0.4,120"


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def good_csv(rows: int = 12) -> str:
    lines = [f"name,{FEATURES}"]
    for i in range(rows):
        values = GOOD_ROW.split(",")
        values[0] = f"0.{10 + i}"
        lines.append(f"Song {i}," + ",".join(values))
    return "\n".join(lines) + "\n"


BAD_INPUTS = [
    ("empty.csv", b"", "the file is empty"),
    ("header.csv", f"name,{FEATURES}\n".encode(), "has a header but no rows"),
    ("binary.csv", b"\x00\x01\x02\x03" * 100, "binary file"),
    ("workbook.xlsx", b"PK\x03\x04" + b"\x00" * 50, "ZIP archive"),
    ("columns.csv", b"title,artist\nA,B\n", "missing required audio-feature column"),
    ("few.csv", good_csv(3).encode(), "only 3 usable track(s)"),
    ("tracks.json", b'{"not": "tracks"', "JSON"),
    ("noheader.csv", (GOOD_ROW + "\n" + GOOD_ROW + "\n").encode(), "looks like data, not a header"),
]


@pytest.mark.parametrize(("file_name", "content", "message"), BAD_INPUTS)
@pytest.mark.parametrize("command", ["validate", "build"])
def test_bad_input_exits_2_with_one_clear_message(tmp_path, file_name, content, message, command):
    path = tmp_path / file_name
    path.write_bytes(content)
    args = [command, path] + (["-o", tmp_path / "atlas", "--quiet"] if command == "build" else [])
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert str(path) in result.output.replace("\n", "")
    assert "Traceback" not in result.output
    assert not (tmp_path / "atlas").exists()


def test_missing_file_and_bad_options(tmp_path):
    result = run("build", tmp_path / "nope.csv", "-o", tmp_path / "a", "--quiet")
    assert result.exit_code == 2 and "no such file" in result.output
    path = tmp_path / "ok.csv"
    path.write_text(good_csv(), encoding="utf-8")
    for args, message in [
        (["--k", "many"], "--k many: use 'auto' or a whole number"),
        (["--methods", "kmeans,magic"], "methods magic"),
        (["--column", "nonsense"], "--column nonsense: write it as canonical=Original"),
        (["--features", "energy,bpm"], "features bpm: not clusterable"),
    ]:
        result = run("build", path, "-o", tmp_path / "a", "--quiet", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output


def test_validate_reports_bad_rows_and_writes_them(tmp_path):
    text = good_csv(14).splitlines()
    text[3] = text[3].replace("0.12,", "abc,", 1)
    text[5] = text[5] + ",extra"
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    rejected = tmp_path / "rejected.csv"
    result = run("validate", path, "--rejected", rejected)
    assert result.exit_code == 1, result.output
    flat = " ".join(result.output.split())
    assert "non-numeric danceability" in flat and "line 4" in flat
    assert "ragged row" in flat and "line 6" in flat
    rows = pd.read_csv(rejected)
    assert rows["soundatlas_line"].tolist() == [4, 6]
    assert rows["soundatlas_reason"].tolist() == ["non-numeric danceability", "ragged row"]
    assert rows["soundatlas_raw_text"].iloc[1].endswith(",extra")
    assert rows["name"].iloc[0] == "Song 2"


def test_validate_json_for_scripts():
    result = run("validate", shared_file(TOPHITS), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["dropped"] == {"duplicate row": 52}
    assert report["tracks"] == 1769


def test_clean_file_validates_with_exit_0():
    result = run("validate", shared_file(SEED_SAMPLE))
    assert result.exit_code == 0, result.output
    assert "No problems found" in result.output


def test_build_info_export_round_trip(tmp_path):
    out = tmp_path / "atlas"
    result = run("build", shared_file(SEED_SAMPLE), "-o", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert "Atlas saved to" in result.output and "14 tracks kept" in result.output
    result = run("info", out)
    assert result.exit_code == 0
    flat = " ".join(result.output.split())
    assert "Personas — K-Means" in flat and "Hierarchical (Ward)" in flat
    info = json.loads(run("info", out, "--json").output)
    assert info["rows"]["tracks"] == 14 and set(info["methods"]) == {
        "kmeans",
        "dbscan",
        "hierarchical",
    }
    exported = tmp_path / "seed.csv"
    result = run("export", out, "--format", "seed-csv", "-o", exported)
    assert result.exit_code == 0
    assert {"cluster", "cluster_dbscan", "cluster_hc"} <= set(pd.read_csv(exported).columns)
    result = run("export", out, "--format", "xlsx", "-o", tmp_path / "x.xlsx")
    assert result.exit_code == 2 and "format 'xlsx'" in result.output


def test_info_on_a_missing_atlas(tmp_path):
    result = run("info", tmp_path / "none")
    assert result.exit_code == 2
    assert "no atlas here" in result.output and "soundatlas build" in result.output


def test_build_progress_is_shown(tmp_path):
    result = run("build", shared_file(SEED_SAMPLE), "-o", tmp_path / "a")
    assert result.exit_code == 0
    for stage in (
        "Reading and validating",
        "K-Means",
        "DBSCAN",
        "Hierarchical",
        "Saving the atlas",
    ):
        assert stage in result.output


def test_demo_catalog_only_and_demo_atlas(tmp_path):
    catalog = tmp_path / "demo.csv"
    result = run("demo", "--size", "300", "--catalog-only", "-o", catalog, "--quiet")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(catalog)
    assert len(frame) == 300 and "name_artists" in frame.columns
    assert frame["name_artists"].str.startswith("Demo Artist").all()
    atlas = tmp_path / "demo-atlas"
    result = run("demo", "--size", "400", "-o", atlas, "--quiet")
    assert result.exit_code == 0, result.output
    assert (atlas / "manifest.json").exists()
    result = run("demo", "--size", "5")
    assert result.exit_code == 2 and "at least 10 songs" in result.output


def test_unwritable_outputs_fail_fast_with_a_clear_message(tmp_path):
    source = shared_file(SEED_SAMPLE)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    for target, message in [
        (a_file, "is a file; give a folder name"),
        (a_file / "sub", "its folder cannot be created"),
        (tmp_path / "ok-atlas", None),
    ]:
        result = run("build", source, "-o", target, "--quiet")
        if message is None:
            assert result.exit_code == 0, result.output
            continue
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    for command in (
        ["export", tmp_path / "ok-atlas", "-o", tmp_path],
        ["report", tmp_path / "ok-atlas", "-o", tmp_path],
    ):
        result = run(*command)
        assert result.exit_code == 2, result.output
        assert "is a folder; give a file name" in result.output


def test_every_song_the_same_is_refused(tmp_path):
    path = tmp_path / "same.csv"
    path.write_text(f"name,{FEATURES}\n" + "".join(f"S{i},{GOOD_ROW}\n" for i in range(20)))
    result = run("build", path, "-o", tmp_path / "a", "--quiet")
    assert result.exit_code == 2
    assert "same values for every clustering feature" in result.output


def test_an_unknown_option_is_a_usage_error_not_an_internal_error(tmp_path):
    result = run("validate", tmp_path / "tracks.csv", "--no-such-option")
    assert result.exit_code == 2
    assert "No such option" in result.output and "internal error" not in result.output
