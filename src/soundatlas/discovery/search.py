"""Find songs and artists by name the way people type them.

Matching ignores case, accents and punctuation ("beyonce" finds "Beyoncé", "ac dc" and "acdc"
find "AC/DC") and accepts part of a name. Results are ranked exact > prefix > word prefix >
substring, ties broken by popularity. Songs found only through their artist ("beyonce" on a
song titled "Halo") come after every title match, unless the title-and-artist text is exactly
what was typed ("halo beyonce"). A recording the catalog lists several times (once per album,
remaster or radio edit; see `soundatlas.discovery.recordings`) is one result, its most popular
release, with the number of releases and the titles of the others. Lookups use sorted names
and word lists built once per atlas (`soundatlas.discovery.textindex`), so a search costs
milliseconds at 100k songs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from soundatlas.atlas.model import Atlas
from soundatlas.discovery.index import DiscoveryIndex, discovery_index
from soundatlas.discovery.text import MATCH_TIERS, normalise_text
from soundatlas.discovery.textindex import rank_matches
from soundatlas.errors import ConfigError

__all__ = ["SONG_TIERS", "SearchResults", "normalise_text", "search"]

SONG_TIERS: tuple[str, ...] = (*MATCH_TIERS, "title and artist")
"""Match tiers of songs: the four title tiers, then songs found through their artist."""
MAX_LIMIT = 1_000
OTHER_TITLES_SEPARATOR = " | "


@dataclass(frozen=True)
class SearchResults:
    """Songs and artists matching a search, best first.

    Attributes
    ----------
    songs
        ``rank, match`` (see `SONG_TIERS`), ``row, track_id, name, artists``, each method's
        cluster and persona, ``genres``, popularity and the audio features, ``releases``
        (songs the catalog holds for this recording, this one included) and ``other_titles``
        (the other releases' titles where they differ from this one, ``" | "`` between them;
        ``""`` when none do). One row per recording: its best-matching, most popular release.
    artists
        ``rank, artist, match, songs, popularity`` (of their most popular song), ``genres``
        (their three most common).
    songs_total, artists_total
        How many songs (one per recording) and artists match, counted up to 1,000 (the most a
        search pages through, as on Spotify).
    """

    songs: pd.DataFrame
    artists: pd.DataFrame
    songs_total: int = 0
    artists_total: int = 0


def search(atlas: Atlas, text: str, *, limit: int = 20, offset: int = 0) -> SearchResults:
    """Songs and artists whose names match ``text``, songs and artists ranked separately.

    Parameters
    ----------
    atlas
        A built or loaded atlas.
    text
        What the user typed: part of a title or an artist's name, any case, with or without
        accents and punctuation.
    limit
        Most songs, and most artists, returned (1-1,000).
    offset
        How many of the best matches to skip first (0-1,000), for paging: ``rank`` counts
        from ``offset + 1``.

    Raises
    ------
    ConfigError
        If ``text`` has no letters or digits, or ``limit`` or ``offset`` is out of range.

    Examples
    --------
    >>> found = search(atlas, "beyonce")  # doctest: +SKIP
    >>> found.artists["artist"].iloc[0]  # doctest: +SKIP
    'Beyoncé'
    """
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)):
        raise ConfigError(f"limit={limit!r}: must be a whole number between 1 and {MAX_LIMIT}.")
    if not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"limit={limit}: must be between 1 and {MAX_LIMIT}; ask for fewer.")
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)):
        raise ConfigError(f"offset={offset!r}: must be a whole number between 0 and {MAX_LIMIT}.")
    if not 0 <= offset <= MAX_LIMIT:
        raise ConfigError(f"offset={offset}: must be between 0 and {MAX_LIMIT}.")
    key = query_key(text)
    index = discovery_index(atlas)
    rows, tiers = match_songs(index, key, limit=MAX_LIMIT)
    codes, artist_tiers = match_artists(index, key, limit=MAX_LIMIT)
    page = slice(offset, offset + int(limit))
    songs = song_table(index, rows[page], tiers[page])
    artists = artist_table(index, codes[page], artist_tiers[page])
    songs["rank"] += offset
    artists["rank"] += offset
    return SearchResults(songs, artists, len(rows), len(codes))


def query_key(text: object) -> str:
    """The normalised key of a query, or a clear error if nothing is left to match."""
    key = normalise_text(text) if text is not None else ""
    if not key:
        raise ConfigError(
            f"search text {str(text)!r}: has no letters or digits to match; type part of a "
            "song title or an artist's name."
        )
    return key


def exact_songs(index: DiscoveryIndex, key: str) -> np.ndarray:
    """Rows whose title, ``title artists`` or ``artists title`` equals a normalised ``key``."""
    return np.concatenate([index.text.titles.equal(key), index.text.pairs.items(key)])


def match_songs(
    index: DiscoveryIndex, key: str, *, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the best ``limit`` songs matching a normalised ``key`` (all when None), one row
    per song, with their tiers (indices into `SONG_TIERS`)."""
    text = index.text
    titles = text.titles

    def through_artist() -> np.ndarray:
        codes, _ = match_artists(index, key, limit=None)
        rows = [text.pairs.items(key, prefix=True)]
        rows += [index.rows_of_artist(code) for code in codes]
        return np.concatenate(rows)

    tiers: list[Callable[[], np.ndarray]] = [
        lambda: exact_songs(index, key),
        lambda: titles.starting(key),
        lambda: titles.word_starting(key),
        lambda: titles.containing(key),
        through_artist,
    ]
    return rank_matches(tiers, text.song_score, index.recording, limit)


