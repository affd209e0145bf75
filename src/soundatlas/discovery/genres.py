"""The genre lens: do a catalog's genre labels match how its songs sound?

For data teams checking labels: how each genre's songs spread over a method's clusters (purity:
the share in its main cluster; entropy: how evenly spread, in bits), how much genres and
clusters agree overall (NMI and adjusted Rand per method), and the songs that sit farthest from
the sound of every genre they are labelled with: candidate mislabels, each with the genre whose
sound it is nearest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.personas import exploded_genres
from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.discovery.index import DiscoveryIndex, discovery_index
from soundatlas.errors import ConfigError, LookupFailed

MAX_OUTLIERS = 10_000


@dataclass(frozen=True)
class GenreLens:
    """Genres against clusters, for one method (agreement for every method).

    Attributes
    ----------
    genres
        One row per genre with at least ``min_songs`` songs: ``genre, songs, clusters`` (how
        many clusters hold its songs), ``top_cluster, top_persona, purity`` (share of its
        songs in that cluster), ``entropy`` (bits; 0 = all in one cluster) and ``spread``
        (mean distance of its songs to its centroid, scaled units). Purest first.
    agreement
        ``method, nmi, adjusted_rand, songs``: agreement between each song's first genre and
        its cluster, per method (DBSCAN noise counts as one more group).
    outliers
        ``rank, z, distance, genre, nearest_genre, nearest_distance`` then the song columns:
        songs whose distance to the centroid of their best-fitting genre is most unusual for
        that genre (``z``: standard deviations above the genre's mean distance).
    method
        The method ``genres`` describes.
    """

    genres: pd.DataFrame
    agreement: pd.DataFrame
    outliers: pd.DataFrame
    method: str


def genre_lens(
    atlas: Atlas, *, method: str = "kmeans", min_songs: int = 5, outliers: int = 50
) -> GenreLens:
    """Check genre labels against the sound of the songs.

    Parameters
    ----------
    atlas
        A built or loaded atlas whose catalog has genre labels.
    method
        Method whose clusters the genres are compared with.
    min_songs
        Genres with fewer songs are left out (their centroid and spread mean little).
    outliers
        How many candidate mislabels to list (0-10,000).

    Raises
    ------
    LookupFailed
        If the method was not run or the catalog has no genres.
    ConfigError
        If an option is out of range, or no genre has ``min_songs`` songs.

    Examples
    --------
    >>> lens = genre_lens(atlas, method="hierarchical")  # doctest: +SKIP
    >>> lens.agreement, lens.outliers.head()  # doctest: +SKIP
    """
    atlas.require_method(method)
    if isinstance(min_songs, bool) or not isinstance(min_songs, (int, np.integer)) or min_songs < 2:
        raise ConfigError(f"min_songs={min_songs!r}: must be a whole number of at least 2.")
    if (
        isinstance(outliers, bool)
        or not isinstance(outliers, (int, np.integer))
        or not 0 <= outliers <= MAX_OUTLIERS
    ):
        raise ConfigError(
            f"outliers={outliers!r}: must be a whole number from 0 to {MAX_OUTLIERS:,}."
        )
    index = discovery_index(atlas)
    pairs = exploded_genres(atlas.tracks)
    if pairs.empty:
        raise LookupFailed(
            "genre lens: this catalog has no genre labels; rebuild the atlas from a file with a "
            "genre column."
        )
    rows = pairs["row"].to_numpy(dtype=np.int64)
    codes, names = pd.factorize(pairs["genre"], sort=True)
    sizes = np.bincount(codes, minlength=len(names))
    kept = sizes >= min_songs
    if not kept.any():
        raise ConfigError(
            f"min_songs={min_songs}: no genre has that many songs (the largest has "
            f"{sizes.max():,}); lower min_songs."
        )
    keep_pair = kept[codes]
    rows, codes = rows[keep_pair], codes[keep_pair]
    values = index.scaled[rows].astype(np.float64)
    centroids = _centroids(values, codes, len(names))
    distance = np.linalg.norm(values - centroids[codes], axis=1)
    table = _genre_table(atlas, index, method, rows, codes, np.asarray(names), kept, distance)
    return GenreLens(
        method=method,
        genres=table,
        agreement=_agreement(atlas, index),
        outliers=_outliers(
            index, rows, codes, np.asarray(names), kept, centroids, distance, outliers
        ),
    )


def _centroids(values: np.ndarray, codes: np.ndarray, count: int) -> np.ndarray:
    """Mean scaled features (``values``, one row per song) of each genre's songs (zeros for
    genres left out)."""
    sizes = np.maximum(np.bincount(codes, minlength=count), 1)
    sums = np.column_stack(
        [np.bincount(codes, weights=values[:, j], minlength=count) for j in range(values.shape[1])]
    )
    return sums / sizes[:, None]


def _genre_table(
    atlas: Atlas,
    index: DiscoveryIndex,
    method: str,
    rows: np.ndarray,
    codes: np.ndarray,
    names: np.ndarray,
    kept: np.ndarray,
    distance: np.ndarray,
) -> pd.DataFrame:
    labels = index.labels[method][rows].astype(np.int64)
    low = int(labels.min())
    width = int(labels.max()) - low + 1
    counts = np.bincount(codes * width + (labels - low), minlength=len(names) * width)
    counts = counts.reshape(len(names), width)[kept]
    sizes = counts.sum(axis=1)
    shares = counts / sizes[:, None]
    top = np.argmax(counts, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nansum(np.where(shares > 0, shares * np.log2(shares), 0.0), axis=1)
    spread = np.bincount(codes, weights=distance, minlength=len(names))[kept] / sizes
    personas = atlas.personas_of(method).set_index("cluster")["persona"]
    top_cluster = top + low
    table = pd.DataFrame(
        {
            "genre": names[kept].astype(object),
            "songs": sizes.astype(np.int64),
            "clusters": (counts > 0).sum(axis=1).astype(np.int64),
            "top_cluster": top_cluster.astype(np.int64),
            "top_persona": personas.reindex(top_cluster).to_numpy(dtype=object),
            "purity": counts[np.arange(len(top)), top] / sizes,
            "entropy": np.abs(entropy),
            "spread": spread,
        }
    )
    table = table.sort_values(["purity", "genre"], ascending=[False, True], kind="stable")
    return table.reset_index(drop=True)


def _agreement(atlas: Atlas, index: DiscoveryIndex) -> pd.DataFrame:
    """NMI and adjusted Rand between each song's first genre and each method's clusters."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    has = np.fromiter(map(len, index.genre_lists), dtype=np.int64, count=index.size) > 0
    first = [items[0] for items in index.genre_lists[has]]
    rows = []
    for method in index.methods:
        labels = index.labels[method][has]
        rows.append(
            {
                "method": method,
                "title": METHOD_TITLES[method],
                "nmi": float(normalized_mutual_info_score(first, labels)),
                "adjusted_rand": float(adjusted_rand_score(first, labels)),
                "songs": int(has.sum()),
            }
        )
    return pd.DataFrame(rows)


