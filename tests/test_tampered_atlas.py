"""Tampered atlases: every command that reads one refuses it with one message naming the file.

An atlas is a folder a user can copy, edit, truncate or swap files in. Whatever was done to it,
the commands refuse with exit 2 and the name of the file at fault, and nothing in the folder is
ever run: a pickle payload hidden in ``model.npz`` must not create its marker file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from soundatlas.atlas.build import build_atlas
from soundatlas.atlas.manifest import MANIFEST, read_manifest
from soundatlas.atlas.model import load_atlas
from soundatlas.config import BuildConfig
from soundatlas.demo import generate_catalog
from soundatlas.discovery.save import save_atlas
from soundatlas.errors import AtlasError

runner = CliRunner()


@pytest.fixture(scope="module")
def atlases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two small atlases: the one tampered with, and another whose files are swapped in."""
    root = tmp_path_factory.mktemp("tamper")
    catalog = generate_catalog(240, random_state=3)
    save_atlas(build_atlas(catalog), root / "atlas")
    other = BuildConfig(features=("energy", "valence", "tempo"), methods=("kmeans",), k=3)
    save_atlas(build_atlas(generate_catalog(120, random_state=4), other), root / "other")
    return {"atlas": root / "atlas", "other": root / "other"}


class _Payload:
    """Unpickling this opens (creates) ``marker``: proof that a pickle was run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


Tampering = Callable[[Path, Path, Path], str]
"""``tamper(atlas folder, another atlas, marker file)`` -> the name of the file at fault."""


def _rehash(folder: Path, name: str) -> None:
    """Make the manifest agree with an edited file, as a careful tamperer would."""
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _edit_manifest(change: Callable[[dict], object]) -> Tampering:
    def tamper(folder: Path, other: Path, marker: Path) -> str:
        manifest = json.loads((folder / MANIFEST).read_text())
        change(manifest)
        (folder / MANIFEST).write_text(json.dumps(manifest))
        return MANIFEST

    return tamper


def _hash_changed(folder: Path, other: Path, marker: Path) -> str:
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"]["personas.parquet"] = "0" * 64
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return "personas.parquet"


def _broken_json(folder: Path, other: Path, marker: Path) -> str:
    text = (folder / MANIFEST).read_text()
    (folder / MANIFEST).write_text(text[: len(text) // 2])
    return MANIFEST


def _truncated_parquet(folder: Path, other: Path, marker: Path) -> str:
    data = (folder / "tracks.parquet").read_bytes()
    (folder / "tracks.parquet").write_bytes(data[: len(data) // 2])
    return "tracks.parquet"


def _model_swapped(folder: Path, other: Path, marker: Path) -> str:
    shutil.copyfile(other / "model.npz", folder / "model.npz")
    return "model.npz"


def _pickle_in_model(folder: Path, other: Path, marker: Path) -> str:
    with np.load(folder / "model.npz") as arrays:
        model = {name: arrays[name] for name in arrays.files}
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(marker)
    model["scaler_center"] = payload
    with (folder / "model.npz").open("wb") as handle:
        np.savez(handle, **model)
    return "model.npz"


def _file_missing(folder: Path, other: Path, marker: Path) -> str:
    (folder / "selection.parquet").unlink()
    return "selection.parquet"


def _manifest_missing(folder: Path, other: Path, marker: Path) -> str:
    (folder / MANIFEST).unlink()
    return MANIFEST


def _manifest_a_list(folder: Path, other: Path, marker: Path) -> str:
    (folder / MANIFEST).write_text("[1, 2]")
    return MANIFEST


def _personas_swapped(folder: Path, other: Path, marker: Path) -> str:
    shutil.copyfile(other / "personas.parquet", folder / "personas.parquet")
    return "personas.parquet"


def _rehashed(tamper: Tampering) -> Tampering:
    """``tamper``, then the manifest's checksum made to agree, as a careful tamperer would."""

    def tamper_and_rehash(folder: Path, other: Path, marker: Path) -> str:
        name = tamper(folder, other, marker)
        _rehash(folder, name)
        return name

    return tamper_and_rehash


