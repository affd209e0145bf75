"""Discovery on an atlas: similar songs, smart playlists, search, artist profiles, genre lens.

Every function takes an `~soundatlas.atlas.model.Atlas` and returns a table or a frozen dataclass,
so the CLI and the dashboard only display results. What the lookups share (unit vectors, text
keys, the artist table) is computed once per atlas (`soundatlas.discovery.index`) and saved
with it (`save_atlas`).
"""

from importlib import import_module

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
    find_artist,
    find_song,
    find_songs,
    songs_at,
    track_row,
)
from soundatlas.discovery.save import save_atlas
from soundatlas.discovery.search import SearchResults, normalise_text, search
from soundatlas.discovery.similar import (
    resolve_track,
    searches_whole_catalog,
    similar_to_many,
    similar_to_sound,
    similar_tracks,
    similarity_for,
)
from soundatlas.discovery.song import Artist, Song
from soundatlas.discovery.text import derived_id
from soundatlas.discovery.wholecatalog import similar_in_catalog

_PLAYLISTS = "soundatlas.discovery.playlists"
"""Imported on first use (its names are in `__all__`): the playlists' compiled code (numba)
is no part of a similar-songs query or a search."""

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
    "SearchResults",
    "SeedPool",
    "Song",
    "artist_code_of_id",
    "artist_ids",
    "artist_profile",
    "check_similarity",
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
    "resolve_artist",
    "resolve_track",
    "save_atlas",
    "save_playlist",
    "search",
    "searches_whole_catalog",
    "seed_pools",
    "similar_in_catalog",
    "similar_to_many",
    "similar_to_sound",
    "similar_tracks",
    "similarity_for",
    "songs_at",
    "spotify_urls",
    "targets_within",
    "track_clusters",
    "track_row",
]


def __getattr__(name: str) -> object:
    playlists = None if name.startswith("_") else import_module(_PLAYLISTS)
    if playlists is not None and name in playlists.__all__:
        value = getattr(playlists, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'soundatlas.discovery' has no attribute {name!r}")
