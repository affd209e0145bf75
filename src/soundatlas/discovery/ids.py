"""The ids songs, artists and genres are known by outside SoundAtlas (an HTTP API, a playlist
file): a song by its catalog track id, exactly; an artist by an id derived from the artist's
normalised name (the canonical track table has no artist id column), so the same artist keeps
the same id across rebuilds and catalogs ("Beyoncé" and "Beyonce" share one).

Derived ids are 22 base-62 characters, the shape of a Spotify id, so clients that check an
id's shape before sending it (spotipy does) accept them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.search import top_genres
from soundatlas.discovery.song import Artist, Song
from soundatlas.errors import LookupFailed


def track_row(atlas: Atlas, track_id: str) -> int:
    """The row of the loaded song with exactly this track id (no title matching, unlike
    `resolve_track`: an id that is not in the catalog is not guessed at). Of a sampled atlas
    only the sample is loaded: `find_song` finds every song.

    Raises
    ------
    LookupFailed
        If no song of the atlas has this id.
    """
    row = discovery_index(atlas).row_of_id(str(track_id))
    if row is None:
        raise LookupFailed(
            f"track id {_shown(track_id)}: no song of this atlas has it; search for the song "
            "to find its id."
        )
    return row


def find_song(atlas: Atlas, track_id: str) -> Song:
    """The song with exactly this track id, among every song of the catalog: the loaded songs,
    and for an atlas too big to load whole the rest of its songs too (its directory).

    Raises
    ------
    LookupFailed
        If no song of the catalog has this id.
    """
    song = find_songs(atlas, [track_id])[0]
    if song is None:
        raise _unknown_track(track_id)
    return song


def check_track_ids(atlas: Atlas, track_ids: Sequence[str]) -> None:
    """Check that every id is a song of the catalog, as `find_song` finds them, without
    reading the songs (a request's seeds: reading two songs cost a recommendation a twentieth
    of its time).

    Raises
    ------
    LookupFailed
        For the first id no song of the catalog has, as `find_song`.
    """
    index = discovery_index(atlas)
    directory = index.directory
    for track_id in track_ids:
        text = str(track_id)
        if index.row_of_id(text) is None and (
            directory is None or directory.row_of_id(text) is None
        ):
            raise _unknown_track(track_id)


def _unknown_track(track_id: str) -> LookupFailed:
    return LookupFailed(
        f"track id {_shown(track_id)}: no song of this atlas has it; search for the song "
        "to find its id."
    )


def find_songs(atlas: Atlas, track_ids: Sequence[str]) -> list[Song | None]:
    """Each song by exact track id, in the order asked, None for an id no song has (see
    `find_song`)."""
    index = discovery_index(atlas)
    ids = [str(t) for t in track_ids]
    return songs_at(atlas, [index.row_of_id(t) for t in ids], ids)


def songs_at(
    atlas: Atlas, rows: Sequence[int | None], track_ids: Sequence[str]
) -> list[Song | None]:
    """The songs of a result table that already knows where each is: a loaded song by its
    ``row`` (read in one batch), one outside a sampled atlas's loaded sample (row None or -1,
    as search lists them) by its id in the directory; None for a song found in neither.
    Looking songs up again by id, which `find_songs` must, cost a search request a fifth of
    its time."""
    index = discovery_index(atlas)
    rows = [None if r is None or r < 0 else int(r) for r in rows]
    wanted = [r for r in rows if r is not None]
    loaded = iter(index.songs(wanted) if wanted else [])
    directory = index.directory
    places = [
        None if directory is None else directory.row_of_id(track_id)
        for track_id, row in zip(track_ids, rows, strict=True)
        if row is None
    ]
    elsewhere = [p for p in places if p is not None]
    outside = iter(directory.songs_at(elsewhere) if directory is not None and elsewhere else [])
    unloaded = iter(places)
    found: list[Song | None] = []
    for row in rows:
        if row is not None:
            found.append(next(loaded))
        else:
            found.append(None if next(unloaded) is None else next(outside))
    return found


def song_values(
    atlas: Atlas, track_ids: Sequence[str], columns: Sequence[str]
) -> list[dict[str, object] | None]:
    """Some `Song.values` of each song by exact track id, in the order asked, None for an id
    no song of the catalog has (see `find_song`): each column read once for every loaded song
    asked for, rather than every column of each song (the audio features of 100 songs)."""
    index = discovery_index(atlas)
    ids = [str(t) for t in track_ids]
    rows = [index.row_of_id(t) for t in ids]
    loaded = [r for r in rows if r is not None]
    read = index.values_at(np.asarray(loaded, dtype=np.int64), columns)
    by_song = iter([dict(zip(read, v, strict=True)) for v in zip(*read.values(), strict=True)])
    if not read:  # a catalog with none of the columns
        by_song = iter([{} for _ in loaded])
    directory = index.directory
    found: list[dict[str, object] | None] = []
    for track_id, row in zip(ids, rows, strict=True):
        if row is not None:
            found.append(next(by_song))
            continue
        outside = None if directory is None else directory.row_of_id(track_id)
        if outside is None:
            found.append(None)
            continue
        values = directory.song(outside).values
        found.append({c: values[c] for c in columns if c in values})
    return found


def find_artist(atlas: Atlas, artist_id: str) -> Artist:
    """The artist with this id among every song of the catalog: for an atlas too big to load
    whole, from its directory (every song, so the genres and song count are the catalog's,
    not the sample's); otherwise from the loaded songs.

    Raises
    ------
    LookupFailed
        If no song of the catalog credits an artist with this id.
    """
    index = discovery_index(atlas)
    if index.directory is not None:
        found = index.directory.artist(str(artist_id))
        if found is None:
            raise _unknown_artist(artist_id)
        return found
    code = artist_code_of_id(atlas, artist_id)
    return Artist(
        artist_id=str(artist_id),
        name=str(index.artist_names[code]),
        genres=tuple(top_genres(index, code, top=None)),
        songs=int(index.artist_songs[code]),
    )


def artist_ids(atlas: Atlas) -> np.ndarray:
    """The id of every artist of the atlas's discovery index (position = artist code)."""
    return discovery_index(atlas).artist_ids


def artist_code_of_id(atlas: Atlas, artist_id: str) -> int:
    """The artist code (see `soundatlas.discovery.index.DiscoveryIndex.artists`) of an id.

    Raises
    ------
    LookupFailed
        If no artist of the atlas has this id.
    """
    code = discovery_index(atlas).artist_code_of_id(str(artist_id))
    if code is None:
        raise _unknown_artist(artist_id)
    return code


def _unknown_artist(artist_id: str) -> LookupFailed:
    return LookupFailed(
        f"artist id {_shown(artist_id)}: no artist of this atlas has it; search for the "
        "artist to find their id."
    )


def _shown(value: object, limit: int = 60) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")
