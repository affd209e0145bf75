"""A sampled atlas's whole catalog: the directory's sort orders saved at build and mapped on
load, `soundatlas reindex` for atlases built before them, and seeds and artists taken from any
song or artist of the catalog (library, API, CLI)."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from oldersorted import older_sorted_copy
from typer.testing import CliRunner

from soundatlas import load_atlas
from soundatlas.api import create_app
from soundatlas.atlas.manifest import read_manifest
from soundatlas.cli import app
from soundatlas.discovery import PlaylistRequest, find_artist, generate_playlist, search
from soundatlas.discovery.artists import artist_profile
from soundatlas.discovery.catalogartists import CatalogArtists
from soundatlas.discovery.directory import has_sorted
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.indexfiles import stored_parts
from soundatlas.discovery.playlists.candidates import seed_point
from soundatlas.discovery.reindex import INDEX, SORTED, missing_indexes, reindex_atlas
from soundatlas.discovery.sortedtext import SortedStrings
from soundatlas.discovery.text import name_id
from soundatlas.discovery.wholecatalog import song_directory
from soundatlas.errors import AtlasError, OutputError
from soundatlas.files import file_sha256

pytestmark = pytest.mark.spark
runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _older_copy(atlas_dir: Path, target: Path) -> Path:
    """A copy of the atlas as the spark engine wrote it before sort orders were saved."""
    shutil.copytree(atlas_dir, target)
    manifest = json.loads((target / "manifest.json").read_text())
    for name in manifest["parts"]["directory"].pop("sorted")["files"].values():
        del manifest["files"][name]
        (target / name).unlink()
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith("."))


def _outside(atlas) -> tuple[dict, str]:
    """A song outside the loaded sample, and an artist only songs outside it credit."""
    songs = song_directory(atlas).songs
    loaded_ids = set(atlas.tracks["track_id"])
    loaded_artists = {name_id(a) for artists in atlas.tracks["artists"] for a in artists}
    records = songs.drop_columns(["unit"]).to_pylist()
    song = next(r for r in records if r["track_id"] not in loaded_ids)
    artist = next(
        a for r in records for a in r["artists"] or () if name_id(a) not in loaded_artists
    )
    return song, artist


def test_the_directory_maps_the_sort_orders_saved_at_build(sampled_atlas, monkeypatch):
    atlas = load_atlas(sampled_atlas)
    assert has_sorted(atlas.manifest["parts"]["directory"])
    songs = song_directory(atlas).songs
    fresh_ids, fresh_titles = SortedStrings(songs["track_id"]), SortedStrings(songs["title_key"])
    fresh_artists = CatalogArtists(songs)

    def no_sorting(*args, **kwargs):
        raise AssertionError("the directory sorted what the atlas holds")

    monkeypatch.setattr("soundatlas.discovery.sortedtext.sort_order", no_sorting)
    monkeypatch.setattr("soundatlas.discovery.catalogartists.artist_parts", no_sorting)
    directory = song_directory(load_atlas(sampled_atlas))
    directory.sort_ids()  # what a server does before serving: nothing left to do
    ids = songs["track_id"].to_pylist()
    assert [directory.row_of_id(t) for t in ids[::37]] == [fresh_ids.row_of(t) for t in ids[::37]]
    assert directory.row_of_id("no-such-id") is None
    for key in ("love", "a", "oops i did it again", "zzz"):
        exact, prefix = directory.title_matches(key)
        assert set(exact) | set(prefix) == set(fresh_titles.rows_starting(key).tolist())
    for artist in ("Britney Spears", "Eminem", "Nobody At All"):
        assert directory.artist(name_id(artist)) == fresh_artists.find(name_id(artist))


def _title_matches_by_sorting(directory, titles: SortedStrings, key: str):
    """What `title_matches` answers, by sorting every match's popularity (as before ranks)."""
    starting = titles.rows_starting(key)
    taken = directory.songs.take(starting)
    popularity = np.nan_to_num(taken["popularity"].to_numpy(zero_copy_only=False), nan=-1.0)
    order = np.argsort(-popularity.astype(float), kind="stable")
    equal = np.array([k == key for k in taken["title_key"].to_pylist()], dtype=bool)
    return starting[order][equal[order]].tolist(), starting[order][~equal[order]].tolist()


