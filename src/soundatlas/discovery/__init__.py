"""Discovery on an atlas: similar songs, smart playlists, search, artist profiles, genre lens.

Every function takes an `~soundatlas.atlas.Atlas` and returns a table or a frozen dataclass, so
the CLI and the dashboard only display results. What the lookups share (unit vectors, text
keys, the artist table) is computed once per atlas (`soundatlas.discovery.index`).
"""

from soundatlas.discovery.artists import ArtistProfile, artist_profile, resolve_artist
from soundatlas.discovery.context import (
    DEFAULT_SIMILARITY,
    SIMILARITY_KINDS,
    SOUND,
    SOUND_CONTEXT,
    check_similarity,
)
from soundatlas.discovery.directory import similar_in_catalog
from soundatlas.discovery.genres import GenreLens, genre_lens
from soundatlas.discovery.playlists import (
    ORDERS,
    Playlist,
    PlaylistRequest,
    generate_playlist,
    playlist_csv,
    playlist_json,
    save_playlist,
    spotify_urls,
)
from soundatlas.discovery.search import SearchResults, normalise_text, search
from soundatlas.discovery.similar import resolve_track, similar_to_many, similar_tracks

__all__ = [
    "DEFAULT_SIMILARITY",
    "ORDERS",
    "SIMILARITY_KINDS",
    "SOUND",
    "SOUND_CONTEXT",
    "ArtistProfile",
    "GenreLens",
    "Playlist",
    "PlaylistRequest",
    "SearchResults",
    "artist_profile",
    "check_similarity",
    "generate_playlist",
    "genre_lens",
    "normalise_text",
    "playlist_csv",
    "playlist_json",
    "resolve_artist",
    "resolve_track",
    "save_playlist",
    "search",
    "similar_in_catalog",
    "similar_to_many",
    "similar_tracks",
    "spotify_urls",
]
