"""Built-in demo catalog: synthetic songs that are statistically faithful to real music.

A fresh machine has no catalog to cluster, so SoundAtlas ships a generator. Its songs follow, genre
by genre, the audio-feature distributions of 112 Spotify genres (a Gaussian copula per genre: the
quantiles of each column plus the correlation of their normal scores), and are grouped into
artists whose songs resemble each other, as in a real catalog. The same generator makes the
synthetic scale-ups (95,837 / 1,000,000 / 10,000,000 songs) used by the benchmarks, chunk by chunk
with bounded memory.

The figures come from ``soundatlas/data/demo_genre_stats.json``, built by
``scripts/build_demo_stats.py`` from public Spotify audio-feature tables; it holds derived figures
only (quantiles, correlations, rates), never rows, ids or names of the sources. Every generated
artist is called ``"Demo Artist · ..."`` and every song title ends with ``" (demo)"`` so demo data
cannot be mistaken for real data.

Output follows the seed-schema catalog users start from (:data:`SEED_COLUMNS`).
"""

from __future__ import annotations

import functools
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from scipy.special import ndtr

from soundatlas.errors import ConfigError

__all__ = [
    "SEED_COLUMNS",
    "generate_catalog",
    "iter_catalog_chunks",
    "write_catalog",
]

#: Columns of the seed-schema catalog, in order (the header of the catalogs users start from).
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

DEMO_ARTIST_PREFIX = "Demo Artist · "
DEMO_SONG_SUFFIX = " (demo)"

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
_UNIT_COLUMNS = (
    "danceability",
    "energy",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
)
_DECIMAL_COLUMNS = ("danceability", "energy", "valence", "loudness", "tempo")
_SIGNIFICANT_COLUMNS = ("speechiness", "acousticness", "instrumentalness", "liveness")

_BASE62 = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
)
_ID_LENGTH = 22
_ID_UNIQUE_DIGITS = 5
_ID_SPACE = 62**_ID_UNIQUE_DIGITS  # songs (and artists) that can get distinct ids
_ID_MULTIPLIER = 387_420_489  # 3**18: coprime with 62**5, so i -> i * m + c is a bijection
_NAME_MULTIPLIER = 1_000_003  # prime, larger than every name space

#: File types write_catalog can produce, chosen by the path's suffix.
_SUFFIXES = (".csv", ".parquet")

# --------------------------------------------------------------------------------------------
# Word lists (ASCII, plus a few accented names so search can be tested with accents)
# --------------------------------------------------------------------------------------------

