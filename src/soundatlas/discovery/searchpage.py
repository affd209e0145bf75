"""One page of a search as songs and artists, not tables: `search_page`.

`soundatlas.discovery.search.search` answers with two DataFrames (the dashboard's and the
command line's tables). A caller that writes each song and artist out itself (the HTTP API's
``/v1/search``) needs only who they are: building the tables, with their rank, match, releases
and other-titles columns and the persona and genre text, then reading every song again from
them, was over half of such a request. For an atlas in memory the page is read straight from
`find`'s rows and artist codes; for a sampled atlas, whose songs outside the loaded sample and
whose artists are counted over the whole catalog, the songs are read by their rows (loaded or
of the directory) and the artists from the directory, without `search`'s tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.discovery.ids import find_artist
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.search import (
    Found,
    catalog_artist_names,
    find,
    found_page,
    query_key,
    top_genres,
)
from soundatlas.discovery.song import Artist, Song
from soundatlas.discovery.text import name_id

if TYPE_CHECKING:
    from soundatlas.discovery.directory import SongDirectory
    from soundatlas.discovery.index import DiscoveryIndex


@dataclass(frozen=True)
class SearchPage:
    """The songs and artists of one page of a search, best first, and how many matched."""

    songs: list[Song]
    total_songs: int
    artists: list[Artist]
    total_artists: int


def search_page(atlas: Atlas, text: str, *, limit: int = 20, offset: int = 0) -> SearchPage:
    """The songs and artists `search` lists for ``text`` on this page, with its totals.

    Raises
    ------
    ConfigError
        As `search`.
    """
    index = discovery_index(atlas)
    # Only the matches through the page are ranked; the others are counted.
    found = find(index, text, limit=limit, offset=offset, every=False)
    if index.directory is not None:
        return _catalog_page(atlas, index, index.directory, found, text)
    codes = found.codes[found.page].tolist()
    artist_ids = index.artist_ids
    artists = [
        Artist(
            artist_id=str(artist_ids[code]),
            name=str(index.artist_names[code]),
            genres=tuple(top_genres(index, code, top=None)),
            songs=int(index.artist_songs[code]),
        )
        for code in codes
    ]
    return SearchPage(
        index.songs(found.rows[found.page]), found.total_rows, artists, found.total_codes
    )


def _catalog_page(
    atlas: Atlas, index: DiscoveryIndex, directory: SongDirectory, found: Found, text: str
) -> SearchPage:
    """The page of a sampled atlas: the songs `search` lists, loaded or outside the sample,
    read by their rows, and its artists (`catalog_artist_names`) from the whole catalog."""
    rows, loaded = found_page(found)
    songs: list[Song] = [None] * len(rows)  # type: ignore[list-item]
    for at, song in zip(np.flatnonzero(loaded), index.songs(rows[loaded]), strict=True):
        songs[at] = song
    for at, song in zip(np.flatnonzero(~loaded), directory.songs_at(rows[~loaded]), strict=True):
        songs[at] = song
    key = query_key(found.suggestion if found.suggestion is not None else text)
    names = index.artist_names[found.codes[found.page]].tolist()
    names, total_artists = catalog_artist_names(
        index, directory, key, (names, found.total_codes), found.page
    )
    return SearchPage(
        songs,
        found.total_rows + len(found.outside),
        [find_artist(atlas, name_id(n)) for n in names],
        total_artists,
    )
