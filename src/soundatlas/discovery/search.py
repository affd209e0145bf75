"""Find songs and artists by name the way people type them.

Matching ignores case, accents and punctuation ("beyonce" finds "Beyoncé", "ac dc" and "acdc"
find "AC/DC") and accepts part of a name. Results are ranked exact > the songs of an artist
named exactly > prefix > word prefix > substring, ties broken by popularity, so "beyonce" lists
Beyoncé's songs before songs that mention her in their title. "title artist" is exact also when
the catalog's title carries a release qualifier ("halo beyonce" finds "Halo - Remastered").
Songs found only through part of their artist's name come last. A typo ("metalica") that
matches nothing is searched as the closest name instead (rapidfuzz), and the results say so.
Results come a page at a time (``limit``, ``offset``) with the totals.

A recording the catalog lists several times (once per album, remaster or radio edit; see
`soundatlas.discovery.recordings`) is one result, its most popular release, with the number of
releases and the titles of the others. Lookups use sorted names and word lists built once per
atlas (`soundatlas.discovery.textindex`), so a search costs milliseconds at 100k songs.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.compute as pc

from soundatlas.discovery.arrowconvert import to_arrow, to_objects
from soundatlas.discovery.queryindex import QueryIndex
from soundatlas.discovery.sortedtext import take_rows
from soundatlas.discovery.text import (
    MATCH_TIERS,
    name_id,
    name_keys,
    normalise_text,
    recording_titles,
)
from soundatlas.discovery.textindex import rank_first, rank_matches
from soundatlas.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from soundatlas.atlas.model import Atlas
    from soundatlas.discovery.directory import SongDirectory
    from soundatlas.discovery.index import DiscoveryIndex

__all__ = ["SONG_TIERS", "SearchResults", "normalise_text", "search"]

SONG_TIERS: tuple[str, ...] = (
    "exact",
    "by the artist",
    "prefix",
    "word prefix",
    "substring",
    "title and artist",
)
"""Match tiers of songs, best first: title (or "title artist") equal to the query; songs of the
artist the query names exactly (above songs that only mention the artist in their title); the
other title tiers; then songs found through part of their artist's name."""
MAX_LIMIT = 1_000
MAX_OFFSET = 1_000_000
FUZZY_CUTOFF = 85.0
"""Least rapidfuzz ``WRatio`` (0-100) for a "did you mean": "metalica" -> "metallica" is 94,
"beyonse" -> "beyonce" 86, "ed sheeren" -> "ed sheeran" 90, and part of a longer name
"savage brohters" -> "the savage brothers" 86; unrelated text scores near 0."""
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
        A sampled atlas lists songs outside its loaded sample too, found by their title
        (equal, or starting with the text; `songs_outside_sample`), after the loaded songs of
        the same tier: their ``row`` is -1 (find them by ``track_id``, `find_song`) and their
        ``releases`` unknown.
    artists
        ``rank, artist, match, songs, popularity`` (of their most popular song), ``genres``
        (their three most common).
    songs_total, artists_total
        How many songs (one per recording) and artists match, counted up to 1,000 (the most a
        search pages through, as on Spotify).
    """

    songs: pd.DataFrame
    artists: pd.DataFrame
    total_songs: int = 0
    """Songs matching in all (one per recording); ``songs`` is the page from ``offset``."""
    total_artists: int = 0
    """Artists matching in all; ``artists`` is the page from ``offset``."""
    offset: int = 0
    """How many results of each table come before this page."""
    suggestion: str | None = None
    """When nothing matched the text as typed: the name it most likely meant, whose results
    these are ("did you mean")."""

    def page_text(self, what: str = "songs") -> str:
        """``"51-100 of 357 songs"`` (``"artists"`` for the artists table)."""
        shown, total = (
            (len(self.songs), self.total_songs)
            if what == "songs"
            else (len(self.artists), self.total_artists)
        )
        return page_text(self.offset, shown, total, what)


def page_text(offset: int, shown: int, total: int, what: str) -> str:
    """``"51-100 of 357 songs"``: a page of ``shown`` results after ``offset``, of ``total``."""
    if shown == 0:
        return f"0 of {total:,} {what}"
    return f"{offset + 1:,}-{offset + shown:,} of {total:,} {what}"


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
        Most songs, and most artists, returned (1-1,000): one page.
    offset
        How many of the best results of each table to skip (the page ``offset // limit``).

    When nothing matches the text as typed, the closest artist name, title or "title artist"
    is searched instead and named in ``suggestion``: "metalica" finds Metallica (rapidfuzz
    ``WRatio`` at least `FUZZY_CUTOFF`, ties to the closest whole name).

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
    from soundatlas.discovery.index import discovery_index

    index = discovery_index(atlas)
    found = find(index, text, limit=limit, offset=offset)
    page = found.page
    first = found.offset + 1
    if len(found.outside):
        songs, total = _with_songs_outside(
            index, (found.rows, found.tiers), (found.outside, found.outside_tiers), page
        )
        songs["rank"] += found.offset
    else:
        songs = song_table(index, found.rows[page], found.tiers[page], first=first)
        total = len(found.rows)
    artists = artist_table(index, found.codes[page], found.artist_tiers[page], first=first)
    total_artists = len(found.codes)
    if index.directory is not None:
        key = query_key(found.suggestion if found.suggestion is not None else text)
        artists, total_artists = _artists_of_catalog(
            index, index.directory, key, (artists, total_artists), page
        )
    return SearchResults(songs, artists, total, total_artists, found.offset, found.suggestion)


def _artists_of_catalog(
    index: DiscoveryIndex,
    directory: SongDirectory,
    key: str,
    found: tuple[pd.DataFrame, int],
    page: slice,
) -> tuple[pd.DataFrame, int]:
    """For a sampled atlas: the artists page with each artist's songs, best popularity and
    genres counted over the whole catalog (its directory), and the artist named exactly
    ``key`` first when only songs outside the loaded sample credit them; and the total."""
    import pandas as pd

    artists, found_total = found
    names, total = catalog_artist_names(
        index, directory, key, (artists["artist"].tolist(), found_total), page
    )
    ids = [name_id(n) for n in names]
    found_artists = [directory.artist(i) for i in ids]
    best = [directory.artist_popularity(i) for i in ids]
    popularity = np.array([np.nan if b is None else b for b in best])
    matched = dict(zip(artists["artist"], artists["match"], strict=True))
    table = pd.DataFrame(
        {
            "rank": np.arange(page.start + 1, page.start + 1 + len(names)),
            "artist": np.array(names, dtype=object),
            "match": np.array([matched.get(n, MATCH_TIERS[0]) for n in names], dtype=object),
            "songs": [a.songs if a is not None else 0 for a in found_artists],
            "popularity": popularity,
            "genres": [", ".join(a.genres[:3]) if a is not None else "" for a in found_artists],
        }
    )
    return table, total


def catalog_artist_names(
    index: QueryIndex,
    directory: SongDirectory,
    key: str,
    found: tuple[list[str], int],
    page: slice,
) -> tuple[list[str], int]:
    """For a sampled atlas: the names of the artists on the ``page`` (those of the loaded
    sample ``found``, and their total) with the artist named exactly ``key`` first when only
    songs outside the loaded sample credit them; and the total counting that artist."""
    names, total = found
    artist_id = directory.artist_id_of(key)
    if artist_id is not None and index.artist_code_of_id(artist_id) is None:
        total += 1
        if page.start == 0:
            extra = directory.artist(artist_id)
            names = [extra.name if extra is not None else key, *names][: page.stop - page.start]
    return names, total


@dataclass(frozen=True)
class Found:
    """Every match of a search, best first, and the page asked for: what `search` puts in its
    tables and the command line shows (`find`)."""

    rows: np.ndarray
    """Songs, one per recording."""
    tiers: np.ndarray
    """Their match tiers (indices into `SONG_TIERS`)."""
    codes: np.ndarray
    """Artists."""
    artist_tiers: np.ndarray
    """Their match tiers (indices into `MATCH_TIERS`)."""
    outside: np.ndarray
    """For a sampled atlas: songs of its directory outside the loaded sample
    (`songs_outside_sample`)."""
    outside_tiers: np.ndarray
    offset: int
    limit: int
    suggestion: str | None
    """The name searched instead when nothing matched the text as typed ("did you mean")."""
    total_rows: int
    """How many loaded songs match (one per recording): ``len(rows)`` when `find` ranked
    every match; ``rows`` may hold only those through the page otherwise."""
    total_codes: int
    """How many artists of the loaded sample match (likewise ``codes``)."""

    @property
    def page(self) -> slice:
        """The page asked for, over ``rows`` and over ``codes``."""
        return slice(self.offset, self.offset + self.limit)


def find(
    index: QueryIndex, text: str, *, limit: int = 20, offset: int = 0, every: bool = True
) -> Found:
    """The songs and artists of ``index`` matching ``text``: the search `search` answers with,
    as rows and tiers. Options and errors as in `search`. With ``every`` False only the
    matches through the page are ranked (``rows`` and ``codes`` stop there), and the others
    just counted (`Found.total_rows`, `Found.total_codes`): what one page needs."""
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)):
        raise ConfigError(f"limit={limit!r}: must be a whole number between 1 and {MAX_LIMIT}.")
    if not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"limit={limit}: must be between 1 and {MAX_LIMIT}; ask for fewer.")
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)):
        raise ConfigError(f"offset={offset!r}: must be a whole number, 0 or more.")
    if not 0 <= offset <= MAX_OFFSET:
        raise ConfigError(f"offset={offset}: must be between 0 and {MAX_OFFSET:,}.")
    key = query_key(text)
    end = None if every else int(offset) + int(limit)
    matches, totals = _all_matches(index, key, end)
    suggestion = None
    if not any(totals) and not len(matches[4]):
        suggestion = closest_name(index, key)
        if suggestion is not None:
            matches, totals = _all_matches(index, query_key(suggestion), end)
    return Found(*matches, int(offset), int(limit), suggestion, *totals)


def _all_matches(
    index: QueryIndex, key: str, end: int | None
) -> tuple[tuple[np.ndarray, ...], tuple[int, int]]:
    """Songs, artists and songs outside a sampled atlas's sample matching ``key``, each with
    their tiers (songs and artists: all, or the first ``end``); and how many songs and
    artists of the loaded sample match."""
    produced = [np.asarray(p(), dtype=np.int64) for p in _artist_tiers(index, key)]
    codes, artist_tiers, total_codes = rank_first(produced, index.artist_score, None, end)
    matching = np.unique(np.concatenate(produced))
    songs = [np.asarray(p(), dtype=np.int64) for p in _song_tiers(index, key, matching)]
    rows, tiers, total_rows = rank_first(songs, index.text.song_score, index.recording, end)
    outside, outside_tiers = songs_outside_sample(index, key)
    return (rows, tiers, codes, artist_tiers, outside, outside_tiers), (total_rows, total_codes)


OUTSIDE_MATCHES = 1_000
"""Most songs outside a sampled atlas's sample one search lists (the most popular first)."""
_TIER = {name: i for i, name in enumerate(SONG_TIERS)}


def songs_outside_sample(index: QueryIndex, key: str) -> tuple[np.ndarray, np.ndarray]:
    """For a sampled atlas: rows of its directory (every song) outside the loaded sample whose
    title equals ``key`` or starts with it, one per recording, exact before prefix and most
    popular first, up to `OUTSIDE_MATCHES`; and their tiers. Empty for an atlas in memory."""
    if not index.sampled:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    directory = index.directory
    # Only as many as give OUTSIDE_MATCHES outside the sample are taken and checked against it
    # (a common word starts a hundred thousand titles of 10,000,000 songs; a sample holds a
    # tenth): the most popular, without ranking the rest.
    most = 2 * OUTSIDE_MATCHES
    while True:
        exact, prefix = directory.title_matches(key, most + 1)
        rows = np.concatenate([exact, prefix])[: most + 1]
        tiers = np.repeat([_TIER["exact"], _TIER["prefix"]], [len(exact), len(prefix)])
        every = len(rows) <= most
        rows, tiers = rows[:most], tiers[: len(rows)][:most]
        loaded = directory.in_sample(rows)
        if loaded is None:  # not marked (a one-off query): the ids are looked up
            ids = take_rows(directory.songs, rows, ["track_id"])["track_id"]
            loaded = index.track_ids.get_indexer(ids.to_numpy()) >= 0
        if (~loaded).sum() >= OUTSIDE_MATCHES or every:
            break
        most *= 4
    rows, tiers = rows[~loaded][:OUTSIDE_MATCHES], tiers[~loaded][:OUTSIDE_MATCHES]
    kept = np.isin(rows, directory.one_per_recording(rows))
    return rows[kept], tiers[kept]


def _with_songs_outside(
    index: DiscoveryIndex,
    loaded: tuple[np.ndarray, np.ndarray],
    outside: tuple[np.ndarray, np.ndarray],
    page: slice,
) -> tuple[pd.DataFrame, int]:
    """The page of songs ranked by tier, the loaded songs of a tier before those outside the
    sample (which get ``row`` -1); and the total."""
    import pandas as pd

    rows = np.concatenate([loaded[0], outside[0]])
    tiers = np.concatenate([loaded[1], outside[1]])
    inside = np.arange(len(rows)) < len(loaded[0])
    order = merged_order(tiers, page)
    frames = []
    if inside[order].any() or not len(order):  # a page past the last match is empty
        chosen = order[inside[order]]
        frames.append(song_table(index, rows[chosen], tiers[chosen]).assign(_at=chosen))
    if (~inside[order]).any():
        chosen = order[~inside[order]]
        table = index.directory.table(rows[chosen])
        table.insert(0, "row", -1)
        table.insert(0, "match", np.array([SONG_TIERS[t] for t in tiers[chosen]], dtype=object))
        frames.append(table.assign(releases=pd.NA, other_titles="", _at=chosen))
    songs = pd.concat(frames, ignore_index=True)
    songs = songs.set_index("_at").loc[order].reset_index(drop=True)
    songs["rank"] = np.arange(1, len(songs) + 1)
    columns = ["rank", *(c for c in song_table(index, rows[:0], tiers[:0]).columns if c != "rank")]
    return songs.reindex(columns=columns), len(rows)


def merged_order(tiers: np.ndarray, page: slice) -> np.ndarray:
    """Positions of the ``page`` of the loaded songs' matches followed by those outside the
    sample (``tiers``: the loaded ones' then the others'), ranked by tier, the loaded songs of
    a tier first (each part is ranked already)."""
    return np.argsort(tiers, kind="stable")[page]


def found_page(found: Found) -> tuple[np.ndarray, np.ndarray]:
    """The page of songs a search lists, loaded or outside a sampled atlas's sample: the rows
    (of the loaded songs, or of the directory) and whether each is loaded, ranked as
    `search` ranks them."""
    if not len(found.outside):
        rows = found.rows[found.page]
        return rows, np.ones(len(rows), dtype=bool)
    rows = np.concatenate([found.rows, found.outside])
    order = merged_order(np.concatenate([found.tiers, found.outside_tiers]), found.page)
    return rows[order], order < len(found.rows)


def query_key(text: object) -> str:
    """The normalised key of a query, or a clear error if nothing is left to match."""
    key = normalise_text(text) if text is not None else ""
    if not key:
        raise ConfigError(
            f"search text {str(text)!r}: has no letters or digits to match; type part of a "
            "song title or an artist's name."
        )
    return key


def exact_songs(index: QueryIndex, key: str) -> np.ndarray:
    """Rows whose title, ``title artists`` or ``artists title`` equals a normalised ``key``,
    the title also without its release qualifiers ("song artist" finds "Song - Remastered
    2011" by Artist)."""
    return np.concatenate(
        [
            index.text.titles.equal(key),
            index.text.pairs.items(key),
            recording_title_and_artist(index, key),
        ]
    )