# fmt: off
_ADJECTIVES = (
    "Velvet", "Golden", "Silver", "Midnight", "Electric", "Quiet", "Broken", "Neon",
    "Crimson", "Hollow", "Wild", "Gentle", "Restless", "Paper", "Crystal", "Faded",
    "Burning", "Lonely", "Summer", "Winter", "Northern", "Southern", "Secret", "Distant",
    "Sweet", "Bitter", "Blue", "Scarlet", "Amber", "Silent", "Endless", "Little",
    "Lucky", "Heavy", "Brave", "Static", "Cosmic", "Rusty", "Frozen", "Shining",
    "Open", "Empty", "Tender", "Savage", "Honey", "Copper", "Violet", "Wandering",
    "Sleepy", "Dusty", "Gilded", "Lunar", "Solar", "Radiant", "Painted", "Sacred",
    "Tiny", "Giant", "Marble", "Emerald", "Ivory", "Hidden", "Fragile", "Rising",
)
_NOUNS = (
    "Tide", "River", "Heart", "Morning", "Highway", "Garden", "Ocean", "Mirror",
    "Signal", "Harbor", "Window", "Thunder", "Echo", "Lantern", "Horizon", "Shadow",
    "Fire", "Rain", "Daydream", "Compass", "Satellite", "Orchard", "Valley", "Canyon",
    "Meadow", "Skyline", "Feather", "Wave", "Letter", "Promise", "Parade", "Carousel",
    "Lullaby", "Serenade", "Avenue", "Island", "Comet", "Ember", "Storm", "Moon",
    "Sun", "City", "Dream", "Road", "Night", "Café", "Soirée", "Melody",
    "Bridge", "Forest", "Desert", "Station", "Engine", "Kingdom", "Ribbon", "Candle",
    "Circle", "Season", "Fever", "Glass", "Silence", "Radio", "Sparrow", "Lighthouse",
)
_PLURALS = (
    "Foxes", "Lanterns", "Rivers", "Comets", "Sparrows", "Wolves", "Strangers", "Dreamers",
    "Satellites", "Tides", "Echoes", "Ravens", "Pilots", "Heartbeats", "Drifters", "Machines",
    "Sailors", "Painters", "Poets", "Shadows", "Giants", "Saints", "Rebels", "Rangers",
    "Owls", "Tigers", "Thieves", "Kings", "Queens", "Ghosts", "Hearts", "Horses",
    "Lovers", "Sisters", "Brothers", "Wanderers", "Mariners", "Orbits", "Signals", "Flames",
    "Keys", "Birds", "Bells", "Waves", "Stars", "Cowboys", "Pirates", "Dancers",
)
_FIRST_NAMES = (
    "Ava", "Leo", "Mia", "Noah", "Maya", "Eli", "Nora", "Theo",
    "Ruby", "Jonah", "Iris", "Felix", "Clara", "Milo", "Hazel", "Oscar",
    "Lena", "Hugo", "Stella", "Owen", "Ivy", "Jasper", "June", "Silas",
    "Rosa", "Emil", "Vera", "Caleb", "Elsa", "Rafael", "Lucia", "Marcus",
    "Nina", "Tobias", "Greta", "Dario", "Kai", "Amara", "Sam", "Otis",
    "Freya", "Arlo", "Mabel", "Ezra", "Luna", "Finn", "Daisy", "Levi",
    "Cora", "Miles", "Alma", "Roman", "Tessa", "Abel", "Wren", "Dexter",
    "Pearl", "Gus", "Olive", "Ray", "Léa", "Chloé", "François", "José",
)
_LAST_NAMES = (
    "Moreau", "Hart", "Lane", "Rivers", "Stone", "Vale", "Brooks", "Quinn",
    "Mercer", "Hale", "Frost", "Sloane", "Reyes", "Novak", "Lindqvist", "Okafor",
    "Tanaka", "Ferreira", "Kowalski", "Marsh", "Bishop", "Calloway", "Dumont", "Ashby",
    "Winter", "Sterling", "Holloway", "Baptiste", "Castillo", "Fontaine", "Rossi", "Moretti",
    "Keller", "Haas", "Adair", "Ellery", "Garnier", "Park", "Nakamura", "Silva",
    "Byrne", "Dalton", "Everett", "Fischer", "Grant", "Hughes", "Ibarra", "Jensen",
    "Kaplan", "Larsen", "Monroe", "Nash", "Ortega", "Price", "Rowe", "Sato",
    "Thorne", "Underwood", "Vance", "Wilder", "Young", "Zeller", "Lefèvre", "Gonçalves",
)
_VERBS = (
    "Dancing", "Running", "Waiting", "Falling", "Dreaming", "Driving", "Singing", "Walking",
    "Floating", "Chasing", "Burning", "Drifting", "Shining", "Calling", "Holding", "Fading",
    "Flying", "Sleeping", "Wandering", "Howling", "Rolling", "Swimming", "Whispering", "Rising",
)
_PREPOSITIONS = ("Under", "Over", "Beyond", "Across", "Through", "Into", "Beside", "Above")
_VERSIONS = ("Live", "Acoustic", "Remix", "Radio Edit", "Remastered")
_INITIALS = tuple("ABCDEFGHIJKLMNOPRSTVWZ")
# fmt: on

