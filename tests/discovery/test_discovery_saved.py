"""A saved atlas opened for one question (`open_saved_index`, the command line's ``similar`` and
``search``) answers exactly as the loaded atlas's DataFrame functions do, on real catalogs.

Both run the same core (`similar_rows`, `find`) on the same arrays; these tests hold the two
ways of filling those arrays to the same rows, scores, reasons and tiers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from soundatlas.atlas.manifest import MANIFEST
from soundatlas.discovery import search, similar_to_many, similar_tracks
from soundatlas.discovery.saved import open_saved_index
from soundatlas.discovery.search import find
from soundatlas.discovery.similar import similar_rows
from soundatlas.errors import AmbiguousQuery, AtlasError

REAL = ("tophits_2k.csv", "tracks_11k_genres.csv")
WORDS = ("love", "the", "beyonce", "ac dc", "halo beyonce", "metalica", "zzzz qqq", "a")


def _folder(atlas) -> Path:
    return Path(atlas.manifest["path"])


@pytest.mark.parametrize("name", REAL)
def test_similar_songs_from_the_saved_index_equal_the_tables(atlas_of, name):
    atlas = atlas_of(name)
    index = open_saved_index(_folder(atlas))
    assert index is not None
    picks = np.random.default_rng(7).choice(len(atlas.tracks), 12, replace=False)
    ids = atlas.tracks["track_id"].to_numpy()
    cases = [
        ({"similarity": None}, [ids[picks[0]]]),
        ({"similarity": "sound"}, [ids[picks[1]]]),
        ({"similarity": "sound+context", "n": 40}, [ids[picks[2]]]),
        ({"exclude_same_artist": True}, [ids[picks[3]]]),
        ({"same_cluster": "kmeans", "n": 5}, [ids[picks[4]]]),
        ({"features": ["energy", "tempo", "valence"]}, [ids[picks[5]]]),
        ({"similarity": "sound"}, [ids[picks[6]], ids[picks[7]]]),
        ({}, [int(picks[8])]),
    ]
    for options, queries in cases:
        table = similar_to_many(atlas, queries, **options)
        found = similar_rows(index, queries, **options)
        assert found.rows.tolist() == table["row"].tolist(), (options, queries)
        assert found.similarity.tolist() == table["similarity"].tolist()
        assert found.closest.tolist() == table["closest"].tolist()
        assert found.differs.tolist() == table["differs"].tolist()
        assert index.names_of(found.rows).tolist() == table["name"].tolist()
        assert index.artist_text(found.rows).tolist() == table["artists"].tolist()
        for method in index.methods:
            column = {"kmeans": "persona", "dbscan": "persona_dbscan", "hierarchical": "persona_hc"}
            names = index.persona_names(method, found.rows).tolist()
            assert names == table[column[method]].astype(str).tolist()


@pytest.mark.parametrize("name", REAL)
def test_a_song_named_by_text_resolves_the_same_way(atlas_of, name):
    atlas = atlas_of(name)
    index = open_saved_index(_folder(atlas))
    title = str(atlas.tracks["name"].iloc[3])
    artist = " ".join(atlas.tracks["artists"].iloc[3][:1])
    for text in (title, f"{title} {artist}", "love"):
        try:
            expected = similar_tracks(atlas, text)
        except AmbiguousQuery as exc:
            with pytest.raises(AmbiguousQuery) as raised:
                similar_rows(index, [text])
            assert str(raised.value) == str(exc)
            assert raised.value.candidates.astype(str).equals(exc.candidates.astype(str))
            continue
        assert similar_rows(index, [text]).rows.tolist() == expected["row"].tolist()


@pytest.mark.parametrize("name", REAL)
def test_search_from_the_saved_index_equals_the_tables(atlas_of, name):
    atlas = atlas_of(name)
    index = open_saved_index(_folder(atlas))
    for text in WORDS:
        for offset in (0, 20):
            table = search(atlas, text, offset=offset)
            found = find(index, text, offset=offset)
            page = found.page
            assert found.suggestion == table.suggestion, text
            assert (len(found.rows), len(found.codes)) == (table.total_songs, table.total_artists)
            assert found.rows[page].tolist() == table.songs["row"].tolist(), text
            assert (
                index.artist_names[found.codes[page]].tolist() == table.artists["artist"].tolist()
            )


def test_an_atlas_without_a_saved_index_is_loaded_whole(atlas_of, tmp_path):
    atlas = atlas_of("tophits_2k.csv")
    folder = tmp_path / "atlas"
    shutil.copytree(_folder(atlas), folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["derived"]["version"] = -1
    (folder / MANIFEST).write_text(json.dumps(manifest))
    assert open_saved_index(folder) is None


def test_a_damaged_file_it_reads_is_refused_by_name(atlas_of, tmp_path):
    atlas = atlas_of("tophits_2k.csv")
    folder = tmp_path / "atlas"
    shutil.copytree(_folder(atlas), folder)
    unit = json.loads((folder / MANIFEST).read_text())["derived"]["files"]["unit"]
    data = bytearray((folder / unit).read_bytes())
    data[-1] ^= 0xFF
    (folder / unit).write_bytes(bytes(data))
    index = open_saved_index(folder)  # the unit vectors are read by a similar-songs query
    with pytest.raises(AtlasError, match=rf"{unit} does not match its checksum"):
        similar_rows(index, [str(atlas.tracks["track_id"].iloc[0])], similarity="sound")