def test_the_most_popular_titles_come_from_the_saved_ranks(sampled_atlas):
    directory = song_directory(load_atlas(sampled_atlas))
    fresh_titles = SortedStrings(directory.songs["title_key"])
    keys = ("love", "a", "i", "the", "oops i did it again", "zzz", "m")
    for key in keys:
        exact, prefix = _title_matches_by_sorting(directory, fresh_titles, key)
        found = directory.title_matches(key)
        assert [found[0].tolist(), found[1].tolist()] == [exact, prefix]
        for most in (1, 3, 40):
            first = directory.title_matches(key, most)
            assert [first[0].tolist(), first[1].tolist()] == [exact[:most], prefix[:most]]
    assert len(directory.title_matches("a")[1]) > 40


def test_an_artists_best_popularity_is_the_most_popular_of_their_songs(sampled_atlas):
    directory = song_directory(load_atlas(sampled_atlas))
    songs = directory.songs.select(["artists", "popularity"]).to_pylist()
    names = sorted({a for song in songs for a in song["artists"] or ()})
    assert len(names) > 100
    for name in names[::7]:
        values = [
            s["popularity"]
            for s in songs
            if s["popularity"] is not None
            and name_id(name) in {name_id(a) for a in s["artists"] or ()}
        ]
        expected = max(values) if values else None
        assert directory.artist_popularity(name_id(name)) == expected, name
    assert directory.artist_popularity("no-such-artist") is None


def test_songs_read_together_are_the_songs_read_one_by_one(sampled_atlas):
    directory = song_directory(load_atlas(sampled_atlas))
    rows = [5, 1700, 0, 5, 999]
    songs = directory.songs_at(rows)
    records = directory.songs.take(rows).to_pylist()
    for song, record in zip(songs, records, strict=True):
        assert (song.track_id, song.name, list(song.artists)) == (
            record["track_id"],
            record["name"],
            record["artists"],
        )
        assert song.values["popularity"] == record["popularity"]
        assert song.values["energy"] == float(str(np.float32(record["energy"])))
    assert songs[0] == songs[3] == directory.song(5)


def _version_one(atlas_dir: Path, target: Path) -> Path:
    """A copy of the atlas as saved before the titles' popularity ranks (sort orders 1)."""
    lacking = ("titles.popular", "artists.primary", "artists.genres", "artists.genres_ptr")
    return older_sorted_copy(atlas_dir, target, 1, (*lacking, "artists.genre_names"))


def test_reindex_adds_only_the_ranks_to_version_one_sort_orders(
    sampled_atlas, tmp_path, monkeypatch
):
    older = _version_one(sampled_atlas, tmp_path / "v1")
    assert SORTED in missing_indexes(read_manifest(older))
    # Version 1's parts are still used as they are: nothing is sorted again.
    atlas = load_atlas(older)
    directory = song_directory(atlas)
    built = song_directory(load_atlas(sampled_atlas))
    assert directory.title_matches("a", 30)[1].tolist() == built.title_matches("a", 30)[1].tolist()
    kept = {
        name: os.stat(older / file).st_ino
        for name, file in atlas.manifest["parts"]["directory"]["sorted"]["files"].items()
    }

    def no_sorting(*args, **kwargs):
        raise AssertionError("reindex sorted what the atlas holds")

    monkeypatch.setattr("soundatlas.discovery.directory.sort_order", no_sorting)
    monkeypatch.setattr("soundatlas.discovery.directory.artist_parts", no_sorting)
    assert SORTED in reindex_atlas(older)
    assert _leftovers(older) == []
    again = load_atlas(older)  # every checksum, the new file's too
    assert missing_indexes(again.manifest) == ()
    files = again.manifest["parts"]["directory"]["sorted"]["files"]
    assert files == read_manifest(sampled_atlas)["parts"]["directory"]["sorted"]["files"]
    assert {name: os.stat(older / files[name]).st_ino for name in kept} == kept
    name = files["titles.popular"]
    assert (older / name).read_bytes() == (sampled_atlas / name).read_bytes()