#: Artist-name patterns cycle through this fixed sequence (4 bands "Adj Noun", 3 "The Adj Xs",
#: 4 "First Last", 8 "First X. Last", 1 "First & The Xs" in every 20 artists), so each
#: pattern's names are used in order and stay unique: 17,662 artists need no numbering.
_ARTIST_PATTERN_CYCLE = np.array([0, 3, 2, 1, 3, 0, 2, 3, 1, 4, 3, 0, 2, 3, 1, 3, 0, 2, 3, 3])
#: Title patterns and their probabilities: "Adj Noun", "Verb Prep the Noun", "Noun",
#: "Adj Noun - Version", "Noun of the Adj Noun". Short patterns make titles shared between
#: artists, as in real catalogs ("Home", "Summer Rain").
_TITLE_PATTERN_PROBS = np.array([0.15, 0.25, 0.02, 0.08, 0.50])


# --------------------------------------------------------------------------------------------
# Figures from the shipped JSON
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DemoStats:
    """Arrays the generator samples from, built once per process from the JSON."""

    columns: tuple[str, ...]
    genre_names: np.ndarray  # (G,) object: Spotify-style names ("hip hop")
    quantiles: np.ndarray  # (G, C, Q) quantile function of each column, equally spaced probs
    cholesky: np.ndarray  # (G, C, C) lower Cholesky factor of each genre's score correlation
    key_cdf: np.ndarray  # (G, 12)
    mode_rate: np.ndarray  # (G,)
    explicit_rate: np.ndarray  # (G,)
    neighbours: np.ndarray  # (G, K) genre indices an artist of the genre may also have
    neighbour_logw: np.ndarray  # (G, K) log weights of those neighbours
    artist_share: np.ndarray  # (C,) share of each column's variance shared by an artist's songs
    genre_count_cdf: np.ndarray  # (3,) how many genres an artist has (1, 2, 3)
    explicit_concentration: float  # Beta concentration of an artist's explicit propensity
    time_signatures: np.ndarray
    time_signature_probs: np.ndarray

    @property
    def n_genres(self) -> int:
        """Number of genres."""
        return len(self.genre_names)

    def column(self, name: str) -> int:
        """Index of a copula column."""
        return self.columns.index(name)


def _correlation_from_upper(upper: list[float], size: int) -> np.ndarray:
    """Symmetric correlation matrix from its strict upper triangle."""
    corr = np.eye(size)
    rows, cols = np.triu_indices(size, k=1)
    corr[rows, cols] = upper
    corr[cols, rows] = upper
    return corr


def _safe_cholesky(corr: np.ndarray) -> np.ndarray:
    """Cholesky factor, clipping eigenvalues if rounding made the matrix slightly indefinite."""
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(corr)
        fixed = (vectors * np.clip(values, 1e-6, None)) @ vectors.T
        scale = np.sqrt(np.diag(fixed))
        return np.linalg.cholesky(fixed / np.outer(scale, scale))


@functools.cache
def _stats() -> _DemoStats:
    """Load ``demo_genre_stats.json`` once per process (it ships inside the package)."""
    source = resources.files("soundatlas") / "data" / "demo_genre_stats.json"
    raw = json.loads(source.read_text(encoding="utf-8"))
    columns = tuple(raw["columns"])
    genres = raw["genres"]
    size = len(columns)
    logw = [[math.log(w) for _, w in g["neighbours"]] for g in genres]
    icc = raw["explicit_artist_icc"]
    return _DemoStats(
        columns=columns,
        genre_names=np.array([g["name"] for g in genres], dtype=object),
        quantiles=np.array([g["quantiles"] for g in genres], dtype=float),
        cholesky=np.array(
            [_safe_cholesky(_correlation_from_upper(g["corr_upper"], size)) for g in genres]
        ),
        key_cdf=np.cumsum([g["key_probs"] for g in genres], axis=1),
        mode_rate=np.array([g["mode_rate"] for g in genres]),
        explicit_rate=np.array([g["explicit_rate"] for g in genres]),
        neighbours=np.array([[j for j, _ in g["neighbours"]] for g in genres], dtype=np.int64),
        neighbour_logw=np.array(logw),
        artist_share=np.array([raw["artist_share"][c] for c in columns]),
        genre_count_cdf=np.cumsum(raw["artist_genre_count_probs"]),
        explicit_concentration=max(1.0 / icc - 1.0, 0.05),
        time_signatures=np.array(raw["time_signature"]["values"], dtype=np.int64),
        time_signature_probs=np.array(raw["time_signature"]["probs"]),
    )


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def _combine(*parts: tuple[str, ...] | list[str], sep: str = " ") -> list[str]:
    """Every combination of one item from each part, joined (first part varies slowest)."""
    combos = [""]
    for index, part in enumerate(parts):
        glue = "" if index == 0 else sep
        combos = [f"{head}{glue}{item}" for head in combos for item in part]
    return combos


