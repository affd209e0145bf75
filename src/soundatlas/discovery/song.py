"""One song of the catalog as the front doors show it, wherever it is held.

An atlas too big to load whole keeps a sample in memory and every song in its directory
(`soundatlas.discovery.directory`); a song found by id may be in either. `Song` is the same
record from both (`DiscoveryIndex.song`, `SongDirectory.song`), so a front door that shows a
track, its audio features or its clusters needs no second code path for songs outside the
sample. `soundatlas.discovery.ids.find_song` finds one by id.
"""

from __future__ import annotations

from dataclasses import dataclass

from soundatlas.ingest.schema import AUDIO_FEATURES

SONG_VALUES: tuple[str, ...] = (
    "popularity",
    "release_year",
    "duration_ms",
    "explicit",
    *AUDIO_FEATURES,
    "key",
    "mode",
    "time_signature",
)
"""The columns a `Song` carries in ``values`` when the catalog has them."""


@dataclass(frozen=True)
class Song:
    """A song: its id, title, artists, genres, values and clusters.

    Attributes
    ----------
    values
        The `SONG_VALUES` the catalog holds for it, as stored (a missing cell is None or NaN;
        a column the catalog does not have is absent).
    clusters
        ``{method: (cluster, persona)}`` (cluster -1 is noise).
    row
        Its row in the loaded tables (``atlas.tracks``), or None for a song of a sampled
        atlas outside the sample.
    """

    track_id: str
    name: str
    artists: tuple[str, ...]
    genres: tuple[str, ...]
    values: dict[str, object]
    clusters: dict[str, tuple[int, str]]
    row: int | None


@dataclass(frozen=True)
class Artist:
    """An artist of the whole catalog: id, name as credited, genres of their songs (most
    common first) and how many songs credit them."""

    artist_id: str
    name: str
    genres: tuple[str, ...]
    songs: int
