"""Discovery on an atlas: similar songs, smart playlists, search, artist profiles, genre lens.

Every function takes an `~soundatlas.atlas.model.Atlas` and returns a table or a frozen dataclass,
so the CLI and the dashboard only display results. What the lookups share (unit vectors, text
keys, the artist table) is computed once per atlas (`soundatlas.discovery.index`) and saved
with it (`save_atlas`).
"""

from importlib import import_module
from typing import TYPE_CHECKING

# Imported now, not on first use: the module of the same name would otherwise shadow it once
# any other module imports ``soundatlas.discovery.search``.
from soundatlas.discovery.search import search

_HOMES = {
    "Artist": "soundatlas.discovery.song",
    "ArtistProfile": "soundatlas.discovery.artists",
    "ClusterProfile": "soundatlas.discovery.clusters",
    "DEFAULT_SIMILARITY": "soundatlas.discovery.context",
    "GenreLens": "soundatlas.discovery.genres",
    "SIMILARITY_KINDS": "soundatlas.discovery.context",
    "SOUND": "soundatlas.discovery.context",
    "SOUND_CONTEXT": "soundatlas.discovery.context",
    "SearchPage": "soundatlas.discovery.searchpage",
    "SearchResults": "soundatlas.discovery.search",
    "Song": "soundatlas.discovery.song",
    "artist_code_of_id": "soundatlas.discovery.ids",
    "artist_ids": "soundatlas.discovery.ids",
    "artist_profile": "soundatlas.discovery.artists",
    "check_similarity": "soundatlas.discovery.context",
    "cluster_profile": "soundatlas.discovery.clusters",
    "derived_id": "soundatlas.discovery.text",
    "find_artist": "soundatlas.discovery.ids",
    "find_song": "soundatlas.discovery.ids",
    "check_track_ids": "soundatlas.discovery.ids",
    "find_songs": "soundatlas.discovery.ids",
    "genre_lens": "soundatlas.discovery.genres",
    "normalise_text": "soundatlas.discovery.search",
    "resolve_artist": "soundatlas.discovery.artists",
    "resolve_track": "soundatlas.discovery.similar",
    "save_atlas": "soundatlas.discovery.save",
    "searches_whole_catalog": "soundatlas.discovery.similar",
    "similar_columns": "soundatlas.discovery.similar",
    "similar_in_catalog": "soundatlas.discovery.wholecatalog",
    "similar_to_many": "soundatlas.discovery.similar",
    "similar_to_sound": "soundatlas.discovery.similar",
    "similar_tracks": "soundatlas.discovery.similar",
    "similarity_for": "soundatlas.discovery.similar",
    "search_page": "soundatlas.discovery.searchpage",
    "song_values": "soundatlas.discovery.ids",
    "songs_at": "soundatlas.discovery.ids",
    "track_clusters": "soundatlas.discovery.clusters",
    "track_row": "soundatlas.discovery.ids",
}
"""Where each name lives: imported on first use, so that importing one module of the package
(the pandas-free `soundatlas.discovery.saved` of a one-off query, say) loads none of the
others, and the playlists' compiled code (numba) is no part of a similar-songs query or a
search."""
_PLAYLISTS = "soundatlas.discovery.playlists"


__all__ = [
    "DEFAULT_SIMILARITY",
    "ORDERS",
    "SIMILARITY_KINDS",
    "SOUND",
    "SOUND_CONTEXT",
    "Artist",
    "ArtistProfile",
    "ClusterProfile",
    "GenreLens",
    "Playlist",
    "PlaylistRequest",
    "SearchPage",
    "SearchResults",
    "SeedPool",
    "Song",
    "artist_code_of_id",
    "artist_ids",
    "artist_profile",
    "check_similarity",
    "check_track_ids",
    "cluster_profile",
    "derived_id",
    "find_artist",
    "find_song",
    "find_songs",
    "generate_playlist",
    "genre_lens",
    "normalise_text",
    "playlist_csv",
    "playlist_json",
    "playlist_rows",
    "recommend",
    "resolve_artist",
    "resolve_track",
    "save_atlas",
    "save_playlist",
    "search",
    "search_page",
    "searches_whole_catalog",
    "seed_pools",
    "similar_columns",
    "similar_in_catalog",
    "similar_to_many",
    "similar_to_sound",
    "similar_tracks",
    "similarity_for",
    "song_values",
    "songs_at",
    "spotify_urls",
    "targets_within",
    "track_clusters",
    "track_row",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None and not name.startswith("_"):
        playlists = import_module(_PLAYLISTS)
        home = _PLAYLISTS if name in playlists.__all__ else None
    if home is None:
        raise AttributeError(f"module 'soundatlas.discovery' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from soundatlas.discovery.artists import ArtistProfile, artist_profile, resolve_artist
    from soundatlas.discovery.clusters import ClusterProfile, cluster_profile, track_clusters
    from soundatlas.discovery.context import (
        DEFAULT_SIMILARITY,
        SIMILARITY_KINDS,
        SOUND,
        SOUND_CONTEXT,
        check_similarity,
    )
    from soundatlas.discovery.genres import GenreLens, genre_lens
    from soundatlas.discovery.ids import (
        artist_code_of_id,
        artist_ids,
        check_track_ids,
        find_artist,
        find_song,
        find_songs,
        song_values,
        songs_at,
        track_row,
    )
    from soundatlas.discovery.save import save_atlas
    from soundatlas.discovery.search import SearchResults, normalise_text
    from soundatlas.discovery.searchpage import SearchPage, search_page
    from soundatlas.discovery.similar import (
        resolve_track,
        searches_whole_catalog,
        similar_columns,
        similar_to_many,
        similar_to_sound,
        similar_tracks,
        similarity_for,
    )
    from soundatlas.discovery.song import Artist, Song
    from soundatlas.discovery.text import derived_id
    from soundatlas.discovery.wholecatalog import similar_in_catalog
