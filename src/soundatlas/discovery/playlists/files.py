"""A playlist as a file: CSV, JSON, or a list of Spotify track URLs."""

from __future__ import annotations

import json
from pathlib import Path

from soundatlas.discovery.playlists.playlist import Playlist
from soundatlas.errors import ConfigError
from soundatlas.files import write_text_atomic
from soundatlas.formulas import csv_text, neutralise_formulas, neutralise_json
from soundatlas.ingest.schema import SPOTIFY_TRACK_ID

SPOTIFY_TRACK_URL = "https://open.spotify.com/track/"


def playlist_csv(playlist: Playlist) -> str:
    """The playlist's songs as CSV text (text cells that could run as formulas neutralised)."""
    return csv_text(neutralise_formulas(playlist.tracks))


def playlist_json(playlist: Playlist) -> str:
    """The playlist as JSON: the request, the account (passed, limiting, cut_by, message) and
    the songs (text that could run as a formula neutralised, as in every JSON file written)."""
    records = json.loads(playlist.tracks.to_json(orient="records", force_ascii=False))
    data = {
        "request": playlist.request.to_dict(),
        "passed": playlist.passed,
        "limiting": playlist.limiting,
        "cut_by": playlist.cut_by,
        "message": playlist.message,
        "tracks": records,
    }
    return json.dumps(neutralise_json(data), ensure_ascii=False, indent=1)


def spotify_urls(playlist: Playlist) -> list[str]:
    """``https://open.spotify.com/track/…`` for every song, in order; an empty list unless every
    track id is a Spotify track id (22 base-62 characters, bare or as a Spotify URI or URL:
    `soundatlas.ingest.schema.SPOTIFY_TRACK_ID`)."""
    found = [SPOTIFY_TRACK_ID.match(str(i)) for i in playlist.tracks["track_id"]]
    if not found or not all(found):
        return []
    return [SPOTIFY_TRACK_URL + match.group(1) for match in found if match]


def save_playlist(playlist: Playlist, path: str | Path) -> Path:
    """Write the playlist atomically as ``.csv``, ``.json`` or ``.txt`` (Spotify track URLs).

    Raises
    ------
    ConfigError
        If the suffix is another, or ``.txt`` is asked for a catalog without Spotify ids.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_text_atomic(path, playlist_csv(playlist))
    if suffix == ".json":
        return write_text_atomic(path, playlist_json(playlist))
    if suffix == ".txt":
        urls = spotify_urls(playlist)
        if not urls and len(playlist.tracks):
            raise ConfigError(
                f"{path}: a .txt playlist lists Spotify track URLs, but this catalog's track ids "
                "are not Spotify ids; save as .csv or .json instead."
            )
        return write_text_atomic(path, "".join(f"{url}\n" for url in urls))
    raise ConfigError(
        f"{path}: playlists are saved as .csv, .json or .txt (Spotify URLs), not "
        f"{suffix or 'a file without suffix'!r}; choose one of those suffixes."
    )