def match_artists(
    index: DiscoveryIndex, key: str, *, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the best ``limit`` artists matching a normalised ``key`` (all when None) and
    their tiers (indices into `MATCH_TIERS`): by tier, then popularity, then songs."""
    names = index.text.artists
    tiers: list[Callable[[], np.ndarray]] = [
        lambda: names.equal(key),
        lambda: names.starting(key),
        lambda: names.word_starting(key),
        lambda: names.containing(key),
    ]
    return rank_matches(tiers, index.artist_score, None, limit)


def song_table(index: DiscoveryIndex, rows: np.ndarray, tiers: np.ndarray) -> pd.DataFrame:
    """The songs results table for ``rows`` matched at ``tiers``."""
    releases = index.releases[index.recording[rows]]
    frame: dict[str, object] = {
        "rank": np.arange(1, len(rows) + 1),
        "match": np.array([SONG_TIERS[t] for t in tiers], dtype=object),
        **index.song_columns(rows),
        "releases": np.asarray(releases, dtype=np.int64),
        "other_titles": pd.array([_other_titles(index, r) for r in rows], dtype="str"),
    }
    return pd.DataFrame(frame)


def _other_titles(index: DiscoveryIndex, row: int) -> str:
    """The distinct titles of the other releases of ``row``'s recording, in catalog order."""
    titles = dict.fromkeys(str(index.names[r]) for r in index.releases_of(row))
    titles.pop(str(index.names[row]), None)
    return OTHER_TITLES_SEPARATOR.join(titles)


def artist_table(index: DiscoveryIndex, codes: np.ndarray, tiers: np.ndarray) -> pd.DataFrame:
    """The artists results table for artist ``codes`` matched at ``tiers``."""
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(codes) + 1),
            "artist": index.artist_names[codes],
            "match": np.array([MATCH_TIERS[t] for t in tiers], dtype=object),
            "songs": index.artist_songs[codes],
            "popularity": index.artist_popularity[codes],
            "genres": np.array([", ".join(top_genres(index, c)) for c in codes], dtype=object),
        }
    )


def top_genres(index: DiscoveryIndex, code: int, top: int | None = 3) -> list[str]:
    """An artist's ``top`` most common genres over their songs (all with None), most common
    first."""
    counts: dict[str, int] = {}
    for row in index.rows_of_artist(code):
        for genre in index.genre_lists[row]:
            counts[genre] = counts.get(genre, 0) + 1
    return [g for g, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]]
