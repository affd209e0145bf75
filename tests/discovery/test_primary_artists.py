"""`primary_artist_codes`: the number of each song's primary artist that a sampled atlas saves,
so that no search folds artists' names to tell releases of one recording apart."""

from __future__ import annotations

import pyarrow as pa

from soundatlas.discovery.catalogartists import primary_artist_codes
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