def recording_title_and_artist(index: QueryIndex, key: str) -> np.ndarray:
    """Rows of an artist named exactly by the start or the end of ``key`` whose title, without
    release qualifiers, is the rest of it."""
    words = key.split(" ")
    found = []
    for cut in range(1, len(words)):
        for artist, title in (
            (" ".join(words[cut:]), " ".join(words[:cut])),
            (" ".join(words[:cut]), " ".join(words[cut:])),
        ):
            for code in index.text.artists.equal(artist):
                rows = index.rows_of_artist(int(code))
                names = pc.take(index.name_text, to_arrow(rows))
                titles = to_objects(name_keys(recording_titles(names)))
                found.append(rows[titles == title])
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def closest_name(index: QueryIndex, key: str) -> str | None:
    """The artist name, title or "title artist" closest to a normalised ``key`` (rapidfuzz
    ``WRatio``, at least `FUZZY_CUTOFF`), as the catalog spells it; None when nothing is close."""
    from rapidfuzz import fuzz, process

    choices = _fuzzy_choices(index)
    best = None
    for names, keys in choices:
        hits = process.extract(key, keys, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=10)
        for _, score, at in hits:
            # Ties of WRatio (a partial match scores the same in many names) go to the name
            # closest as a whole.
            rank = (score, fuzz.ratio(key, keys[at]))
            if best is None or rank > best[1]:
                best = (names[at], rank)
    return None if best is None else str(best[0])


_FUZZY: dict[int, tuple[object, list]] = {}


def _fuzzy_choices(index: QueryIndex) -> list[tuple[np.ndarray, list[str]]]:
    """(display names, keys) of artists, titles and "title artists", made once per index."""
    cached = _FUZZY.get(id(index))
    if cached is not None and cached[0]() is index:
        return cached[1]
    song_names = np.array(
        [
            f"{n} {', '.join(a)}".strip()
            for n, a in zip(index.names, index.artist_lists, strict=True)
        ],
        dtype=object,
    )
    choices = [
        (index.artist_names, index.artist_keys.to_pylist()),
        (index.names, index.title_keys.to_pylist()),
        (song_names, index.song_keys.to_pylist()),
    ]
    _FUZZY[id(index)] = (weakref.ref(index), choices)
    weakref.finalize(index, _FUZZY.pop, id(index), None)
    return choices


