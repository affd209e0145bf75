"""Exact DBSCAN for catalogs whose every song's k-nearest list is computed anyway (see
`soundatlas.clustering.dbscan.CURVE_SAMPLE`), with SciPy's kd-tree and nothing to compile.

`soundatlas.clustering.density_graph` needs numba kernels and fast_hdbscan's kd-tree, whose
first compilation was most of a new install's first build; at these sizes SciPy's kd-tree
answers as fast as those compiled kernels, and the core songs' pairs within eps are few enough
to list (measurements in docs/DESIGN.md, "Start-up"). Connectivity is SciPy's connected
components. The result is DBSCAN's, as `density_graph` gives it: same core songs, clusters and
noise as scikit-learn's, border songs joining their nearest core song's cluster.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from soundatlas.clustering.metrics import NOISE

PAIR_LIMIT = 20_000_000
"""Most core-song pairs within eps listed at once (320 MB of indices); a wider eps (one given
by hand, say) is left to `density_graph`, whose memory does not grow with the pairs."""
COUNT_SAMPLE = 1_000
"""Core songs whose neighbours within eps are counted to estimate the pairs before listing."""


def nearest_neighbours(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each song's k nearest songs (itself among them): distances ascending, and indices."""
    distances, indices = cKDTree(np.asarray(x, dtype=np.float64)).query(x, k=k, workers=-1)
    return distances, indices.astype(np.int64)


def dbscan_labels(
    x: np.ndarray, distances: np.ndarray, indices: np.ndarray, eps: float
) -> np.ndarray | None:
    """DBSCAN labels (-1 noise) from every song's k nearest neighbours (k = min_samples,
    distances above eps already cut to inf), or None when the core songs have more than
    `PAIR_LIMIT` pairs within eps."""
    core = distances[:, -1] <= eps
    labels = np.full(len(x), NOISE, dtype=np.int64)
    core_rows = np.flatnonzero(core)
    if len(core_rows):
        points = np.asarray(x, dtype=np.float64)[core_rows]
        tree = cKDTree(points)
        if _pairs_within(tree, points, eps) > PAIR_LIMIT:
            return None
        pairs = tree.query_pairs(eps, output_type="ndarray")
        graph = coo_matrix(
            (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
            shape=(len(core_rows), len(core_rows)),
        )
        labels[core_rows] = connected_components(graph, directed=False)[1]
    attach_border_points(labels, distances, indices, core, eps)
    return labels


def _pairs_within(tree: cKDTree, points: np.ndarray, eps: float) -> float:
    """About how many pairs of ``points`` lie within eps, from the neighbour counts of up to
    `COUNT_SAMPLE` of them evenly spread (counting them all costs more than listing them)."""
    sample = np.unique(np.linspace(0, len(points) - 1, COUNT_SAMPLE).astype(np.int64))
    counts = tree.query_ball_point(points[sample], eps, return_length=True)
    return float(np.mean(counts) - 1) * len(points) / 2


def attach_border_points(
    labels: np.ndarray,
    distances: np.ndarray,
    indices: np.ndarray,
    core: np.ndarray,
    eps: float,
) -> None:
    """Give each non-core song the cluster of its nearest core neighbour within eps, if any.

    A non-core song has fewer than k songs within eps, so all of them are in its k-list.
    """
    others = np.flatnonzero(~core)
    if not len(others):
        return
    candidates = indices[others]
    eligible = (distances[others] <= eps) & (candidates >= 0) & core[np.maximum(candidates, 0)]
    first = eligible.argmax(axis=1)
    found = eligible[np.arange(len(others)), first]
    labels[others[found]] = labels[candidates[np.arange(len(others)), first][found]]
