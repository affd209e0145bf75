"""Hostile paths: decompression bombs, things that are not files, and outputs that would
overwrite an input. Each is refused with one message and exit code 2, before anything is
written and before memory grows."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from cliprocess import run_cli
from typer.testing import CliRunner

from soundatlas.atlas.model import load_atlas
from soundatlas.cli import app
from soundatlas.demo import generate_catalog
from soundatlas.ingest.reading import MAX_TABLE_BYTES

runner = CliRunner()


def _one_error(output: str) -> str:
    flat = " ".join(output.split())
    assert "Traceback" not in output and "internal error" not in output, output
    assert flat.count("error:") == 1, output
    return flat


def _gzip_bomb(target: Path, expanded: int) -> Path:
    """Zeros that expand to ``expanded`` bytes, as gzip members of 64 MiB each (``cat``-ed
    gzip files are one valid gzip stream; compressing 2 GiB in one member would take
    longer than the test)."""
    member = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    with target.open("wb") as handle:
        for _ in range(-(-expanded // (64 << 20))):
            handle.write(member)
    return target


def test_a_gzip_bomb_is_refused_before_memory_grows(tmp_path):
    nothing = run_cli("validate", tmp_path / "absent.csv")
    assert nothing.code == 2, nothing.output
    bomb = _gzip_bomb(tmp_path / "tracks.csv.gz", 2 * MAX_TABLE_BYTES)
    assert bomb.stat().st_size < 4 << 20
    rejected = tmp_path / "rejected.csv"
    refused = run_cli("validate", bomb, "--rejected", rejected)
    assert refused.code == 2, refused.output
    message = _one_error(refused.output)
    assert str(bomb) in message and "more than" in message
    assert not rejected.exists()
    grown = refused.peak_mib - nothing.peak_mib
    print(
        f"gzip bomb: {bomb.stat().st_size / 2**20:.1f} MiB expanding to "
        f"{2 * MAX_TABLE_BYTES / 2**30:.0f} GiB; peak RSS {refused.peak_mib:.0f} MiB "
        f"(a command that reads nothing: {nothing.peak_mib:.0f} MiB)"
    )
    assert grown < 32, f"peak memory grew by {grown:.0f} MiB reading the bomb"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["folder", "fifo", "/dev/zero", "symlink to /dev/zero"])
@pytest.mark.parametrize("command", ["validate", "build"])
def test_things_that_are_not_files_are_refused_at_once(tmp_path, kind, command):
    if kind == "folder":
        source = tmp_path / "tracks.csv"
        source.mkdir()
    elif kind == "fifo":
        source = tmp_path / "tracks.csv"
        os.mkfifo(source)
    elif kind == "/dev/zero":
        source = Path("/dev/zero")
    else:
        source = tmp_path / "tracks.csv"
        source.symlink_to("/dev/zero")
    out = tmp_path / "atlas"
    args = [command, str(source)] + (["-o", str(out), "--quiet"] if command == "build" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    message = _one_error(result.output)
    assert str(source) in message
    assert not out.exists()


def test_a_large_plain_file_is_refused_before_it_is_read(tmp_path):
    sparse = tmp_path / "huge.csv"
    with sparse.open("wb") as handle:
        handle.write(b"name,energy\n")
        handle.truncate(MAX_TABLE_BYTES + 1)  # a sparse file: no disk space, no reading
    result = runner.invoke(app, ["validate", str(sparse)])
    assert result.exit_code == 2, result.output
    assert "more than" in _one_error(result.output)


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small_atlas(tmp_path_factory) -> tuple[Path, Path, str, str]:
    """A catalog, its atlas, and a track id and an artist in it."""
    root = tmp_path_factory.mktemp("outputs")
    catalog = root / "tracks.csv"
    generate_catalog(150, random_state=2).to_csv(catalog, index=False)
    result = runner.invoke(app, ["build", str(catalog), "-o", str(root / "atlas"), "--quiet"])
    assert result.exit_code == 0, result.output
    tracks = load_atlas(root / "atlas").tracks
    return catalog, root / "atlas", str(tracks["track_id"].iloc[0]), tracks["artists"].iloc[0][0]


def _overwriting_commands(
    catalog: Path, atlas: Path, track: str, artist: str
) -> dict[str, list[object]]:
    return {
        "build -o the input": ["build", catalog, "-o", catalog],
        "build from inside the atlas": ["build", atlas / "tracks.csv", "-o", atlas],
        "validate --rejected the input": ["validate", catalog, "--rejected", catalog],
        "export over its tracks": [
            "export",
            atlas,
            "-f",
            "parquet",
            "-o",
            atlas / "tracks.parquet",
        ],
        "export over its manifest": ["export", atlas, "-f", "json", "-o", atlas / "manifest.json"],
        "export into the atlas": ["export", atlas, "-o", atlas / "mine.csv"],
        "report over its manifest": ["report", atlas, "-f", "md", "-o", atlas / "manifest.json"],
        "report figures into the atlas": [
            "report",
            atlas,
            "-o",
            atlas.parent / "r.html",
            "--figures",
            atlas,
        ],
        "playlist into the atlas": ["playlist", atlas, "--seed", track, "-o", atlas / "p.csv"],
        "similar over its selection": ["similar", atlas, track, "-o", atlas / "selection.parquet"],
        "artist into the atlas": ["artist", atlas, artist, "-o", atlas / "a.json"],
        "genres into the atlas": ["genres", atlas, "-o", atlas / "g.csv"],
    }


OVERWRITING = list(_overwriting_commands(Path("c"), Path("a"), "t", "a"))


@pytest.mark.parametrize("case", OVERWRITING)
def test_an_output_that_would_overwrite_an_input_is_refused(small_atlas, tmp_path, case):
    catalog, built, track, artist = small_atlas
    atlas = tmp_path / "atlas"
    shutil.copytree(built, atlas)
    shutil.copyfile(catalog, atlas / "tracks.csv")
    source = tmp_path / "tracks.csv"
    shutil.copyfile(catalog, source)
    catalog_before, atlas_before = source.read_bytes(), _digest(atlas)
    args = _overwriting_commands(source, atlas, track, artist)[case]
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    _one_error(result.output)
    assert source.read_bytes() == catalog_before, "the input catalog was changed"
    assert _digest(atlas) == atlas_before, "the atlas folder was changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas", "tracks.csv"]