def test_a_sort_order_from_another_atlas_is_refused(sampled_atlas, tmp_path):
    copy = tmp_path / "atlas"
    shutil.copytree(sampled_atlas, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    name = manifest["parts"]["directory"]["sorted"]["files"]["ids.order"]
    np.save(copy / name, np.arange(5, dtype=np.int32))
    manifest["files"][name] = file_sha256(copy / name)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(AtlasError, match=r"ids\.order.*does not belong"):
        song_directory(load_atlas(copy))


def test_reindex_adds_what_an_older_atlas_lacks(sampled_atlas, tmp_path):
    older = _older_copy(sampled_atlas, tmp_path / "older")
    assert missing_indexes(read_manifest(older)) == (INDEX, SORTED)
    added = run("reindex", older)
    assert added.exit_code == 0, added.output
    assert "discovery index" in added.output and "sort orders" in added.output
    assert _leftovers(older) == []
    atlas = load_atlas(older)  # every checksum, the new files' too
    assert missing_indexes(atlas.manifest) == ()
    assert stored_parts(atlas) is not None
    built = read_manifest(sampled_atlas)["parts"]["directory"]["sorted"]["files"]
    again = atlas.manifest["parts"]["directory"]["sorted"]["files"]
    assert again == built
    for name in built.values():  # what reindex writes is what a build writes
        assert (older / name).read_bytes() == (sampled_atlas / name).read_bytes()
    assert atlas.fingerprint == read_manifest(sampled_atlas)["fingerprint"]
    outside, _ = _outside(atlas)
    assert song_directory(atlas).row_of_id(outside["track_id"]) is not None
    nothing = run("reindex", older)
    assert nothing.exit_code == 0 and "nothing to add" in nothing.output


def test_reindex_that_fails_leaves_the_atlas_as_it_was(sampled_atlas, tmp_path, monkeypatch):
    older = _older_copy(sampled_atlas, tmp_path / "older")
    before = (older / "manifest.json").read_bytes(), sorted(os.listdir(older))

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("soundatlas.discovery.reindex.write_sorted", disk_full)
    with pytest.raises(OutputError, match="unchanged"):
        reindex_atlas(older)
    assert ((older / "manifest.json").read_bytes(), sorted(os.listdir(older))) == before
    assert _leftovers(older) == []
    load_atlas(older)


def test_reindex_does_not_overwrite_an_atlas_replaced_meanwhile(
    sampled_atlas, tmp_path, monkeypatch
):
    from soundatlas.discovery import reindex

    older = _older_copy(sampled_atlas, tmp_path / "older")
    write_sorted = reindex.write_sorted
    replaced = b'{"replaced": true}'

    def while_replaced(folder, songs, kept=None):
        (older / "manifest.json").write_bytes(replaced)  # another save swapped in meanwhile
        return write_sorted(folder, songs, kept)

    monkeypatch.setattr(reindex, "write_sorted", while_replaced)
    with pytest.raises(AtlasError, match="replaced while"):
        reindex_atlas(older)
    assert (older / "manifest.json").read_bytes() == replaced
    assert _leftovers(older) == []


def test_seeds_may_be_any_song_or_artist_of_the_catalog(sampled_atlas):
    atlas = load_atlas(sampled_atlas)
    index = discovery_index(atlas)
    directory = song_directory(atlas)
    song, artist = _outside(atlas)
    scaled = [
        (song[f] - c) / s
        for f, c, s in zip(
            atlas.scaler.features, atlas.scaler.center, atlas.scaler.scale, strict=True
        )
    ]
    assert seed_point(atlas, index, "seeds", song["track_id"]) == pytest.approx(scaled, abs=1e-5)
    rows = directory.artist_rows(name_id(artist))
    expected = directory.scaled(rows).mean(axis=0)
    assert seed_point(atlas, index, "seed_artists", artist) == pytest.approx(expected)
    request = PlaylistRequest(method=None, seeds=(song["track_id"],), seed_artists=(artist,))
    playlist = generate_playlist(
        atlas,
        request,
    )
    chosen = playlist.tracks
    assert len(chosen) > 0 and set(chosen["track_id"]) <= set(atlas.tracks["track_id"])
    releases = directory.releases(directory.row_of_id(song["track_id"]))
    assert directory.row_of_id(song["track_id"]) in releases.tolist()
    with TestClient(create_app(sampled_atlas, poll=0)) as client:
        answer = client.get(
            "/v1/recommendations",
            params={"seed_tracks": song["track_id"], "seed_artists": name_id(artist), "limit": 10},
        )
        assert answer.status_code == 200, answer.text
        seeds = answer.json()["seeds"]
        assert [(s["id"], s["type"]) for s in seeds] == [
            (song["track_id"], "TRACK"),
            (name_id(artist), "ARTIST"),
        ]
        assert all(s["initialPoolSize"] > 0 for s in seeds)
        assert [t["id"] for t in answer.json()["tracks"]] == chosen["track_id"].tolist()[:10]
        unknown = client.get("/v1/recommendations", params={"seed_tracks": "no-such-id"})
        assert unknown.status_code == 404
    cli = run(
        "playlist", sampled_atlas, "--seed", song["track_id"], "--seed-artist", artist, "--json"
    )
    assert cli.exit_code == 0, cli.output
    assert chosen["track_id"].iloc[0] in cli.output


def test_artists_of_a_sampled_atlas_are_the_whole_catalogs(sampled_atlas):
    atlas = load_atlas(sampled_atlas)
    _, artist = _outside(atlas)
    catalog = find_artist(atlas, name_id(artist))
    profile = artist_profile(atlas, artist)
    assert profile.name == catalog.name and len(profile.songs) == catalog.songs
    assert (profile.songs["row"] == -1).all() and profile.genres == list(catalog.genres)
    assert profile.cluster_shares.groupby("method")["songs"].sum().eq(catalog.songs).all()
    assert 1 <= len(profile.top_songs) <= catalog.songs
    found = search(atlas, artist)
    assert found.artists["artist"].iloc[0] == catalog.name
    assert found.artists["songs"].iloc[0] == catalog.songs
    britney = search(atlas, "Britney Spears").artists.iloc[0]
    in_sample = int((atlas.tracks["artists"].map(lambda a: "Britney Spears" in a)).sum())
    assert britney["songs"] == find_artist(atlas, name_id("Britney Spears")).songs >= in_sample
    with TestClient(create_app(sampled_atlas, poll=0)) as client:
        page = client.get("/v1/search", params={"q": artist, "type": "artist"})
        assert page.status_code == 200, page.text
        first = page.json()["artists"]["items"][0]
        assert first["id"] == name_id(artist) and first["genres"] == list(catalog.genres)
    cli = run("artist", sampled_atlas, artist, "--json")
    assert cli.exit_code == 0, cli.output
    assert catalog.name in cli.output


def test_a_forked_worker_searches_after_its_parent_did(sampled_atlas):
    """`soundatlas serve --workers N` warms the similar-songs index, then forks: a worker's
    first search must not join threads only the parent had (it segfaulted)."""
    directory = song_directory(load_atlas(sampled_atlas))
    directory.neighbours(0, 10)
    pid = os.fork()
    if pid == 0:  # the worker: any failure shows in its exit status
        code = 1
        try:
            code = 0 if len(directory.neighbours(1, 10)[0]) == 10 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
