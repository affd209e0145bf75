"""Smart playlists: what Spotify's closed ``/recommendations`` endpoint did, on your own catalog.

A request names where the sound comes from (a cluster of any method, and/or up to five seed
songs or artists), how close songs must be to it (cosine similarity to the cluster's centroid
or to the seeds' centroid, 0.70-1.00), and optional limits (``min_``/``max_``/``target_`` on
any audio feature, popularity, duration; explicit songs; songs per artist). Songs that pass
are ranked by closeness to the targets if any, else by similarity, then optionally ordered to
flow. The same request on the same atlas always gives the same playlist.

When fewer songs pass than were asked for, the playlist is shorter: it is never padded with
songs below the threshold, and it says how many passed and which constraint cut the most.

The parts, one noun each: `~.request` (the request and its validation), `~.candidates` (the
songs in scope, filters, one release per recording and the artist cap), `~.ordering` (the order
songs play in), `~.playlist` (generating the playlist and its account) and `~.files` (CSV, JSON,
Spotify URLs).
"""

from soundatlas.discovery.playlists.candidates import artist_cap
from soundatlas.discovery.playlists.files import (
    SPOTIFY_TRACK_URL,
    playlist_csv,
    playlist_json,
    save_playlist,
    spotify_urls,
)
from soundatlas.discovery.playlists.ordering import ORDERS, flow_order
from soundatlas.discovery.playlists.playlist import Playlist, generate_playlist, playlist_rows
from soundatlas.discovery.playlists.request import (
    LIMITED_COLUMNS,
    MAX_SEEDS,
    SEED_KINDS,
    SIZE_RANGE,
    THRESHOLD_RANGE,
    PlaylistRequest,
    describe_constraint,
    targets_within,
)
from soundatlas.discovery.playlists.seeds import SeedPool, recommend, seed_pools

__all__ = [
    "LIMITED_COLUMNS",
    "MAX_SEEDS",
    "ORDERS",
    "SEED_KINDS",
    "SIZE_RANGE",
    "SPOTIFY_TRACK_URL",
    "THRESHOLD_RANGE",
    "Playlist",
    "PlaylistRequest",
    "SeedPool",
    "artist_cap",
    "describe_constraint",
    "flow_order",
    "generate_playlist",
    "playlist_csv",
    "playlist_json",
    "playlist_rows",
    "recommend",
    "save_playlist",
    "seed_pools",
    "spotify_urls",
    "targets_within",
]
