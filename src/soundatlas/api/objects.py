"""Spotify Web API objects (track, artist, audio features, paging) filled from an atlas.

Only fields the catalog can fill truthfully are given; the others are left out (Spotify's
``available_markets``, ``preview_url``, ``images``, ``followers``, an artist's own popularity,
the album's id and name) or ``null`` where clients expect the key (``analysis_url``). A
track's ``album`` carries only its release year (``release_date`` with precision ``"year"``),
when the catalog knows it. Ids: a track's is the catalog's track id; an artist's is derived from
the name (`soundatlas.discovery.ids`). ``href`` points at this server; ``uri`` is
``soundatlas:track:ID`` (``spotify:track:ID`` when the id is a Spotify id, so Spotify links
stay Spotify links), and ``external_urls.spotify`` is given only for Spotify ids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from soundatlas.discovery.playlists import SPOTIFY_TRACK_URL
from soundatlas.discovery.song import Song
from soundatlas.discovery.text import name_id
from soundatlas.ingest.schema import SPOTIFY_TRACK_ID

AUDIO_FEATURE_FIELDS = (
    "acousticness",
    "danceability",
    "duration_ms",
    "energy",
    "instrumentalness",
    "key",
    "liveness",
    "loudness",
    "mode",
    "speechiness",
    "tempo",
    "time_signature",
    "valence",
)
WHOLE = frozenset({"duration_ms", "key", "mode", "time_signature", "popularity"})
_FEATURE_KINDS = tuple((f, f in WHOLE) for f in AUDIO_FEATURE_FIELDS)


def plain(value: object, whole: bool = False) -> object:
    """A catalog cell as JSON: None for missing or not finite, ints for whole-number fields."""
    if type(value) is float:  # most cells (a song's values are read with tolist())
        if value - value != 0.0:  # NaN or infinite
            return None
        return round(value) if whole else value
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    number = float(value)
    if not math.isfinite(number):
        return None
    return round(number) if whole else number


def _value(song: Song, column: str, whole: bool = False) -> object:
    return plain(song.values.get(column), whole)


def _spotify_id(track_id: str) -> str | None:
    match = SPOTIFY_TRACK_ID.match(track_id)
    return match.group(1) if match and match.group(1) == track_id else None


def track_uri(track_id: str) -> str:
    """``spotify:track:ID`` for a Spotify id, else ``soundatlas:track:ID``."""
    return f"{'spotify' if _spotify_id(track_id) else 'soundatlas'}:track:{track_id}"


def artist_object(
    base: str, name: str, *, genres: list[str] | None = None, artist_id: str | None = None
) -> dict:
    """A (simplified, without ``genres``) artist object; ``artist_id``: the artist's id when
    known (`Artist.artist_id`), else derived from the name."""
    artist_id = name_id(name) if artist_id is None else artist_id
    found = {
        "external_urls": {},
        "href": f"{base}/v1/artists/{artist_id}",
        "id": artist_id,
        "name": name,
        "type": "artist",
        "uri": f"soundatlas:artist:{artist_id}",
    }
    if genres is not None:
        found["genres"] = genres
    return found


def track_object(base: str, song: Song) -> dict:
    """A track object."""
    track_id = song.track_id
    spotify = _spotify_id(track_id)
    year = _value(song, "release_year", whole=True)
    return {
        "album": (
            {"release_date": str(year), "release_date_precision": "year"}
            if year is not None
            else None
        ),
        "artists": [artist_object(base, a) for a in song.artists],
        "duration_ms": _value(song, "duration_ms", whole=True),
        "explicit": plain(song.values.get("explicit")) is True,
        "external_ids": {},
        "external_urls": {"spotify": SPOTIFY_TRACK_URL + spotify} if spotify else {},
        "href": f"{base}/v1/tracks/{track_id}",
        "id": track_id,
        "is_local": False,
        "name": song.name,
        "popularity": _value(song, "popularity", whole=True),
        "type": "track",
        "uri": track_uri(track_id),
    }


def audio_features_object(base: str, song: Song) -> dict:
    """An audio-features object."""
    return audio_features_of(base, song.track_id, song.values)


def audio_features_of(base: str, track_id: str, values: dict[str, object]) -> dict:
    """The audio-features object of the song ``track_id`` whose `Song.values` (the audio
    features among them) are ``values``."""
    found = {f: plain(values.get(f), whole) for f, whole in _FEATURE_KINDS}
    return {
        **found,
        "analysis_url": None,
        "id": track_id,
        "track_href": f"{base}/v1/tracks/{track_id}",
        "type": "audio_features",
        "uri": track_uri(track_id),
    }


def paging_object(
    url: str,
    params: dict[str, object],
    items: Sequence[dict],
    *,
    limit: int,
    offset: int,
    total: int,
) -> dict:
    """Spotify's paging object; ``next``/``previous`` repeat the query with another offset."""

    def page(start: int) -> str:
        return f"{url}?{urlencode({**params, 'offset': start, 'limit': limit})}"

    return {
        "href": page(offset),
        "items": list(items),
        "limit": limit,
        "next": page(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": page(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }
