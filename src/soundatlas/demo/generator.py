"""The demo catalog generator: artists, their songs, and the catalog chunk by chunk.

Generation happens in three steps. A plan splits the songs over artists (about 5.4 songs each,
heavy-tailed). Artists are drawn in fixed blocks: a primary genre and up to two related ones, a
component shared by all their songs in the copula's normal space, popularity, followers, an id
and a name. Songs are then drawn in fixed blocks from their artist's genres. Every block has its
own random stream, so the output depends on the seed only, never on the chunk size, and a
catalog of 10,000,000 songs is produced with bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from soundatlas.demo.figures import GenreFigures, genre_figures, genre_list_texts, quantile_lookup
from soundatlas.demo.names import ID_SPACE, artist_names, base62_ids, song_titles
from soundatlas.errors import ConfigError
from soundatlas.ingest.schema import SEED_COLUMNS, UNIT_FEATURES

#: Songs per artist of the real seed catalog this mimics (95,837 songs by 17,662 artists).
SONGS_PER_ARTIST = 95_837 / 17_662
#: Spread (log scale) of the artists' catalogue sizes: heavy-tailed, about a quarter of the
#: artists have a single song and the biggest have hundreds (an assumption, not a fitted figure).
ARTIST_SIZE_SIGMA = 1.3
#: Share of an artist's songs in their primary genre; the rest come from their other genres.
PRIMARY_GENRE_SHARE = 0.85
#: Share of songs whose release_date is a full 'YYYY-MM-DD' date rather than a year.
FULL_DATE_SHARE = 0.1
#: Artist popularity sits a little above their typical song (Spotify rates artists by their best).
ARTIST_POPULARITY_BUMP = 5.0
#: log10(followers) = a + b * popularity + c * popularity**2 (+ noise): 0 -> ~20, 50 -> ~200k,
#: 95 -> ~40M followers, a hand-set curve matching the seed catalog's artists.
FOLLOWERS_CURVE = (1.25, 0.095, -0.0003)
FOLLOWERS_NOISE = 0.3

#: Songs are generated in fixed blocks with their own random streams, so the output does not
#: depend on how it is chunked.
SONG_BLOCK = 50_000
ARTIST_BLOCK = 4_096

_FEATURE_RANGE = {"loudness": (-60.0, 0.0), "tempo": (30.0, 250.0)}
_DECIMAL_COLUMNS = ("danceability", "energy", "valence", "loudness", "tempo")
_SIGNIFICANT_COLUMNS = ("speechiness", "acousticness", "instrumentalness", "liveness")

# --------------------------------------------------------------------------------------------
# Random streams and rounding
# --------------------------------------------------------------------------------------------


def _rng(seed: int, *key: int) -> np.random.Generator:
    """Independent random stream for one part of the catalog (``key``) under ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _round_decimals(values: np.ndarray, decimals: int) -> np.ndarray:
    """Round to a number of decimals the way Spotify reports features (short CSV text)."""
    scale = 10.0**decimals
    return np.round(values * scale) / scale


def _round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Round positive values to ``digits`` significant digits (``1.55e-05``, ``0.0512``)."""
    positive = values > 0
    exponent = np.zeros(values.shape)
    exponent[positive] = np.floor(np.log10(values[positive]))
    scale = 10.0 ** (digits - 1 - exponent)
    return np.round(values * scale) / scale


# --------------------------------------------------------------------------------------------
# Plan: how many songs each artist has
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Catalog-wide decisions taken before any song is drawn."""

    n_songs: int
    seed: int
    artist_starts: np.ndarray  # (A + 1,) first song index of each artist, then n_songs
    song_salt: int
    artist_salt: int
    name_salt: int


def _artist_count(n_songs: int) -> int:
    """Number of artists for ``n_songs`` songs, at the real catalog's songs-per-artist ratio."""
    return max(1, min(n_songs, round(n_songs / SONGS_PER_ARTIST)))


