"""Search over a sampled atlas's whole catalog answers the same with and without the saved
primary-artist numbers (``artists.primary``), `soundatlas reindex` adds just those to sort
orders saved before them, and `search_page` lists what `search` lists."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from oldersorted import older_sorted_copy

from soundatlas import load_atlas
from soundatlas.atlas.manifest import read_manifest
from soundatlas.discovery import find_artist, search, search_page, songs_at
from soundatlas.discovery.reindex import SORTED, missing_indexes, reindex_atlas
from soundatlas.discovery.text import name_id
from soundatlas.discovery.wholecatalog import song_directory

pytestmark = pytest.mark.spark

QUERIES = ("a", "love", "the", "i", "me", "you", "baby", "britney spears", "eminem", "zz")
PAGES = ((20, 0), (20, 20), (50, 0), (5, 995))
RANKED_PARTS = (
    "artists.primary",
    "artists.genres",
    "artists.genres_ptr",
    "artists.genre_names",
)


def _version_two(atlas_dir: Path, target: Path) -> Path:
    """A copy of the atlas as saved before the ranked artist parts (sort orders 2)."""
    return older_sorted_copy(atlas_dir, target, 2, RANKED_PARTS)


def _answers(atlas) -> list:
    """Every table, total and artist of a search for `QUERIES` at `PAGES`."""
    answers = []
    for query in QUERIES:
        for limit, offset in PAGES:
            found = search(atlas, query, limit=limit, offset=offset)
            answers.append(
                (
                    found.songs.to_json(orient="split"),
                    found.artists.to_json(orient="split"),
                    found.total_songs,
                    found.total_artists,
                    found.suggestion,
                )
            )
            page = search_page(atlas, query, limit=limit, offset=offset)
            # repr: a song's missing values are NaN, which equals nothing.
            answers.append(repr((page.songs, page.total_songs, page.artists, page.total_artists)))
    return answers


def test_search_answers_the_same_without_the_saved_primary_artists(
    sampled_atlas, tmp_path, monkeypatch
):
    older = _version_two(sampled_atlas, tmp_path / "v2")
    assert SORTED in missing_indexes(read_manifest(older))
    without = _answers(load_atlas(older))
    directory = song_directory(load_atlas(older))
    rows = np.concatenate(directory.title_matches("a"))
    kept_by_folding = directory.one_per_recording(rows).tolist()

    def no_folding(songs):
        raise AssertionError("a name was folded though the atlas saves its primary artists")

    monkeypatch.setattr("soundatlas.discovery.directory.primary_artist_codes", no_folding)
    atlas = load_atlas(sampled_atlas)
    song_directory(atlas).sort_ids()  # as a server: the loaded sample's songs are marked
    assert _answers(atlas) == without
    assert song_directory(atlas).one_per_recording(rows).tolist() == kept_by_folding
    # Found songs outside the sample, so the numbers were read.
    assert any((search(atlas, q).songs["row"] < 0).any() for q in QUERIES)


def test_reindex_adds_only_the_primary_artists_to_version_two_sort_orders(
    sampled_atlas, tmp_path, monkeypatch
):
    older = _version_two(sampled_atlas, tmp_path / "v2")
    files = read_manifest(older)["parts"]["directory"]["sorted"]["files"]
    kept = {name: os.stat(older / file).st_ino for name, file in files.items()}

    def no_sorting(*args, **kwargs):
        raise AssertionError("reindex sorted what the atlas holds")

    monkeypatch.setattr("soundatlas.discovery.directory.sort_order", no_sorting)
    monkeypatch.setattr("soundatlas.discovery.directory.artist_parts", no_sorting)
    monkeypatch.setattr("soundatlas.discovery.directory.popularity_ranks", no_sorting)
    assert SORTED in reindex_atlas(older)
    again = load_atlas(older)  # every checksum, the new file's too
    assert missing_indexes(again.manifest) == ()
    files = again.manifest["parts"]["directory"]["sorted"]["files"]
    assert files == read_manifest(sampled_atlas)["parts"]["directory"]["sorted"]["files"]
    assert {name: os.stat(older / files[name]).st_ino for name in kept} == kept
    for part in RANKED_PARTS:  # what reindex writes is what a build writes
        name = files[part]
        assert (older / name).read_bytes() == (sampled_atlas / name).read_bytes()


def test_a_search_page_lists_what_search_lists(sampled_atlas):
    atlas = load_atlas(sampled_atlas)
    outside = 0
    for query in QUERIES:
        for limit, offset in PAGES:
            found = search(atlas, query, limit=limit, offset=offset)
            rows, ids = found.songs["row"].tolist(), found.songs["track_id"].tolist()
            page = search_page(atlas, query, limit=limit, offset=offset)
            assert repr(page.songs) == repr(songs_at(atlas, rows, ids))  # NaN equals nothing
            assert page.artists == [find_artist(atlas, name_id(a)) for a in found.artists["artist"]]
            assert (page.total_songs, page.total_artists) == (
                found.total_songs,
                found.total_artists,
            )
            outside += sum(r < 0 for r in rows)
    assert outside > 0