def _outliers(
    index: DiscoveryIndex,
    rows: np.ndarray,
    codes: np.ndarray,
    names: np.ndarray,
    kept: np.ndarray,
    centroids: np.ndarray,
    distance: np.ndarray,
    count: int,
) -> pd.DataFrame:
    sizes = np.maximum(np.bincount(codes, minlength=len(names)), 1)
    mean = np.bincount(codes, weights=distance, minlength=len(names)) / sizes
    square = np.bincount(codes, weights=distance * distance, minlength=len(names)) / sizes
    spread = np.sqrt(np.maximum(square - mean * mean, 0.0))
    z = (distance - mean[codes]) / np.where(spread[codes] > 0, spread[codes], 1.0)
    # A song labelled with several genres is judged by the one it fits best.
    order = np.lexsort((codes, z, rows))
    first = np.concatenate([[True], rows[order][1:] != rows[order][:-1]])
    best = order[first]
    best = best[np.lexsort((rows[best], -z[best]))][:count]
    chosen = rows[best]
    kept_codes = np.flatnonzero(kept)
    gaps = np.linalg.norm(
        index.scaled[chosen].astype(np.float64)[:, None, :] - centroids[kept_codes][None, :, :],
        axis=2,
    )
    nearest = kept_codes[np.argmin(gaps, axis=1)] if len(chosen) else kept_codes[:0]
    song = index.song_columns(chosen)
    table: dict[str, object] = {
        "rank": np.arange(1, len(chosen) + 1),
        "z": z[best],
        "distance": distance[best],
        "genre": names[codes[best]].astype(object),
        "nearest_genre": names[nearest].astype(object),
        "nearest_distance": gaps.min(axis=1) if len(chosen) else np.zeros(0),
        **song,
    }
    return pd.DataFrame(table)