def _make_plan(n_songs: int, seed: int) -> _Plan:
    """Split ``n_songs`` over artists: one song each, the rest by heavy-tailed weights."""
    rng = _rng(seed, 0)
    salts = rng.integers(0, 2**31, size=3)  # first, so an artist's name and id ignore n_songs
    n_artists = _artist_count(n_songs)
    weights = rng.lognormal(0.0, ARTIST_SIZE_SIGMA, size=n_artists)
    extra = rng.multinomial(n_songs - n_artists, weights / weights.sum())
    starts = np.zeros(n_artists + 1, dtype=np.int64)
    np.cumsum(1 + extra, out=starts[1:])
    return _Plan(n_songs, seed, starts, int(salts[0]), int(salts[1]), int(salts[2]))


# --------------------------------------------------------------------------------------------
# Artists
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Artists:
    """Attributes of a contiguous range of artists (struct of arrays)."""

    first: int  # global index of the first artist
    genre_slots: np.ndarray  # (A, 3) genre indices, -1 when the artist has fewer genres
    n_genres: np.ndarray  # (A,)
    latent: np.ndarray  # (A, C) artist component in the copula's normal space
    explicit_p: np.ndarray  # (A,)
    popularity: np.ndarray  # (A,) int
    followers: np.ndarray  # (A,) int
    ids: np.ndarray  # (A,) str
    names: np.ndarray  # (A,) object
    genres_text: np.ndarray  # (A,) object


