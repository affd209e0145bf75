"""The discovery index saved with its atlas: mapped on load, the same answers as one built anew.

An atlas saved before the index was stored (or whose index is of another version) still loads,
and builds its index on first use; an index file from another atlas is refused by name.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from soundatlas.atlas.build import build_atlas
from soundatlas.atlas.folders import staged_atlas
from soundatlas.atlas.manifest import MANIFEST
from soundatlas.atlas.model import load_atlas
from soundatlas.atlas.store import write_atlas_files
from soundatlas.demo import generate_catalog
from soundatlas.discovery import artist_profile, search, similar_to_many, similar_tracks
from soundatlas.discovery.index import DiscoveryIndex, discovery_index
from soundatlas.discovery.indexfiles import INDEX_VERSION, stored_parts
from soundatlas.discovery.save import save_atlas
from soundatlas.errors import AtlasError

QUERIES = ("love", "the", "demo artist", "night road", "lovrs", "zzzz qqq")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same atlas saved with its index, and as an older SoundAtlas saved it (without)."""
    root = tmp_path_factory.mktemp("stored")
    atlas = build_atlas(generate_catalog(600, random_state=5))
    save_atlas(atlas, root / "with")
    with staged_atlas(root / "without") as folder:
        write_atlas_files(atlas, folder)
    return {"with": root / "with", "without": root / "without"}


def _rehash(folder: Path, file: str) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][file] = hashlib.sha256((folder / file).read_bytes()).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_the_index_is_saved_and_mapped_not_built(saved):
    atlas = load_atlas(saved["with"])
    derived = atlas.manifest["derived"]
    assert derived["version"] == INDEX_VERSION
    assert all((saved["with"] / f).is_file() for f in derived["files"].values())
    parts = stored_parts(atlas)
    assert parts is not None
    # A plain view of the mapping (scalar reads of NumPy's memmap subclass are slow).
    assert isinstance(parts["recording"].base, np.memmap), "numbers are memory-mapped"
    assert not parts["recording"].flags.writeable
    assert stored_parts(load_atlas(saved["without"])) is None


def test_a_mapped_index_equals_one_built_anew(saved):
    mapped = discovery_index(load_atlas(saved["with"]))
    built = DiscoveryIndex(load_atlas(saved["without"]))
    for name in (
        "primary_artist",
        "row_artist_ptr",
        "row_artist_codes",
        "artist_rows",
        "artist_ptr",
        "artist_unit",
        "artist_score",
        "recording",
        "releases",
    ):
        assert np.array_equal(getattr(mapped, name), getattr(built, name)), name
    assert mapped.artists.equals(built.artists)
    for name in ("title_keys", "song_keys", "reverse_keys", "artist_keys"):
        assert getattr(mapped, name).equals(getattr(built, name)), name


def test_answers_are_the_same_with_and_without_the_saved_index(saved):
    with_index, without = load_atlas(saved["with"]), load_atlas(saved["without"])
    assert stored_parts(with_index) is not None and stored_parts(without) is None
    for row in (0, 17, 333):
        for kind in ("sound", "sound+context"):
            first = similar_tracks(with_index, row, similarity=kind)
            assert first.equals(similar_tracks(without, row, similarity=kind))
    assert similar_to_many(with_index, [1, 2, 3]).equals(similar_to_many(without, [1, 2, 3]))
    for text in QUERIES:
        one, other = search(with_index, text), search(without, text)
        assert one.songs.equals(other.songs), text
        assert one.artists.equals(other.artists), text
        assert (one.total_songs, one.suggestion) == (other.total_songs, other.suggestion)
    name = str(with_index.tracks["artists"].iloc[0][0])
    assert artist_profile(with_index, name).songs.equals(artist_profile(without, name).songs)


def test_an_index_of_another_version_is_built_again(saved, tmp_path):
    folder = tmp_path / "atlas"
    shutil.copytree(saved["with"], folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["derived"]["version"] = INDEX_VERSION + 1
    (folder / MANIFEST).write_text(json.dumps(manifest))
    atlas = load_atlas(folder)
    assert stored_parts(atlas) is None
    assert search(atlas, "love").songs.equals(search(load_atlas(saved["with"]), "love").songs)


def test_an_index_file_from_another_atlas_is_refused_by_name(saved, tmp_path):
    folder = tmp_path / "atlas"
    shutil.copytree(saved["with"], folder)
    file = json.loads((folder / MANIFEST).read_text())["derived"]["files"]["recording"]
    np.save(folder / file, np.zeros(5, dtype=np.int64))
    _rehash(folder, file)
    with pytest.raises(AtlasError, match=rf"{file} does not belong .*5 values for 600 songs"):
        similar_tracks(load_atlas(folder), 0)


def test_a_derived_entry_naming_an_unlisted_file_is_refused(saved, tmp_path):
    folder = tmp_path / "atlas"
    shutil.copytree(saved["with"], folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["derived"]["files"]["recording"] = "elsewhere.npy"
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(AtlasError, match=r"manifest.json is damaged .*elsewhere.npy"):
        load_atlas(folder)


def test_the_original_rows_are_read_only_when_asked_for(saved):
    atlas = load_atlas(saved["with"])
    assert "original" not in vars(atlas), "a query never reads the original rows"
    assert len(atlas.original) == atlas.report.rows_read
    assert "original" in vars(atlas)


def test_reindex_gives_an_older_atlas_the_index_a_save_writes(saved, tmp_path):
    """`soundatlas reindex` on an atlas saved before the index was stored: the files a save
    writes, checksummed; the atlas otherwise unchanged (fingerprint, tables); nothing left
    beside it; a second run adds nothing."""
    from typer.testing import CliRunner

    from soundatlas.atlas.manifest import read_manifest
    from soundatlas.cli import app
    from soundatlas.discovery.reindex import INDEX, missing_indexes

    folder = tmp_path / "older"
    shutil.copytree(saved["without"], folder)
    assert missing_indexes(read_manifest(folder)) == (INDEX,)
    added = CliRunner().invoke(app, ["reindex", str(folder), "--quiet"])
    assert added.exit_code == 0, added.output
    assert "Added the discovery index" in added.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["older"]
    reindexed, reference = read_manifest(folder), read_manifest(saved["with"])
    assert reindexed["derived"] == reference["derived"]
    for file in reindexed["derived"]["files"].values():
        assert (folder / file).read_bytes() == (saved["with"] / file).read_bytes(), file
    assert reindexed["fingerprint"] == read_manifest(saved["without"])["fingerprint"]
    atlas = load_atlas(folder)  # every checksum verified
    assert stored_parts(atlas) is not None
    assert search(atlas, "love").songs.equals(search(load_atlas(saved["with"]), "love").songs)
    again = CliRunner().invoke(app, ["reindex", str(folder), "--quiet"])
    assert again.exit_code == 0 and "nothing to add" in again.output
