"""DBSCAN (and HDBSCAN) on every song, from one minimum spanning tree.

Instead of scikit-learn's DBSCAN, whose memory grows with the number of neighbours within eps
(quadratic when eps is large), the clustering is read off the minimum spanning tree of the
mutual-reachability graph computed by fast_hdbscan in O(n) memory:

* the core distance of a song (distance to its ``min_samples``-th neighbour, counting itself as
  scikit-learn does) gives the k-distance curve for choosing eps, over every song;
* core songs are those with core distance <= eps, and two core songs are in the same DBSCAN
  cluster exactly when the tree path between them has no edge above eps;
* a non-core song within eps of a core song joins that song's cluster (border point), else it is
  noise. All songs within eps of a non-core song are among its neighbours, so this is exact.

The same tree gives HDBSCAN's clusters when that algorithm is chosen.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from soundatlas.clustering.metrics import (
    NOISE,
    SilhouetteSample,
    centroids,
    relabel_by_size,
    score_labels,
)
from soundatlas.clustering.result import ClusteringResult
from soundatlas.clustering.selection import knee
from soundatlas.errors import ConfigError

DENSITY_ALGORITHMS: tuple[str, ...] = ("dbscan", "hdbscan")
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
    min_cluster_size: int | None = None,
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
    edges, neighbours, core = spanning_tree(x, min_samples)
    timings = {"spanning_tree": time.perf_counter() - started}
    tick(0.7)
    curve = np.sort(core)
    if algorithm == "hdbscan":
        labels, params, rule = _hdbscan(edges, n, min_samples, min_cluster_size)
    else:
        if eps is None:
            eps, rule = _eps_from_knee(curve, min_samples, dimensions)
        else:
            rule = f"eps={eps:g} fixed by the user"
        labels = _dbscan_labels(x, edges, neighbours, core, float(eps))
        params = {"eps": float(eps), "min_samples": min_samples}
    labels = relabel_by_size(labels)
    timings["labels"] = time.perf_counter() - started - timings["spanning_tree"]
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
            "core_songs": int(np.sum(core <= params.get("eps", -1.0))) if "eps" in params else None,
        },
    )


def spanning_tree(x: np.ndarray, min_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mutual-reachability minimum spanning tree, each song's nearest neighbours, core distances.

    ``min_samples`` counts the song itself (scikit-learn's convention); fast_hdbscan counts only
    the others, hence the minus one.
    """
    from fast_hdbscan.hdbscan import compute_minimum_spanning_tree

    data = np.ascontiguousarray(x, dtype=np.float64)
    edges, neighbours, core = compute_minimum_spanning_tree(data, min_samples=min_samples - 1)
    return np.asarray(edges), np.asarray(neighbours), np.asarray(core, dtype=np.float64)


def _eps_from_knee(curve: np.ndarray, min_samples: int, dimensions: int) -> tuple[float, str]:
    cut = max(3, int(len(curve) * KNEE_QUANTILE))
    at = knee(curve[:cut], convex=True)
    eps = float(curve[at])
    share = (at + 1) / len(curve)
    why_samples = (
        f"2 × {dimensions} features"
        if min_samples == 2 * dimensions
        else "chosen by you or capped for a small catalog"
    )
    return eps, (
        f"eps={eps:.3f} at the knee of the {min_samples}-distance curve of all songs "
        f"({share:.0%} of songs have a {min_samples}-distance at or below it); "
        f"min_samples={min_samples} ({why_samples})"
    )


def _dbscan_labels(
    x: np.ndarray, edges: np.ndarray, neighbours: np.ndarray, core: np.ndarray, eps: float
) -> np.ndarray:
    n = len(x)
    is_core = core <= eps
    kept = edges[edges[:, 2] <= eps]
    graph = coo_matrix(
        (np.ones(len(kept)), (kept[:, 0].astype(np.int64), kept[:, 1].astype(np.int64))),
        shape=(n, n),
    )
    _, components = connected_components(graph, directed=False)
    labels = np.where(is_core, components, NOISE).astype(np.int64)
    _attach_border_points(x, labels, neighbours, is_core, eps)
    return labels


def _attach_border_points(
    x: np.ndarray,
    labels: np.ndarray,
    neighbours: np.ndarray,
    is_core: np.ndarray,
    eps: float,
    block: int = 100_000,
) -> None:
    """Give each non-core song the cluster of its nearest core neighbour within eps, if any."""
    others = np.flatnonzero(~is_core)
    for start in range(0, len(others), block):
        rows = others[start : start + block]
        candidates = neighbours[rows].astype(np.int64)
        distances = np.linalg.norm(x[candidates] - x[rows][:, None, :], axis=2)
        eligible = (distances <= eps) & is_core[candidates] & (candidates >= 0)
        distances = np.where(eligible, distances, np.inf)
        nearest = distances.argmin(axis=1)
        found = np.isfinite(distances[np.arange(len(rows)), nearest])
        labels[rows[found]] = labels[candidates[np.arange(len(rows)), nearest][found]]


def _hdbscan(
    edges: np.ndarray, n: int, min_samples: int, min_cluster_size: int | None
) -> tuple[np.ndarray, dict, str]:
    from fast_hdbscan.hdbscan import clusters_from_spanning_tree

    size = min_cluster_size or max(2 * min_samples, n // 100)
    labels = clusters_from_spanning_tree(edges, min_cluster_size=size)[0]
    rule = (
        f"HDBSCAN with min_cluster_size={size} (the larger of 2 × min_samples and 1% of songs) "
        f"and min_samples={min_samples}; clusters chosen by excess of mass"
    )
    params = {"min_cluster_size": size, "min_samples": min_samples}
    return np.asarray(labels, dtype=np.int64), params, rule
