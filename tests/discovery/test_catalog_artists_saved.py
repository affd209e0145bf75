"""What a sampled atlas saves about the artists of its whole catalog so that a search reads
instead of computing: `primary_artist_codes` (no artist name folded to tell releases of one
recording apart) and `artist_genres` (an artist's genres without reading their songs)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from soundatlas.discovery.artistgenres import artist_genres
from soundatlas.discovery.catalogartists import (
    CatalogArtists,
    artist_parts,
    primary_artist_codes,
)
from soundatlas.discovery.text import name_key


def test_songs_share_a_number_when_their_first_artists_fold_alike():
    credited_names = [
        ["Beyoncé", "Jay-Z"],
        ["beyonce"],
        ["Jay-Z", "Beyoncé"],
        [],
        None,
        [None],
        [""],
        ["!!!"],
        ["???"],
        ["AC/DC"],
        ["ac dc"],
    ]
    column = pa.array(credited_names, pa.list_(pa.string()))
    codes = primary_artist_codes(pa.table({"artists": column}))
    assert codes.tolist()[3:5] == [-1, -1]  # crediting nobody
    credited = [i for i, c in enumerate(credited_names) if c]
    for i in credited:
        for j in credited:
            same = name_key(credited_names[i][0]) == name_key(credited_names[j][0])
            assert (codes[i] == codes[j]) == same, (credited_names[i], credited_names[j])
    assert codes[0] == codes[1] != codes[2]
    assert codes[5] == codes[6] and codes[7] != codes[8]
    assert codes[9] == codes[10]


def test_an_empty_catalog_has_no_numbers():
    songs = pa.table({"artists": pa.array([], pa.list_(pa.string()))})
    assert len(primary_artist_codes(songs)) == 0


def _catalog(songs: int, seed: int) -> pa.Table:
    """Songs crediting one to three of 40 artists, with zero to three of 12 genres (some
    missing lists, ties in counts)."""
    rng = np.random.default_rng(seed)
    artists = [f"Artist {i}" for i in range(40)]
    genres = ["pop", "rock", "Rap", "indie pop", "k-pop", "émo", "jazz", "a", "b", "c", "d", "e"]
    credited, tagged = [], []
    for _ in range(songs):
        credited.append(list(rng.choice(artists, rng.integers(1, 4), replace=False)))
        count = int(rng.integers(0, 4))
        tagged.append(None if count == 0 and rng.random() < 0.5 else
                      list(rng.choice(genres, count, replace=False)))  # fmt: skip
    return pa.table(
        {
            "artists": pa.array(credited, pa.list_(pa.string())),
            "genres": pa.array(tagged, pa.list_(pa.string())),
            "popularity": pa.array(rng.integers(0, 100, songs).astype(float)),
        }
    )


@pytest.mark.parametrize("block", [1, 7, 2_000_000])
def test_ranked_genres_are_those_counted_from_the_songs(monkeypatch, block):
    monkeypatch.setattr("soundatlas.discovery.artistgenres.CREDITS_PER_BLOCK", block)
    songs = _catalog(300, seed=block)
    parts = artist_parts(songs)
    counted = CatalogArtists(songs, parts)
    ranked = CatalogArtists(songs, {**parts, **artist_genres(songs, parts["rows"], parts["ptr"])})
    ids = parts["ids"].to_pylist()
    assert len(ids) == 40
    for artist_id in ids:
        assert ranked.find(artist_id) == counted.find(artist_id)
    assert any(len(counted.find(i).genres) > 3 for i in ids)
    assert ranked.find("no-such-artist") is None
