"""The canonical track table: column names, the aliases real exports use for them, value ranges.

Every input file, whatever its column names, is mapped onto these names so that the rest of
SoundAtlas deals with one shape of table.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

AUDIO_FEATURES: tuple[str, ...] = (
    "danceability",
    "energy",
    "loudness",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
)
"""The nine audio features clustered by default."""

EXTRA_FEATURES: tuple[str, ...] = ("popularity", "duration_ms", "key", "mode", "time_signature")
"""Numeric columns a user may add to the feature set."""

CANONICAL_COLUMNS: tuple[str, ...] = (
    "track_id",
    "name",
    "artists",
    "genres",
    "popularity",
    "duration_ms",
    "explicit",
    "release_year",
    *AUDIO_FEATURES,
    "key",
    "mode",
    "time_signature",
)

SEED_COLUMNS: tuple[str, ...] = (
    "id_songs",
    "name_song",
    "popularity_songs",
    "duration_ms",
    "explicit",
    "id_artists",
    "release_date",
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "time_signature",
    "followers",
    "genres",
    "name_artists",
    "popularity_artists",
)
"""Columns of the seed-schema catalog, in order (the header of the catalogs users start from).

The demo generator (:mod:`soundatlas.demo`) writes this schema; `ALIASES` maps it onto the
canonical columns like any other export.
"""


@dataclass(frozen=True)
class ValueRange:
    """Inclusive bounds a numeric column must respect, and what the bounds mean."""

    low: float
    high: float
    meaning: str


UNIT_FEATURES: tuple[str, ...] = tuple(f for f in AUDIO_FEATURES if f not in ("loudness", "tempo"))
"""The audio features that are shares between 0 and 1."""

RANGES: dict[str, ValueRange] = {
    **{name: ValueRange(0.0, 1.0, "a share between 0 and 1") for name in UNIT_FEATURES},
    # Real Spotify tables hold a few masters a little above 0 dB; below -60 dB is silence.
    "loudness": ValueRange(-70.0, 6.0, "decibels, about -60 to 0"),
    "tempo": ValueRange(0.0, 300.0, "beats per minute, 0 meaning undetected"),
    "popularity": ValueRange(0.0, 100.0, "a score from 0 to 100"),
    "duration_ms": ValueRange(1.0, 6 * 3_600_000.0, "milliseconds, above 0"),
    "key": ValueRange(-1.0, 11.0, "a pitch class 0-11, -1 meaning undetected"),
    "mode": ValueRange(0.0, 1.0, "0 (minor) or 1 (major)"),
    "time_signature": ValueRange(0.0, 7.0, "beats per bar, 0-7"),
    "release_year": ValueRange(1000.0, 2100.0, "a year"),
}

# Header spellings seen in real exports, normalised by `normalise_header`. Earlier entries win when
# a file has several candidates for one canonical column.
ALIASES: dict[str, tuple[str, ...]] = {
    "track_id": (
        "trackid",
        "idsongs",
        "id",
        "songid",
        "spotifyid",
        "trackuri",
        "uri",
        "spotifytrackid",
    ),
    "name": ("name", "namesong", "trackname", "song", "songname", "title", "track", "tracktitle"),
    "artists": (
        "artists",
        "nameartists",
        "artistname",
        "artistnames",
        "artist",
        "trackartists",
        "artistsname",
        "performer",
    ),
    "genres": (
        "genres",
        "genre",
        "artistgenres",
        "trackgenre",
        "playlistgenre",
        "playlistsubgenre",
    ),
    "popularity": ("popularity", "popularitysongs", "trackpopularity", "songpopularity"),
    "duration_ms": ("durationms", "trackdurationms", "duration", "lengthms"),
    "explicit": ("explicit", "isexplicit", "trackexplicit"),
    "release_year": (
        "releaseyear",
        "year",
        "releasedate",
        "albumreleasedate",
        "trackalbumreleasedate",
        "releasedyear",
    ),
    "danceability": ("danceability", "danceabilitypct"),
    "energy": ("energy", "energypct"),
    "loudness": ("loudness", "loadness", "loudnessdb"),
    "speechiness": ("speechiness", "speechinesspct"),
    "acousticness": ("acousticness", "acousticnesspct"),
    "instrumentalness": ("instrumentalness", "instrumentalnesspct"),
    "liveness": ("liveness", "livenesspct"),
    "valence": ("valence", "valencepct"),
    "tempo": ("tempo", "bpm"),
    "key": ("key",),
    "mode": ("mode",),
    "time_signature": ("timesignature",),
}

PERCENT_SUFFIX = "pct"
"""Normalised headers ending in this (from `danceability_%`) hold 0-100 values, divided by 100."""


def normalise_header(header: str) -> str:
    """Fold a column header to lowercase letters and digits so spelling variants compare equal.

    ``%`` becomes ``pct`` (``danceability_%`` -> ``danceabilitypct``), and only the last part of a
    dotted path counts, so flattened JSON (``audio_features.energy``) maps too.
    """
    text = str(header).strip().lower().replace("%", "pct")
    text = text.rsplit(".", 1)[-1] if "." in text and not text.endswith(".") else text
    return re.sub(r"[^a-z0-9]", "", text)


def match_columns(
    headers: list[str], overrides: dict[str, str] | None = None, written: list[str] | None = None
) -> dict[str, str]:
    """Map canonical column names to the file's headers.

    Parameters
    ----------
    headers
        The column names of the table (a repeated name numbered: ``energy.1``).
    overrides
        ``{canonical: original}`` choices made by the user; they win over the aliases.
    written
        The names as the file writes them, when they differ from ``headers``.

    Returns
    -------
    dict
        ``{canonical: original header}`` for every canonical column found: for each, the first
        of its aliases that some header spells (first header of that spelling).
    """
    groups = spelling_groups(headers, written)
    found: dict[str, str] = {}
    taken: set[str] = set()
    for canonical, original in (overrides or {}).items():
        found[canonical] = original
        taken.add(original)
    for canonical, aliases in ALIASES.items():
        if canonical in found:
            continue
        for alias in aliases:
            header = next((h for h in groups.get(alias, ()) if h not in taken), None)
            if header is not None:
                found[canonical] = header
                taken.add(header)
                break
    return found


def passed_over(
    found: dict[str, str], headers: list[str], written: list[str] | None = None
) -> dict[str, list[str]]:
    """For each canonical column found, the other headers an alias of lower rank also fits
    (``playlist_subgenre`` beside ``playlist_genre``): left unused, which the user should know."""
    groups = spelling_groups(headers, written)
    used = set(found.values())
    others: dict[str, list[str]] = {}
    for canonical in found:
        fits = [h for a in ALIASES.get(canonical, ()) for h in groups.get(a, ()) if h not in used]
        if fits:
            others[canonical] = fits
    return others


def spelling_groups(headers: list[str], written: list[str] | None = None) -> dict[str, list[str]]:
    """Headers by their normalised spelling (of the name as written): ``Energy``, ``energy`` and
    a second ``energy`` are one group."""
    groups: dict[str, list[str]] = {}
    for header, name in zip(headers, written or headers, strict=True):
        groups.setdefault(normalise_header(name), []).append(header)
    return groups


def close_matches(wanted: str, headers: list[str]) -> list[str]:
    """Headers that look like a misspelling of ``wanted``, best first."""
    normal = {normalise_header(h): h for h in headers}
    hits = difflib.get_close_matches(normalise_header(wanted), list(normal), n=3, cutoff=0.6)
    return [normal[h] for h in hits]


SPOTIFY_TRACK_ID = re.compile(
    r"^\s*(?:spotify:track:|(?:https?://)?open\.spotify\.com/(?:intl-[A-Za-z-]+/)?track/)?"
    r"([0-9A-Za-z]{22})(?:[?#].*)?\s*$"
)
"""A Spotify track id, bare, as a ``spotify:track:`` URI or as an open.spotify.com URL (with an
optional ``/intl-xx/`` segment and query string); group 1 is the 22-character base62 id."""