def _set(key: str, value: object) -> Callable[[dict], object]:
    return lambda manifest: manifest.__setitem__(key, value)


def _files_outside(manifest: dict) -> None:
    manifest["files"]["../other/model.npz"] = manifest["files"]["model.npz"]


TAMPERINGS: dict[str, Tampering] = {
    "hash changed": _hash_changed,
    "json broken": _broken_json,
    "manifest missing": _manifest_missing,
    "manifest a list": _manifest_a_list,
    "files removed": _edit_manifest(lambda d: d.pop("files")),
    "files a number": _edit_manifest(_set("files", 5)),
    "files without model": _edit_manifest(lambda d: d["files"].pop("model.npz")),
    "files outside the folder": _edit_manifest(_files_outside),
    "methods a list": _edit_manifest(_set("methods", [])),
    "methods unknown": _edit_manifest(lambda d: d["methods"].__setitem__("magic", {})),
    "methods emptied": _edit_manifest(_set("methods", {})),
    "config a string": _edit_manifest(_set("config", "kmeans")),
    "config bad value": _edit_manifest(lambda d: d["config"].__setitem__("k", "many")),
    "scaler removed": _edit_manifest(lambda d: d.pop("scaler")),
    "features wrong": _edit_manifest(lambda d: d["scaler"].__setitem__("features", ["energy"])),
    "report a list": _edit_manifest(_set("report", [])),
    "format version text": _edit_manifest(_set("format_version", "1")),
    "parquet truncated": _truncated_parquet,
    "parquet truncated, rehashed": _rehashed(_truncated_parquet),
    "parquet from another atlas": _rehashed(_personas_swapped),
    "model swapped": _model_swapped,
    "model swapped, rehashed": _rehashed(_model_swapped),
    "model holds a pickle": _rehashed(_pickle_in_model),
    "file missing": _file_missing,
}


def _commands(
    atlas: Path, out: Path, track: str, artist: str, busy_port: int = 0
) -> dict[str, list[str]]:
    """The command lines reading ``atlas``; the dashboard's port is taken, so an atlas that
    loaded by mistake ends the command instead of starting a server."""
    return {
        "info": ["info", str(atlas)],
        "export": ["export", str(atlas), "-o", str(out / "export.csv")],
        "report": ["report", str(atlas), "-o", str(out / "report.html")],
        "similar": ["similar", str(atlas), track, "-o", str(out / "similar.csv")],
        "playlist": ["playlist", str(atlas), "--seed", track, "-o", str(out / "list.csv")],
        "search": ["search", str(atlas), "demo"],
        "artist": ["artist", str(atlas), artist, "-o", str(out / "artist.json")],
        "genres": ["genres", str(atlas), "--min-songs", "2", "-o", str(out / "genres.csv")],
        "dashboard": ["dashboard", str(atlas), "--port", str(busy_port)],
    }


