"""Per-genre figures the demo generator samples from, loaded from the shipped JSON.

``soundatlas/data/demo_genre_stats.json`` (built by ``scripts/build_demo_stats.py`` from public
Spotify audio-feature tables) describes each of 112 genres by a Gaussian copula: the quantiles of
each column plus the correlation of their normal scores, with key, mode and explicit rates and
the genres an artist of the genre may also have. It holds derived figures only, never rows, ids
or names of the sources. :func:`genre_figures` turns it into arrays once per process.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class GenreFigures:
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
def genre_figures() -> GenreFigures:
    """Load ``demo_genre_stats.json`` once per process (it ships inside the package)."""
    source = resources.files("soundatlas") / "data" / "demo_genre_stats.json"
    raw = json.loads(source.read_text(encoding="utf-8"))
    columns = tuple(raw["columns"])
    genres = raw["genres"]
    size = len(columns)
    logw = [[math.log(w) for _, w in g["neighbours"]] for g in genres]
    icc = raw["explicit_artist_icc"]
    return GenreFigures(
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


def quantile_lookup(
    figures: GenreFigures, genre: np.ndarray, column: int, u: np.ndarray
) -> np.ndarray:
    """Evaluate one column's quantile function of each row's genre at probabilities ``u``."""
    table = figures.quantiles[:, column, :]
    pos = np.clip(u, 0.0, 1.0) * (table.shape[1] - 1)
    low = np.minimum(pos.astype(np.int64), table.shape[1] - 2)
    frac = pos - low
    return table[genre, low] + frac * (table[genre, low + 1] - table[genre, low])


def genre_list_texts(figures: GenreFigures, slots: np.ndarray) -> np.ndarray:
    """Python-list text of each artist's genres, like the seed catalog (``"['dance pop', 'pop']"``).

    ``slots`` holds genre indices, -1 where an artist has fewer than three genres.
    """
    quoted = np.array([f"'{name}'" for name in figures.genre_names] + [""], dtype=object)
    parts = quoted[slots]  # -1 picks the trailing ""
    glue = np.where(slots[:, 1:] >= 0, ", ", "").astype(object)
    return "[" + parts[:, 0] + glue[:, 0] + parts[:, 1] + glue[:, 1] + parts[:, 2] + "]"
