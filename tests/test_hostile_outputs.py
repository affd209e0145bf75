"""Hostile situations on the way out (issue 16): a full disk, a quota or a read-only folder is
the user's situation (exit 2, the folder and the space named, the old atlas kept); every JSON file
follows one rule for formula-like text; a value the file writes is quoted as written."""

from __future__ import annotations

import errno
import json
import os
import stat
from unittest import mock

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from soundatlas import BuildConfig, build_atlas, load_atlas
from soundatlas.cli import app
from soundatlas.discovery.save import save_atlas
from soundatlas.errors import OutputError
from soundatlas.ingest.catalog import load_catalog
from soundatlas.ingest.schema import AUDIO_FEATURES
from soundatlas.reports.exports import write_table

runner = CliRunner()
FORMULA_ARTIST = "=HYPERLINK(1)"
FORMULA_GENRE = "@evil"
CR_NAME = "Carriage\rReturn"
CR_FORMULA = "\r=1+1"


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory):
    from soundatlas.demo import generate_catalog

    frame = generate_catalog(300, random_state=3)
    rows = frame.index[:5]
    frame.loc[rows, "id_artists"] = frame.loc[0, "id_artists"]
    frame.loc[rows, "name_artists"] = FORMULA_ARTIST
    frame.loc[rows, "genres"] = repr([FORMULA_GENRE, "pop"])
    frame.loc[5, "name_song"] = CR_NAME
    frame.loc[6, "name_song"] = CR_FORMULA
    path = tmp_path_factory.mktemp("catalog") / "tracks.csv"
    frame.to_csv(path, index=False, lineterminator="\r\n")  # CR inside quoted cells
    return path


@pytest.fixture(scope="module")
def atlas_folder(catalog_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("atlas") / "atlas"
    save_atlas(build_atlas(catalog_file, BuildConfig(methods=("kmeans",))), folder)
    return folder


def _disk_fills(*args, **kwargs):
    # As pyarrow raises it: the errno only in the text.
    raise OSError("[Errno 28] Error writing bytes to file. Detail: [errno 28] No space left")


def test_a_full_disk_keeps_the_old_atlas_and_says_so(atlas_folder, catalog_file, monkeypatch):
    before = load_atlas(atlas_folder).manifest["created"]
    monkeypatch.setattr("soundatlas.atlas.store.pq.write_table", _disk_fills)
    result = runner.invoke(app, ["build", str(catalog_file), "-o", str(atlas_folder), "--quiet"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert f"the atlas {atlas_folder}: cannot be written in {atlas_folder.parent}" in message
    assert "the disk is full (it needs more than the" in message and "free there)" in message
    assert "internal error" not in message and "bug" not in message
    assert load_atlas(atlas_folder).manifest["created"] == before
    assert sorted(p.name for p in atlas_folder.parent.iterdir()) == ["atlas"]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.EDQUOT, "the disk quota is used up"),
        (errno.EROFS, "the disk is read-only"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_quota_read_only_and_permissions_are_the_users_situation(
    tmp_path, monkeypatch, code, words
):
    def refused(*args, **kwargs):
        raise OSError(code, "refused")

    monkeypatch.setattr(pd.DataFrame, "to_csv", refused)
    with pytest.raises(OutputError, match=f"out.csv: cannot be written in {tmp_path}: {words}"):
        write_table(pd.DataFrame({"name": ["a"]}), tmp_path / "out.csv", "csv")
    assert list(tmp_path.iterdir()) == []


def test_every_json_file_neutralises_formulas_the_same_way(atlas_folder, tmp_path):
    artist = tmp_path / "artist.json"
    result = runner.invoke(app, ["artist", str(atlas_folder), FORMULA_ARTIST, "-o", str(artist)])
    assert result.exit_code == 0, result.output
    profile = json.loads(artist.read_text("utf-8"))
    assert profile["name"] == "'" + FORMULA_ARTIST
    assert "'" + FORMULA_GENRE in profile["genres"]
    assert FORMULA_ARTIST not in artist.read_text("utf-8").replace("'" + FORMULA_ARTIST, "")

    genres = tmp_path / "genres.json"
    result = runner.invoke(
        app, ["genres", str(atlas_folder), "--min-songs", "2", "-o", str(genres)]
    )
    assert result.exit_code == 0, result.output
    names = [row["genre"] for row in json.loads(genres.read_text("utf-8"))["genres"]]
    assert "'" + FORMULA_GENRE in names and FORMULA_GENRE not in names

    export = tmp_path / "export.json"
    result = runner.invoke(
        app, ["export", str(atlas_folder), "-o", str(export), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert '"=' not in export.read_text("utf-8") and '"@' not in export.read_text("utf-8")


def test_values_are_quoted_as_the_file_writes_them(tmp_path):
    header = ",".join(AUDIO_FEATURES)
    rows = [",".join(["0.5"] * 8 + ["120"]) for _ in range(12)]
    rows[1] = rows[1].replace("0.5", "NaN", 1)
    rows[2] = rows[2].replace("0.5", "1e309", 1)
    path = tmp_path / "tracks.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    findings = {f.rule: f.message for f in load_catalog(path, min_tracks=1).report.findings}
    assert "has no value on line 3 (1 row; found 'NaN')" in findings["missing danceability"]
    assert "found '1e309'" in findings["out-of-range danceability"]


def test_a_cr_inside_a_cell_goes_out_as_it_came_in(atlas_folder, catalog_file, tmp_path):
    result = runner.invoke(app, ["validate", str(catalog_file)])
    assert result.exit_code == 0 and "CR only" not in result.output, result.output
    target = tmp_path / "seed.csv"
    args = ["export", str(atlas_folder), "-o", str(target), "--format", "seed-csv"]
    assert runner.invoke(app, args).exit_code == 0
    names = pd.read_csv(target, dtype=str, keep_default_na=False)["name_song"].tolist()
    assert CR_NAME in names and "'" + CR_FORMULA in names, "kept, and the formula guarded"


@settings(max_examples=12, deadline=None, derandomize=True, database=None)
@given(
    failing_call=st.integers(1, 8),
    code=st.sampled_from((errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES)),
    pyarrow_style=st.booleans(),
)
def test_a_save_that_fails_at_any_write_is_said_and_undone(
    atlas_folder, failing_call, code, pyarrow_style
):
    """Whichever file the disk refuses (each is fsynced), with whichever user situation, and
    whether the errno is an attribute or only in the text (pyarrow): an OutputError naming the
    folder, nothing left behind, the atlas there unchanged. (A folder's fsync is best effort
    and not counted.)"""
    atlas = load_atlas(atlas_folder)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in atlas_folder.iterdir())
    real_fsync, calls = os.fsync, []

    def fsync(descriptor: int) -> None:
        if stat.S_ISREG(os.fstat(descriptor).st_mode):  # a folder's fsync is best effort
            calls.append(descriptor)
        if len(calls) == failing_call and stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"[Errno {code}] refused") if pyarrow_style else OSError(code, "refused")
        real_fsync(descriptor)

    with mock.patch("os.fsync", fsync):
        try:
            save_atlas(atlas, atlas_folder)
        except OutputError as exc:
            assert f"cannot be written in {atlas_folder.parent}" in str(exc)
            assert "unchanged" in str(exc)
        else:
            assert len(calls) < failing_call, "only a save that met no failure succeeds"
    assert sorted(p.name for p in atlas_folder.parent.iterdir()) == ["atlas"]
    if len(calls) >= failing_call:
        assert sorted((p.name, p.stat().st_mtime_ns) for p in atlas_folder.iterdir()) == before