COMMANDS = ("info", "export", "report", "similar", "playlist", "search", "artist", "genres")


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("localhost", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture(scope="module")
def query(atlases) -> tuple[str, str]:
    tracks = load_atlas(atlases["atlas"]).tracks
    return str(tracks["track_id"].iloc[0]), str(tracks["artists"].iloc[0][0])


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_works_on_the_untouched_atlas(atlases, query, tmp_path, command):
    folder = tmp_path / "atlas"
    shutil.copytree(atlases["atlas"], folder)
    out = tmp_path / "out"
    result = runner.invoke(_app(), _commands(folder, out, *query)[command])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def tampered(atlases, tmp_path_factory) -> dict[str, tuple[Path, str, Path]]:
    """Each tampering done once to its own copy: ``{tampering: (folder, file named, marker)}``
    (commands only read the folder, so every command can be run on the same copy)."""
    root = tmp_path_factory.mktemp("tampered")
    done = {}
    for number, (tampering, tamper) in enumerate(TAMPERINGS.items()):
        folder = root / f"atlas{number}"
        shutil.copytree(atlases["atlas"], folder)
        marker = root / f"pickle-ran-{number}"
        done[tampering] = (folder, tamper(folder, atlases["other"], marker), marker)
    return done


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
@pytest.mark.parametrize("command", [*COMMANDS, "dashboard"])
def test_every_command_refuses_a_tampered_atlas_naming_the_file(
    tampered, query, busy_port, tmp_path, command, tampering
):
    folder, name, marker = tampered[tampering]
    out = tmp_path / "out"
    result = runner.invoke(_app(), _commands(folder, out, *query, busy_port)[command])
    message = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert message.startswith("error:") and message.count("error:") == 1, result.output
    assert name in message, f"the message should name {name}: {message}"
    assert not marker.exists(), "a pickle inside the atlas was run"
    assert not out.exists(), "nothing is written from a tampered atlas"


def test_the_python_api_refuses_the_same_way(tampered):
    for folder, name, marker in tampered.values():
        with pytest.raises(AtlasError, match=name.replace(".", r"\.")):
            load_atlas(folder)
        assert not marker.exists()


def test_an_extra_file_in_the_folder_is_never_read(atlases, tmp_path):
    """Files the manifest does not list are not part of the atlas: a pickle dropped beside
    them is not loaded, and the atlas still loads (a stray .DS_Store must not break it)."""
    folder = tmp_path / "atlas"
    shutil.copytree(atlases["atlas"], folder)
    marker = tmp_path / "pickle-ran"
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(marker)
    np.save(folder / "model.npy", payload, allow_pickle=True)
    (folder / "extra.pkl").write_bytes(__import__("pickle").dumps(_Payload(marker)))
    result = runner.invoke(_app(), ["info", str(folder)])
    assert result.exit_code == 0, result.output
    assert not marker.exists()


def _app():
    from soundatlas.cli import app

    return app


def test_the_dashboards_atlas_list_describes_a_tampered_atlas_without_failing(tampered):
    from soundatlas.dashboard.catalogs import describe

    for folder, _, _ in tampered.values():
        try:
            read_manifest(folder)
        except AtlasError:
            assert describe(folder) == f"{folder.name} (unreadable manifest)"
        else:
            assert describe(folder).endswith("built " + read_manifest(folder)["created"][:10])


def _as_parts(folder: Path) -> None:
    """Lay the atlas out as the spark engine does: per-song tables as Parquet parts."""
    manifest = json.loads((folder / MANIFEST).read_text())
    parts: dict[str, object] = {"sample": None, "rows": manifest["rows"]["tracks"]}
    for table in ("tracks", "original"):
        (folder / table).mkdir()
        name = f"{table}/part-00000.parquet"
        (folder / f"{table}.parquet").rename(folder / name)
        digest = manifest["files"].pop(f"{table}.parquet")
        manifest["files"][name] = digest
        parts[table] = [name]
    manifest["parts"] = parts
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_atlases_in_parquet_parts_are_checked_the_same_way(atlases, tmp_path):
    folder = tmp_path / "parts"
    shutil.copytree(atlases["atlas"], folder)
    _as_parts(folder)
    assert len(load_atlas(folder).tracks) == 240
    manifest = json.loads((folder / MANIFEST).read_text())
    unlisted = tmp_path / "unlisted"
    shutil.copytree(folder, unlisted)
    del manifest["files"]["tracks/part-00000.parquet"]
    (unlisted / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(AtlasError, match=r"manifest\.json.*tracks/part-00000\.parquet"):
        load_atlas(unlisted)
    cut = folder / "tracks" / "part-00000.parquet"
    cut.write_bytes(cut.read_bytes()[:100])
    _rehash(folder, "tracks/part-00000.parquet")
    with pytest.raises(AtlasError, match=r"tracks/part-00000\.parquet cannot be read"):
        load_atlas(folder)