@functools.cache
def _artist_name_patterns() -> tuple[np.ndarray, ...]:
    """Artist names of each pattern (see ``_ARTIST_PATTERN_CYCLE``), demo prefix included."""
    patterns = (
        _combine(_ADJECTIVES, _NOUNS),
        _combine(["The"], _ADJECTIVES, _PLURALS),
        _combine(_FIRST_NAMES, _LAST_NAMES),
        _combine(_FIRST_NAMES, [f"{i}." for i in _INITIALS], _LAST_NAMES),
        _combine(_FIRST_NAMES, ["& The"], _PLURALS),
    )
    return tuple(np.array([DEMO_ARTIST_PREFIX + n for n in p], dtype=object) for p in patterns)


@functools.cache
def _title_vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """All song titles, demo suffix included, and where each title pattern starts."""
    patterns = (
        _combine(_ADJECTIVES, _NOUNS),
        _combine(_VERBS, _PREPOSITIONS, ["the"], _NOUNS),
        list(_NOUNS),
        _combine(_combine(_ADJECTIVES, _NOUNS), _VERSIONS, sep=" - "),
        _combine(_NOUNS, ["of the"], _ADJECTIVES, _NOUNS),
    )
    titles = np.array([t + DEMO_SONG_SUFFIX for p in patterns for t in p], dtype=object)
    starts = np.cumsum([0, *[len(p) for p in patterns]])
    return titles, starts