def _artist_genres(
    rng: np.random.Generator, figures: GenreFigures, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Primary genre (all genres equally likely) plus 0-2 related genres per artist."""
    primary = rng.integers(0, figures.n_genres, size=size)
    n_genres = 1 + np.searchsorted(figures.genre_count_cdf, rng.random(size), side="right")
    n_genres = np.minimum(n_genres, 3)
    # Gumbel top-k: two distinct neighbours, drawn without replacement by weight.
    keys = figures.neighbour_logw[primary] + rng.gumbel(size=figures.neighbour_logw[primary].shape)
    order = np.argsort(-keys, axis=1)[:, :2]
    others = np.take_along_axis(figures.neighbours[primary], order, axis=1)
    slots = np.column_stack([primary, others])
    slots[np.arange(3) >= n_genres[:, None]] = -1
    return slots, n_genres


def _artist_latent(
    rng: np.random.Generator, figures: GenreFigures, primary: np.ndarray
) -> np.ndarray:
    """Artist components with their primary genre's score correlation."""
    white = rng.standard_normal((len(primary), len(figures.columns)))
    return np.einsum("aij,aj->ai", figures.cholesky[primary], white)


def _make_artists(plan: _Plan, block: int) -> _Artists:
    """Generate one fixed block of artists.

    The block is always generated whole, so an artist's attributes depend on the seed and its
    index only, not on how many songs or artists the catalog has.
    """
    figures = genre_figures()
    first = block * ARTIST_BLOCK
    index = np.arange(first, first + ARTIST_BLOCK, dtype=np.int64)
    rng = _rng(plan.seed, 1, block)
    slots, n_genres = _artist_genres(rng, figures, len(index))
    primary = slots[:, 0]
    latent = _artist_latent(rng, figures, primary)
    rate = figures.explicit_rate[primary]
    conc = figures.explicit_concentration
    explicit_p = rng.beta(rate * conc, (1.0 - rate) * conc)
    pop_col = figures.column("popularity")
    typical = quantile_lookup(figures, primary, pop_col, ndtr(latent[:, pop_col]))
    noisy = typical + ARTIST_POPULARITY_BUMP + rng.normal(0.0, 3.0, size=len(index))
    popularity = np.clip(np.round(noisy), 0, 100).astype(np.int64)
    a, b, c = FOLLOWERS_CURVE
    log_followers = a + b * popularity + c * popularity**2
    log_followers += rng.normal(0.0, FOLLOWERS_NOISE, size=len(index))
    followers = np.round(10.0**log_followers).astype(np.int64)
    return _Artists(
        first=first,
        genre_slots=slots,
        n_genres=n_genres,
        latent=latent,
        explicit_p=explicit_p,
        popularity=popularity,
        followers=followers,
        ids=base62_ids(rng, index, plan.artist_salt),
        names=artist_names(index, plan.name_salt),
        genres_text=genre_list_texts(figures, slots),
    )


class _ArtistCache:
    """Artist blocks needed by the current song block; older blocks are dropped."""

    def __init__(self, plan: _Plan) -> None:
        self._plan = plan
        self._blocks: dict[int, _Artists] = {}

    def gather(self, first: int, last: int) -> _Artists:
        """Artists ``first..last`` (inclusive) as one struct of arrays starting at ``first``."""
        lo, hi = first // ARTIST_BLOCK, last // ARTIST_BLOCK
        self._blocks = {b: a for b, a in self._blocks.items() if b >= lo}
        for block in range(lo, hi + 1):
            if block not in self._blocks:
                self._blocks[block] = _make_artists(self._plan, block)
        parts = [self._blocks[b] for b in range(lo, hi + 1)]
        start = first - lo * ARTIST_BLOCK
        stop = start + (last - first + 1)
        fields = {
            name: np.concatenate([getattr(p, name) for p in parts])[start:stop]
            for name in _Artists.__dataclass_fields__
            if name != "first"
        }
        return _Artists(first=first, **fields)


# --------------------------------------------------------------------------------------------
# Songs
# --------------------------------------------------------------------------------------------


def _song_genres(rng: np.random.Generator, artists: _Artists, local: np.ndarray) -> np.ndarray:
    """Each song's genre: the artist's primary one mostly, otherwise one of their others."""
    slots = artists.genre_slots[local]
    n_other = artists.n_genres[local] - 1
    use_other = (rng.random(len(local)) >= PRIMARY_GENRE_SHARE) & (n_other > 0)
    pick = 1 + (rng.random(len(local)) * np.maximum(n_other, 1)).astype(np.int64)
    column = np.where(use_other, pick, 0)
    return slots[np.arange(len(local)), column]


def _song_scores(
    rng: np.random.Generator, figures: GenreFigures, genre: np.ndarray, artist_latent: np.ndarray
) -> np.ndarray:
    """Copula normal scores: shared artist part plus a song part, both genre-correlated."""
    white = rng.standard_normal((len(genre), len(figures.columns)))
    own = np.empty_like(white)
    order = np.argsort(genre, kind="stable")
    bounds = np.flatnonzero(np.diff(genre[order])) + 1
    for rows in np.split(order, bounds):
        if len(rows):
            own[rows] = white[rows] @ figures.cholesky[genre[rows[0]]].T
    share = figures.artist_share
    return np.sqrt(share) * artist_latent + np.sqrt(1.0 - share) * own


def _song_values(
    figures: GenreFigures, genre: np.ndarray, scores: np.ndarray
) -> dict[str, np.ndarray]:
    """Map normal scores through each genre's quantile functions to feature values."""
    u = ndtr(scores)
    values = {
        name: quantile_lookup(figures, genre, col, u[:, col])
        for col, name in enumerate(figures.columns)
    }
    for name in UNIT_FEATURES:
        values[name] = np.clip(values[name], 0.0, 1.0)
    for name, (low, high) in _FEATURE_RANGE.items():
        values[name] = np.clip(values[name], low, high)
    for name in _DECIMAL_COLUMNS:
        values[name] = _round_decimals(values[name], 3)
    for name in _SIGNIFICANT_COLUMNS:
        values[name] = _round_significant(values[name], 3)
    values["popularity"] = np.clip(np.round(values["popularity"]), 0, 100).astype(np.int64)
    values["duration_ms"] = np.maximum(np.round(values["duration_ms"]), 1_000).astype(np.int64)
    values["release_year"] = np.round(values["release_year"]).astype(np.int64)
    return values


def _release_dates(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    """Years (int) for most songs, 'YYYY-MM-DD' text for ``FULL_DATE_SHARE`` of them."""
    dates = years.astype(object)
    full = np.flatnonzero(rng.random(len(years)) < FULL_DATE_SHARE)
    day = (rng.random(len(full)) * 365).astype(np.int64)
    jan_first = (years[full] - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    dates[full] = (jan_first + day).astype(str).tolist()
    return dates


def _make_song_block(plan: _Plan, block: int, cache: _ArtistCache) -> dict[str, np.ndarray]:
    """Columns of one fixed block of songs (depends on seed, block and the plan only)."""
    figures = genre_figures()
    start = block * SONG_BLOCK
    song_index = np.arange(start, min(start + SONG_BLOCK, plan.n_songs), dtype=np.int64)
    artist_index = np.searchsorted(plan.artist_starts, song_index, side="right") - 1
    artists = cache.gather(int(artist_index[0]), int(artist_index[-1]))
    local = artist_index - artists.first
    rng = _rng(plan.seed, 2, block)
    size = len(song_index)
    genre = _song_genres(rng, artists, local)
    values = _song_values(figures, genre, _song_scores(rng, figures, genre, artists.latent[local]))
    key_u = rng.random(size)
    return {
        "id_songs": base62_ids(rng, song_index, plan.song_salt),
        "name_song": song_titles(rng, size),
        "popularity_songs": values["popularity"],
        "duration_ms": values["duration_ms"],
        "explicit": (rng.random(size) < artists.explicit_p[local]).astype(np.int64),
        "id_artists": artists.ids[local],
        "release_date": _release_dates(rng, values["release_year"]),
        "danceability": values["danceability"],
        "energy": values["energy"],
        "key": (figures.key_cdf[genre] < key_u[:, None]).sum(axis=1).clip(0, 11),
        "loudness": values["loudness"],
        "mode": (rng.random(size) < figures.mode_rate[genre]).astype(np.int64),
        "speechiness": values["speechiness"],
        "acousticness": values["acousticness"],
        "instrumentalness": values["instrumentalness"],
        "liveness": values["liveness"],
        "valence": values["valence"],
        "tempo": values["tempo"],
        "time_signature": rng.choice(
            figures.time_signatures, size=size, p=figures.time_signature_probs
        ),
        "followers": artists.followers[local],
        "genres": artists.genres_text[local],
        "name_artists": artists.names[local],
        "popularity_artists": artists.popularity[local],
    }


def _to_frame(columns: dict[str, np.ndarray], index: pd.RangeIndex) -> pd.DataFrame:
    """DataFrame in seed-column order; text columns get pandas' string dtype.

    release_date stays an object column (int years, text dates) even in a chunk where every
    value happens to be a date, so every chunk has the same dtypes.
    """
    data = {name: columns[name] for name in SEED_COLUMNS}
    data["release_date"] = pd.Series(columns["release_date"], index=index, dtype=object)
    return pd.DataFrame(data, index=index)


def empty_frame() -> pd.DataFrame:
    """A zero-row catalog with the seed columns and their usual dtypes."""
    return next(iter_catalog_chunks(1)).iloc[:0]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def check_count(value: object, name: str, minimum: int) -> int:
    """Validate an integer option, raising :class:`ConfigError` with what to do."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(
            f"demo catalog: {name} must be a whole number, got {value!r}; pass an int."
        )
    if value < minimum:
        raise ConfigError(
            f"demo catalog: {name} must be at least {minimum}, got {value}; pass a larger value."
        )
    return int(value)


def check_song_count(value: object) -> int:
    """Validate ``n_songs``: a whole number from 0 to the distinct ids the generator can make."""
    songs = check_count(value, "n_songs", 0)
    if songs > ID_SPACE:
        raise ConfigError(
            f"demo catalog: n_songs can be at most {ID_SPACE:,} (the distinct song ids the "
            f"generator can make), got {songs:,}; generate several catalogs with other seeds."
        )
    return songs


def iter_catalog_chunks(
    n_songs: int, *, chunk_size: int = 250_000, random_state: int = 0
) -> Iterator[pd.DataFrame]:
    """Yield a demo catalog of ``n_songs`` songs as DataFrames of at most ``chunk_size`` rows.

    Lets 10,000,000 songs be produced (and written) with bounded memory: only the current
    chunk, one internal block of songs and the artists it touches are held at a time.

    Parameters
    ----------
    n_songs : int
        Total number of songs (0 yields nothing).
    chunk_size : int, default 250_000
        Maximum rows per yielded DataFrame.
    random_state : int, default 0
        Seed. Songs are drawn in fixed internal blocks with their own random streams, so the
        concatenated chunks are identical for every ``chunk_size`` and equal
        ``generate_catalog(n_songs, random_state=random_state)``.

    Yields
    ------
    pandas.DataFrame
        Consecutive rows of the catalog in :data:`SEED_COLUMNS` order, with a RangeIndex that
        continues from the previous chunk. See :func:`generate_catalog` for the columns.

    Raises
    ------
    ConfigError
        If ``n_songs`` is negative or ``chunk_size`` is not positive.
    """
    n_songs = check_song_count(n_songs)
    chunk_size = check_count(chunk_size, "chunk_size", 1)
    random_state = check_count(random_state, "random_state", 0)
    if n_songs == 0:
        return
    plan = _make_plan(n_songs, random_state)
    cache = _ArtistCache(plan)
    held: tuple[int, dict[str, np.ndarray]] | None = None
    for start in range(0, n_songs, chunk_size):
        stop = min(n_songs, start + chunk_size)
        parts = []
        for block in range(start // SONG_BLOCK, (stop - 1) // SONG_BLOCK + 1):
            if held is None or held[0] != block:
                held = (block, _make_song_block(plan, block, cache))
            lo = max(start - block * SONG_BLOCK, 0)
            hi = min(stop - block * SONG_BLOCK, SONG_BLOCK)
            parts.append({name: values[lo:hi] for name, values in held[1].items()})
        columns = {name: np.concatenate([p[name] for p in parts]) for name in SEED_COLUMNS}
        yield _to_frame(columns, pd.RangeIndex(start, stop))


def generate_catalog(n_songs: int, *, random_state: int = 0) -> pd.DataFrame:
    """Generate a demo catalog of ``n_songs`` songs in the seed-catalog schema.

    Each genre's songs follow that genre's Gaussian copula (quantiles of danceability, energy,
    loudness, speechiness, acousticness, instrumentalness, liveness, valence, tempo, popularity,
    duration and release year, and the correlation of their normal scores), so feature
    distributions and their correlations (energy with loudness, acousticness against energy)
    match real music. Key, mode and explicit follow each genre's rates; time signatures follow a
    global distribution (mostly 4, some 3, few 5 or 1).

    Songs are grouped into artists, about 5.4 songs each as in the real catalog mimicked
    (95,837 songs by 17,662 artists), heavy-tailed: many artists have one song, a few have
    hundreds. An artist has a primary genre and 1-3 genres (related genres, proportions from
    chart data), and a component shared by all their songs in the copula's normal space, so
    their songs resemble each other (release years most, tempo and liveness least) yet vary.
    ``popularity_artists`` sits a little above the artist's typical song and ``followers``
    grows with it. All 112 genres are equally likely as primary genre: the genre table samples
    exactly 100 tracks per genre and the chart table covers chart hits only, so neither gives a
    defensible share of each genre in a whole catalog.

    Parameters
    ----------
    n_songs : int
        Number of songs (rows). 0 gives an empty frame with the seed columns.
    random_state : int, default 0
        Seed: the same ``(n_songs, random_state)`` always gives the identical frame.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SEED_COLUMNS`:

        - ``id_songs`` unique and ``id_artists`` (one per artist): 22-character base62 text;
        - ``name_song`` readable titles ending with ``" (demo)"``, some shared between artists;
          ``name_artists`` unique names starting with ``"Demo Artist · "``, a few accented;
        - ``popularity_songs``, ``popularity_artists`` ints 0-100; ``followers`` int >= 0;
        - ``duration_ms`` positive int; ``explicit`` and ``mode`` 0/1 ints; ``key`` 0-11;
          ``time_signature`` in {1, 3, 4, 5};
        - ``release_date`` object column: a year (int) for most songs, ``'YYYY-MM-DD'`` text
          for about 10%;
        - danceability, energy, speechiness, acousticness, instrumentalness, liveness and
          valence floats in [0, 1]; ``loudness`` dB in [-60, 0]; ``tempo`` BPM > 0;
        - ``genres`` the artist's genres as Python-list text, e.g. ``"['dance pop', 'pop']"``.

    Raises
    ------
    ConfigError
        If ``n_songs`` or ``random_state`` is negative or not a whole number.
    """
    chunks = list(iter_catalog_chunks(n_songs, random_state=random_state))
    if not chunks:
        return empty_frame()
    if len(chunks) == 1:
        return chunks[0]
    return pd.concat(chunks, ignore_index=True)
