"""One page of a search as songs and artists, not tables: `search_page`.

`soundatlas.discovery.search.search` answers with two DataFrames (the dashboard's and the
command line's tables). A caller that writes each song and artist out itself (the HTTP API's
``/v1/search``) needs only who they are: building the tables, with their rank, match, releases
and other-titles columns and the persona and genre text, then reading every song again from
them, was over half of such a request. For an atlas in memory the page is read straight from
`find`'s rows and artist codes; a sampled atlas, whose songs outside the loaded sample and
whose artists are counted over the whole catalog, answers through `search`.
"""

from __future__ import annotations

from dataclasses import dataclass

from soundatlas.atlas.model import Atlas
from soundatlas.discovery.ids import find_artist, songs_at
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.search import find, search, top_genres
from soundatlas.discovery.song import Artist, Song
from soundatlas.discovery.text import name_id


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
    if index.sampled:
        results = search(atlas, text, limit=limit, offset=offset)
        songs = songs_at(atlas, results.songs["row"].tolist(), results.songs["track_id"].tolist())
        artists = [find_artist(atlas, name_id(n)) for n in results.artists["artist"]]
        return SearchPage(
            [s for s in songs if s is not None],
            results.total_songs,
            artists,
            results.total_artists,
        )
    found = find(index, text, limit=limit, offset=offset)
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
        index.songs(found.rows[found.page]), len(found.rows), artists, len(found.codes)
    )