def _artist_names(artist_index: np.ndarray, salt: int) -> np.ndarray:
    """Unique demo artist names for global artist indices (numbered only past ~20k artists)."""
    cycle = len(_ARTIST_PATTERN_CYCLE)
    position = artist_index % cycle
    pattern = _ARTIST_PATTERN_CYCLE[position]
    # Rank of each artist among the artists of its pattern: full cycles, then earlier slots.
    per_cycle = np.bincount(_ARTIST_PATTERN_CYCLE)
    earlier = np.cumsum(_ARTIST_PATTERN_CYCLE[:, None] == np.arange(len(per_cycle)), axis=0)
    rank = (artist_index // cycle) * per_cycle[pattern] + earlier[position, pattern] - 1
    names = np.empty(len(artist_index), dtype=object)
    for p, vocab in enumerate(_artist_name_patterns()):
        mask = pattern == p
        space = len(vocab)
        lap, slot = np.divmod(rank[mask], space)
        picked = vocab[(slot * _NAME_MULTIPLIER + salt) % space]
        if lap.any():
            numbered = [f"{n} No. {k + 1}" if k else n for n, k in zip(picked, lap, strict=True)]
            picked = np.array(numbered, dtype=object)
        names[mask] = picked
    return names


def _song_titles(rng: np.random.Generator, size: int) -> np.ndarray:
    """Titles drawn from the title patterns; short patterns repeat across artists."""
    titles, starts = _title_vocabulary()
    pattern = rng.choice(len(_TITLE_PATTERN_PROBS), size=size, p=_TITLE_PATTERN_PROBS)
    lengths = np.diff(starts)
    offset = (rng.random(size) * lengths[pattern]).astype(np.int64)
    return titles[starts[pattern] + offset]


# --------------------------------------------------------------------------------------------
# Ids and small helpers
# --------------------------------------------------------------------------------------------


def _rng(seed: int, *key: int) -> np.random.Generator:
    """Independent random stream for one part of the catalog (``key``) under ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _base62_ids(rng: np.random.Generator, index: np.ndarray, salt: int) -> np.ndarray:
    """22-character base62 ids; the last 5 characters encode ``index`` bijectively (unique)."""
    codes = rng.integers(0, 62, size=(len(index), _ID_LENGTH), dtype=np.uint8)
    scrambled = (index.astype(np.int64) * _ID_MULTIPLIER + salt) % _ID_SPACE
    for position in range(_ID_UNIQUE_DIGITS):
        scrambled, digit = np.divmod(scrambled, 62)
        codes[:, _ID_LENGTH - 1 - position] = digit
    chars = np.ascontiguousarray(_BASE62[codes])
    return chars.view(f"S{_ID_LENGTH}").ravel().astype(str)


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


def _genre_list_texts(stats: _DemoStats, slots: np.ndarray) -> np.ndarray:
    """Python-list text of each artist's genres, like the seed catalog (``"['dance pop', 'pop']"``).

    ``slots`` holds genre indices, -1 where an artist has fewer than three genres.
    """
    quoted = np.array([f"'{name}'" for name in stats.genre_names] + [""], dtype=object)
    parts = quoted[slots]  # -1 picks the trailing ""
    glue = np.where(slots[:, 1:] >= 0, ", ", "").astype(object)
    return "[" + parts[:, 0] + glue[:, 0] + parts[:, 1] + glue[:, 1] + parts[:, 2] + "]"


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
    rng: np.random.Generator, stats: _DemoStats, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Primary genre (all genres equally likely) plus 0-2 related genres per artist."""
    primary = rng.integers(0, stats.n_genres, size=size)
    n_genres = 1 + np.searchsorted(stats.genre_count_cdf, rng.random(size), side="right")
    n_genres = np.minimum(n_genres, 3)
    # Gumbel top-k: two distinct neighbours, drawn without replacement by weight.
    keys = stats.neighbour_logw[primary] + rng.gumbel(size=stats.neighbour_logw[primary].shape)
    order = np.argsort(-keys, axis=1)[:, :2]
    others = np.take_along_axis(stats.neighbours[primary], order, axis=1)
    slots = np.column_stack([primary, others])
    slots[np.arange(3) >= n_genres[:, None]] = -1
    return slots, n_genres


def _artist_latent(rng: np.random.Generator, stats: _DemoStats, primary: np.ndarray) -> np.ndarray:
    """Artist components with their primary genre's score correlation."""
    white = rng.standard_normal((len(primary), len(stats.columns)))
    return np.einsum("aij,aj->ai", stats.cholesky[primary], white)


def _quantile_lookup(
    stats: _DemoStats, genre: np.ndarray, column: int, u: np.ndarray
) -> np.ndarray:
    """Evaluate one column's quantile function of each row's genre at probabilities ``u``."""
    table = stats.quantiles[:, column, :]
    pos = np.clip(u, 0.0, 1.0) * (table.shape[1] - 1)
    low = np.minimum(pos.astype(np.int64), table.shape[1] - 2)
    frac = pos - low
    return table[genre, low] + frac * (table[genre, low + 1] - table[genre, low])


def _make_artists(plan: _Plan, block: int) -> _Artists:
    """Generate one fixed block of artists.

    The block is always generated whole, so an artist's attributes depend on the seed and its
    index only, not on how many songs or artists the catalog has.
    """
    stats = _stats()
    first = block * ARTIST_BLOCK
    index = np.arange(first, first + ARTIST_BLOCK, dtype=np.int64)
    rng = _rng(plan.seed, 1, block)
    slots, n_genres = _artist_genres(rng, stats, len(index))
    primary = slots[:, 0]
    latent = _artist_latent(rng, stats, primary)
    rate = stats.explicit_rate[primary]
    conc = stats.explicit_concentration
    explicit_p = rng.beta(rate * conc, (1.0 - rate) * conc)
    pop_col = stats.column("popularity")
    typical = _quantile_lookup(stats, primary, pop_col, ndtr(latent[:, pop_col]))
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
        ids=_base62_ids(rng, index, plan.artist_salt),
        names=_artist_names(index, plan.name_salt),
        genres_text=_genre_list_texts(stats, slots),
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
    rng: np.random.Generator, stats: _DemoStats, genre: np.ndarray, artist_latent: np.ndarray
) -> np.ndarray:
    """Copula normal scores: shared artist part plus a song part, both genre-correlated."""
    white = rng.standard_normal((len(genre), len(stats.columns)))
    own = np.empty_like(white)
    order = np.argsort(genre, kind="stable")
    bounds = np.flatnonzero(np.diff(genre[order])) + 1
    for rows in np.split(order, bounds):
        if len(rows):
            own[rows] = white[rows] @ stats.cholesky[genre[rows[0]]].T
    share = stats.artist_share
    return np.sqrt(share) * artist_latent + np.sqrt(1.0 - share) * own


