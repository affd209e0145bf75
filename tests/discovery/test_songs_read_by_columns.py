"""`DiscoveryIndex.songs` reads each column once for all the songs asked for; here each song
read the plain way (its persona by taking the categorical, its values one by one), on real
tables."""

from __future__ import annotations

import numpy as np
import pytest
from realdata import GENRES_11K, TOPHITS

from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.song import Song

pytestmark = pytest.mark.realdata


def plain_song(index, row: int) -> Song:
    """One song as `DiscoveryIndex.songs` first read it."""
    values = {}
    for column, array in index.details.items():
        taken = array[[row]] if isinstance(array, np.ndarray) else array.take([row])
        values[column] = taken.tolist()[0]
    return Song(
        track_id=str(index.ids[row]),
        name=str(index.names[row]),
        artists=tuple(str(a) for a in index.artist_lists[row]),
        genres=tuple(str(g) for g in (index.genre_lists[row] or ())),
        values=values,
        clusters={
            m: (int(index.labels[m][row]), str(np.asarray(index.personas[m].take([row]))[0]))
            for m in index.methods
        },
        row=row,
    )


@pytest.mark.parametrize("table", [TOPHITS, GENRES_11K])
def test_songs_are_read_as_one_at_a_time(atlas_of, table) -> None:
    index = discovery_index(atlas_of(table))
    rows = np.random.default_rng(2).choice(index.size, 300, replace=False)
    songs = index.songs(rows)
    assert [s.row for s in songs] == rows.tolist()
    for song, row in zip(songs, rows.tolist(), strict=True):
        expected = plain_song(index, row)
        assert song == expected or _same_with_missing(song, expected), row
    assert index.songs([]) == []


def _same_with_missing(song: Song, expected: Song) -> bool:
    """Equal but for missing values (NaN is not equal to itself)."""

    def missing(value: object) -> bool:
        return (
            value is None or (isinstance(value, float) and np.isnan(value)) or str(value) == "<NA>"
        )

    if (song.track_id, song.name, song.artists, song.genres, song.clusters, song.row) != (
        expected.track_id, expected.name, expected.artists, expected.genres, expected.clusters,
        expected.row,
    ):  # fmt: skip
        return False
    return list(song.values) == list(expected.values) and all(
        a == b or (missing(a) and missing(b) and type(a) is type(b))
        for a, b in zip(song.values.values(), expected.values.values(), strict=True)
    )
