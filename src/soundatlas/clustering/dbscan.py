"""DBSCAN (and HDBSCAN) on every song.

Up to `CURVE_SAMPLE` songs DBSCAN runs on SciPy's kd-tree (`soundatlas.clustering.
density_small`: nothing to compile, the core songs' pairs within eps listed); above, through
`soundatlas.clustering.density_graph` in O(n) memory: one nearest-neighbour query per song,
then the connectivity of core songs within eps, without ever listing every neighbour within
eps. Both equal scikit-learn's DBSCAN (same core songs, same clusters, same noise; border songs
reachable from two clusters join the nearer). eps is the knee of the k-distance
curve of every song. HDBSCAN, when chosen, is read off fast_hdbscan's minimum spanning tree of
the mutual-reachability graph (slower above a few hundred thousand songs).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from soundatlas.clustering import density_small
from soundatlas.clustering.metrics import (
    NOISE,
    SilhouetteSample,
    centroids,
    relabel_by_size,
    score_labels,
)
from soundatlas.clustering.result import ClusteringResult
from soundatlas.clustering.selection import knee
from soundatlas.config import DENSITY_ALGORITHMS
from soundatlas.errors import ConfigError

# `density_graph` is imported where it is used: it loads fast_hdbscan, whose numba kernels
# compile on first import (most of a new install's first build), which catalogs of up to
# CURVE_SAMPLE songs (`density_small`), `soundatlas --help` and the config need not pay for.
CURVE_SAMPLE = 20_000
"""Above this many songs the k-distance curve (which eps is read from) is measured on a random
sample of this many songs, each searched against every song: its quantiles are those of the
whole curve to within a fraction of a percent (95,837 songs: eps 1.1349 against 1.1353), and
the unbounded k-nearest search of every song was most of DBSCAN's time (7.4 of 7.7 s). Core songs
are still found among all songs, with a search bounded by eps."""
KNEE_QUANTILE = 0.99
"""The knee is looked for below this quantile of the k-distance curve: the last 1% are far
outliers whose huge distances would flatten the rest of the curve and push the knee right."""


def default_min_samples(n: int, dimensions: int) -> int:
    """Twice the number of features (Sander et al.'s rule), capped for very small catalogs."""
    return int(max(3, min(2 * dimensions, n // 5)))


def cluster_density(
    x: np.ndarray,
    *,
    sample: SilhouetteSample,
    algorithm: str = "dbscan",
    eps: float | None = None,
    min_samples: int | None = None,
    random_state: int = 0,
    progress: Callable[[float], None] | None = None,
) -> ClusteringResult:
    """Cluster scaled features by density; noise is labelled -1 and reported, not hidden."""
    if algorithm not in DENSITY_ALGORITHMS:
        raise ConfigError(
            f"density algorithm '{algorithm}': use one of {', '.join(DENSITY_ALGORITHMS)}."
        )
    tick = progress or (lambda fraction: None)
    n, dimensions = x.shape
    min_samples = min_samples or default_min_samples(n, dimensions)
    if not 2 <= min_samples < n:
        raise ConfigError(f"min_samples={min_samples}: must be at least 2 and below the {n} songs.")
    started = time.perf_counter()
    neighbours = _k_nearest(x, min_samples, random_state)
    curve = np.sort(neighbours[0][:, -1])
    timings = {"k_distance_curve": time.perf_counter() - started}
    tick(0.4)
    if algorithm == "hdbscan":
        labels, params, rule = _hdbscan(x, min_samples)
    else:
        if eps is None:
            eps, rule = _eps_from_knee(curve, min_samples, dimensions, n)
        else:
            rule = f"eps={eps:g} fixed by the user"
        distances, indices = _within(x, min_samples, float(eps), neighbours)
        tick(0.8)
        labels = _dbscan_labels(x, distances, indices, float(eps))
        params = {"eps": float(eps), "min_samples": min_samples}
    labels = relabel_by_size(labels)
    timings["labels"] = time.perf_counter() - started - timings["k_distance_curve"]
    tick(1.0)
    quantiles = np.linspace(0.0, 1.0, 101)
    return ClusteringResult(
        method="dbscan",
        labels=labels,
        params=params | {"algorithm": algorithm},
        rule=rule,
        scores=score_labels(x, labels, sample),
        selection=None,
        centroids=centroids(x, labels),
        timings=timings,
        details={
            "k_distance_quantiles": [float(v) for v in np.quantile(curve, quantiles)],
            "noise_songs": int(np.sum(labels == NOISE)),
            "k_distance_songs": len(curve),
        },
    )


def _k_nearest(x: np.ndarray, min_samples: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """k-nearest neighbours of every song, or of a random sample above CURVE_SAMPLE songs."""
    if len(x) <= CURVE_SAMPLE:
        return density_small.nearest_neighbours(x, min_samples)
    rng = np.random.default_rng(random_state)
    queries = np.sort(rng.choice(len(x), size=CURVE_SAMPLE, replace=False))
    from soundatlas.clustering import density_graph

    return density_graph.nearest_neighbours(x, min_samples, queries=queries)


def _dbscan_labels(
    x: np.ndarray, distances: np.ndarray, indices: np.ndarray, eps: float
) -> np.ndarray:
    """DBSCAN labels from SciPy's kd-tree when every song's neighbours are at hand and the
    core songs' pairs within eps are few enough to list, else from the compiled search."""
    if len(distances) == len(x):
        labels = density_small.dbscan_labels(x, distances, indices, eps)
        if labels is not None:
            return labels
    from soundatlas.clustering import density_graph

    return density_graph.dbscan_labels(x, distances, indices, eps)


def _within(
    x: np.ndarray, min_samples: int, eps: float, neighbours: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Songs within eps of every song: cut from the k-nearest search when it covered every
    song, else an early-stopping search bounded by eps (see `eps_neighbours`)."""
    distances, indices = neighbours
    if len(distances) < len(x):
        from soundatlas.clustering import density_graph

        return density_graph.eps_neighbours(x, min_samples, eps)
    beyond = distances > eps
    return np.where(beyond, np.inf, distances), np.where(beyond, -1, indices)


def _eps_from_knee(
    curve: np.ndarray, min_samples: int, dimensions: int, n: int
) -> tuple[float, str]:
    cut = max(3, int(len(curve) * KNEE_QUANTILE))
    at = knee(curve[:cut], convex=True)
    eps = float(curve[at])
    share = (at + 1) / len(curve)
    why_samples = (
        f"2 × {dimensions} features"
        if min_samples == 2 * dimensions
        else "chosen by you or capped for a small catalog"
    )
    songs = "all songs" if len(curve) == n else f"a random sample of {len(curve):,} songs"
    return eps, (
        f"eps={eps:.3f} at the knee of the {min_samples}-distance curve of {songs} "
        f"({share:.0%} of songs have a {min_samples}-distance at or below it); "
        f"min_samples={min_samples} ({why_samples})"
    )


def _hdbscan(x: np.ndarray, min_samples: int) -> tuple[np.ndarray, dict, str]:
    from fast_hdbscan.hdbscan import clusters_from_spanning_tree, compute_minimum_spanning_tree

    n = len(x)
    size = max(2 * min_samples, n // 100)
    # fast_hdbscan counts neighbours without the song itself; scikit-learn (and we) with it.
    edges, _, _ = compute_minimum_spanning_tree(
        np.ascontiguousarray(x, dtype=np.float64), min_samples=min_samples - 1
    )
    labels = clusters_from_spanning_tree(np.asarray(edges), min_cluster_size=size)[0]
    rule = (
        f"HDBSCAN with min_cluster_size={size} (the larger of 2 × min_samples and 1% of songs) "
        f"and min_samples={min_samples}; clusters chosen by excess of mass"
    )
    params = {"min_cluster_size": size, "min_samples": min_samples}
    return np.asarray(labels, dtype=np.int64), params, rule