def match_songs(
    index: QueryIndex, key: str, *, limit: int | None, artists: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the best ``limit`` songs matching a normalised ``key`` (all when None), one row
    per song, with their tiers (indices into `SONG_TIERS`). ``artists``: the codes of every
    artist matching ``key`` (`match_artists`), when the caller has them already."""
    return rank_matches(
        _song_tiers(index, key, artists), index.text.song_score, index.recording, limit
    )


def _song_tiers(
    index: QueryIndex, key: str, artists: np.ndarray | None
) -> list[Callable[[], np.ndarray]]:
    """What each of `SONG_TIERS` matches of a normalised ``key``, to be called in order."""
    text = index.text
    titles = text.titles

    def through_artist() -> np.ndarray:
        codes = match_artists(index, key, limit=None)[0] if artists is None else artists
        return np.concatenate([text.pairs.items(key, prefix=True), index.rows_of_artists(codes)])

    def by_the_artist() -> np.ndarray:
        return index.rows_of_artists(index.text.artists.equal(key))

    return [
        lambda: exact_songs(index, key),
        by_the_artist,
        lambda: titles.starting(key),
        lambda: titles.word_starting(key),
        lambda: titles.containing(key),
        through_artist,
    ]


def match_artists(
    index: QueryIndex, key: str, *, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the best ``limit`` artists matching a normalised ``key`` (all when None) and
    their tiers (indices into `MATCH_TIERS`): by tier, then popularity, then songs."""
    return rank_matches(_artist_tiers(index, key), index.artist_score, None, limit)


def _artist_tiers(index: QueryIndex, key: str) -> list[Callable[[], np.ndarray]]:
    """What each of `MATCH_TIERS` matches of a normalised ``key`` among artists."""
    names = index.text.artists
    return [
        lambda: names.equal(key),
        lambda: names.starting(key),
        lambda: names.word_starting(key),
        lambda: names.containing(key),
    ]


def song_columns(
    index: QueryIndex, rows: np.ndarray, tiers: np.ndarray, *, first: int = 1
) -> dict[str, np.ndarray]:
    """What a search adds to each song it lists: ``rank`` (from ``first``), ``match``,
    ``releases`` and ``other_titles``."""
    releases = index.releases[index.recording[rows]]
    return {
        "rank": np.arange(first, first + len(rows)),
        "match": np.array([SONG_TIERS[t] for t in tiers], dtype=object),
        "releases": np.asarray(releases, dtype=np.int64),
        "other_titles": np.array([_other_titles(index, r) for r in rows], dtype=object),
    }


def song_table(
    index: DiscoveryIndex, rows: np.ndarray, tiers: np.ndarray, *, first: int = 1
) -> pd.DataFrame:
    """The songs results table for ``rows`` matched at ``tiers``, ranked from ``first``."""
    import pandas as pd

    ours = song_columns(index, rows, tiers, first=first)
    frame: dict[str, object] = {
        "rank": ours["rank"],
        "match": ours["match"],
        **index.song_columns(rows),
        "releases": ours["releases"],
        "other_titles": pd.array(ours["other_titles"], dtype="str"),
    }
    return pd.DataFrame(frame)


def _other_titles(index: QueryIndex, row: int) -> str:
    """The distinct titles of the other releases of ``row``'s recording, in catalog order."""
    releases = index.releases_of(row)
    titles = dict.fromkeys(str(t) for t in index.names_of(releases))
    titles.pop(str(index.names_of(np.array([row]))[0]), None)
    return OTHER_TITLES_SEPARATOR.join(titles)


def artist_columns(
    index: QueryIndex, codes: np.ndarray, tiers: np.ndarray, *, first: int = 1
) -> dict[str, np.ndarray]:
    """The artists a search lists, by column: ``rank`` (from ``first``), ``artist``,
    ``match``, ``songs``, ``popularity``, ``genres`` (their three most common)."""
    return {
        "rank": np.arange(first, first + len(codes)),
        "artist": index.artist_names[codes],
        "match": np.array([MATCH_TIERS[t] for t in tiers], dtype=object),
        "songs": index.artist_songs[codes],
        "popularity": index.artist_popularity[codes],
        "genres": np.array([", ".join(top_genres(index, c)) for c in codes], dtype=object),
    }


def artist_table(
    index: QueryIndex, codes: np.ndarray, tiers: np.ndarray, *, first: int = 1
) -> pd.DataFrame:
    """The artists results table for artist ``codes`` matched at ``tiers``, ranked from
    ``first``."""
    import pandas as pd

    return pd.DataFrame(artist_columns(index, codes, tiers, first=first))


def top_genres(index: QueryIndex, code: int, top: int | None = 3) -> list[str]:
    """An artist's ``top`` most common genres over their songs (all with None), most common
    first."""
    counts: dict[str, int] = {}
    for genres in index.genres_of(index.rows_of_artist(code)):
        for genre in genres:
            counts[genre] = counts.get(genre, 0) + 1
    return [g for g, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]]