def _song_values(stats: _DemoStats, genre: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Map normal scores through each genre's quantile functions to feature values."""
    u = ndtr(scores)
    values = {
        name: _quantile_lookup(stats, genre, col, u[:, col])
        for col, name in enumerate(stats.columns)
    }
    for name in _UNIT_COLUMNS:
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
    stats = _stats()
    start = block * SONG_BLOCK
    song_index = np.arange(start, min(start + SONG_BLOCK, plan.n_songs), dtype=np.int64)
    artist_index = np.searchsorted(plan.artist_starts, song_index, side="right") - 1
    artists = cache.gather(int(artist_index[0]), int(artist_index[-1]))
    local = artist_index - artists.first
    rng = _rng(plan.seed, 2, block)
    size = len(song_index)
    genre = _song_genres(rng, artists, local)
    values = _song_values(stats, genre, _song_scores(rng, stats, genre, artists.latent[local]))
    key_u = rng.random(size)
    return {
        "id_songs": _base62_ids(rng, song_index, plan.song_salt),
        "name_song": _song_titles(rng, size),
        "popularity_songs": values["popularity"],
        "duration_ms": values["duration_ms"],
        "explicit": (rng.random(size) < artists.explicit_p[local]).astype(np.int64),
        "id_artists": artists.ids[local],
        "release_date": _release_dates(rng, values["release_year"]),
        "danceability": values["danceability"],
        "energy": values["energy"],
        "key": (stats.key_cdf[genre] < key_u[:, None]).sum(axis=1).clip(0, 11),
        "loudness": values["loudness"],
        "mode": (rng.random(size) < stats.mode_rate[genre]).astype(np.int64),
        "speechiness": values["speechiness"],
        "acousticness": values["acousticness"],
        "instrumentalness": values["instrumentalness"],
        "liveness": values["liveness"],
        "valence": values["valence"],
        "tempo": values["tempo"],
        "time_signature": rng.choice(
            stats.time_signatures, size=size, p=stats.time_signature_probs
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


def _empty_frame() -> pd.DataFrame:
    """A zero-row catalog with the seed columns and their usual dtypes."""
    return next(iter_catalog_chunks(1)).iloc[:0]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _check_count(value: object, name: str, minimum: int) -> int:
    """Validate an integer option, raising :class:`ConfigError` with what to do."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(
            f"demo catalog: {name} must be a whole number, got {value!r}; pass an int."
        )
    if value < minimum:
        raise ConfigError(
            f"demo catalog: {name} must be at least {minimum}, got {value}; pass a larger value."
        )
    if name == "n_songs" and value > _ID_SPACE:
        raise ConfigError(
            f"demo catalog: n_songs can be at most {_ID_SPACE:,} (the distinct song ids the "
            f"generator can make), got {value:,}; generate several catalogs with other seeds."
        )
    return int(value)


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
    n_songs = _check_count(n_songs, "n_songs", 0)
    chunk_size = _check_count(chunk_size, "chunk_size", 1)
    random_state = _check_count(random_state, "random_state", 0)
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
        return _empty_frame()
    if len(chunks) == 1:
        return chunks[0]
    return pd.concat(chunks, ignore_index=True)


class _TableWriter(Protocol):
    """What write_catalog needs of Arrow's CSV and Parquet writers."""

    def write_table(self, table: pa.Table) -> None: ...

    def close(self) -> None: ...


def _arrow_table(chunk: pd.DataFrame, schema: pa.Schema | None) -> pa.Table:
    """A chunk as an Arrow table; release_date becomes text ("1922", "2016-07-15")."""
    frame = chunk.assign(release_date=chunk["release_date"].astype(str))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table if schema is None else table.cast(schema)


def _open_writer(handle: BinaryIO, suffix: str, schema: pa.Schema) -> _TableWriter:
    """Streaming CSV or Parquet writer on an open binary file."""
    if suffix == ".parquet":
        return pq.ParquetWriter(handle, schema)
    # Arrow's CSV writer is ~7x faster than DataFrame.to_csv; it quotes every text value,
    # which any CSV reader parses to the same table.
    return pa_csv.CSVWriter(
        handle, schema, write_options=pa_csv.WriteOptions(quoting_style="needed")
    )


def _write_chunks(
    handle: BinaryIO, suffix: str, chunks: Iterator[pd.DataFrame], report: Callable[[int], None]
) -> None:
    """Write the chunks to an open binary file as CSV or Parquet, one after the other."""
    writer: _TableWriter | None = None
    schema: pa.Schema | None = None
    try:
        for chunk in chunks:
            table = _arrow_table(chunk, schema)
            if writer is None:
                schema = table.schema
                writer = _open_writer(handle, suffix, schema)
            writer.write_table(table)
            report(len(chunk))
    finally:
        if writer is not None:
            writer.close()


def write_catalog(
    path: str | os.PathLike[str],
    n_songs: int,
    *,
    random_state: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Generate a demo catalog and write it to ``path`` atomically, chunk by chunk.

    The file type follows the suffix: ``.csv`` (UTF-8, header, no index; ``release_date`` years
    and dates as written by pandas) or ``.parquet`` (``release_date`` as text). The catalog is
    written to a temporary file in the same folder, flushed and fsynced, then renamed over
    ``path``, so readers never see a half-written catalog and a crash leaves any old file intact.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its folder is created if missing.
    n_songs : int
        Number of songs; see :func:`generate_catalog`.
    random_state : int, default 0
        Seed; the file holds exactly ``generate_catalog(n_songs, random_state=random_state)``.
    progress : callable, optional
        Called as ``progress(done, total)`` with song counts: once with ``done=0`` and after
        each chunk, so a CLI can draw a progress bar.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ConfigError
        If the suffix is neither ``.csv`` nor ``.parquet`` or ``n_songs`` is invalid.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(
            f"{target}: the demo catalog can be written as .csv or .parquet, not "
            f"{suffix or 'a file without suffix'!r}; choose a path ending in .csv or .parquet."
        )
    n_songs = _check_count(n_songs, "n_songs", 0)
    chunks = iter_catalog_chunks(n_songs, random_state=random_state)
    if n_songs == 0:
        chunks = iter([_empty_frame()])
    done = 0

    def report(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done, n_songs)

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            report(0)
            _write_chunks(handle, suffix, chunks, report)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)
    return target


def _fsync_folder(folder: Path) -> None:
    """Persist the rename itself (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
