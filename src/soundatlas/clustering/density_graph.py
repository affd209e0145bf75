"""Exact DBSCAN in O(n) memory: nearest neighbours, then connectivity of core songs within eps.

scikit-learn's DBSCAN lists every neighbour within eps of every song, which grows
quadratically in dense regions. Here:

1. one k-nearest-neighbour query per song, bounded by eps (k = min_samples, the song itself
   included), tells whether the song is core (k songs within eps) and, for a song that is not,
   lists *all* its neighbours within eps (it has fewer than k of them);
2. core songs are joined along their k-nearest-neighbour edges within eps, then in rounds of a
   Borůvka-style search: every group of joined core songs looks for a core song of another
   group within eps (a kd-tree query bounded by eps that skips its own group's subtrees) and
   joins it, until no group has one. Two core songs end in one group exactly when a chain of
   core songs, each within eps of the next, links them — DBSCAN's definition;
3. a non-core song within eps of a core song joins that song's cluster, else it is noise.

The kd-tree, its k-nearest-neighbour query, the group-aware bounded search and the disjoint
sets are fast_hdbscan's numba building blocks (pinned in pyproject.toml; tested against
scikit-learn's DBSCAN).
"""

from __future__ import annotations

import numba
import numpy as np
from fast_hdbscan.boruvka import component_aware_query_recursion, update_component_vectors
from fast_hdbscan.disjoint_set import ds_find, ds_rank_create, ds_union_by_rank
from fast_hdbscan.numba_kdtree import (
    build_kdtree,
    deheap_sort,
    point_to_node_lower_bound_rdist,
    tree_query_recursion,
)

from soundatlas.clustering.density_small import attach_border_points
from soundatlas.clustering.metrics import NOISE


def nearest_neighbours(
    x: np.ndarray, k: int, *, queries: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each query row's k nearest rows of ``x`` (itself first): distances ascending, indices
    (distance inf and index -1 where ``x`` has fewer than k rows).

    ``queries``: rows of ``x`` to query (default: every row).
    """
    tree = build_kdtree(np.ascontiguousarray(x, dtype=np.float32))
    rows = np.arange(len(x)) if queries is None else np.asarray(queries, dtype=np.int64)
    squared, indices = _bounded_query(tree, rows, k, np.float32(np.inf))
    distances = np.sqrt(squared.astype(np.float64))
    missing = indices < 0
    distances[missing] = np.inf
    return distances, indices.astype(np.int64)


@numba.njit(parallel=True, cache=True)
def _bounded_query(tree, rows, k, bound):
    found_distances = np.full((len(rows), k), bound, dtype=np.float32)
    found_indices = np.full((len(rows), k), -1, dtype=np.int32)
    for position in numba.prange(len(rows)):
        point = tree.data[rows[position]]
        lower = point_to_node_lower_bound_rdist(
            tree.node_bounds[0, 0], tree.node_bounds[1, 0], point
        )
        tree_query_recursion(
            tree, 0, point, found_distances[position], found_indices[position], lower
        )
    return deheap_sort(found_distances, found_indices)


def eps_neighbours(x: np.ndarray, k: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Up to k songs within eps of each song (itself included), and whether it is core.

    The search stops as soon as k songs within eps are found, which in dense regions is the
    first leaf or two of the tree: finding *a* k songs within eps decides that a song is core,
    and any of them serve as edges between core songs. A song that is not core has fewer than
    k songs within eps, so it gets all of them (nearest first), for attaching border songs.

    Returns
    -------
    distances, indices
        (n, k) arrays: distance inf and index -1 where fewer than k were found. Rows of
        non-core songs are sorted by distance.
    """
    tree = build_kdtree(np.ascontiguousarray(x, dtype=np.float32))
    bound = np.nextafter(np.float32(eps) ** 2, np.float32(np.inf), dtype=np.float32)
    squared, indices = _first_k_within(tree, k, bound)
    distances = np.sqrt(squared.astype(np.float64))
    order = np.argsort(distances, axis=1, kind="stable")
    distances = np.take_along_axis(distances, order, axis=1)
    indices = np.take_along_axis(indices.astype(np.int64), order, axis=1)
    return distances, indices


@numba.njit(parallel=True, cache=True)
def _first_k_within(tree, k, bound):
    n = tree.data.shape[0]
    found_distances = np.full((n, k), np.inf, dtype=np.float32)
    found_indices = np.full((n, k), -1, dtype=np.int32)
    for row in numba.prange(n):
        _collect_within(tree, tree.data[row], bound, k, found_distances[row], found_indices[row])
    return found_distances, found_indices


@numba.njit(cache=True)
def _collect_within(tree, point, bound, k, distances, indices):
    """Depth-first over the tree, nearer child first (an explicit stack, as numba caches
    recursive functions unreliably); stops once k points within the bound are collected."""
    stack = np.empty(128, dtype=np.int64)
    stack[0] = 0
    depth = 1
    count = 0
    while depth > 0 and count < k:
        depth -= 1
        node = stack[depth]
        lower = point_to_node_lower_bound_rdist(
            tree.node_bounds[0, node], tree.node_bounds[1, node], point
        )
        if lower > bound:
            continue
        if tree.is_leaf[node]:
            for position in range(tree.idx_start[node], tree.idx_end[node]):
                other = tree.idx_array[position]
                squared = np.float32(0.0)
                for axis in range(point.shape[0]):
                    gap = point[axis] - tree.data[other, axis]
                    squared += gap * gap
                if squared <= bound:
                    distances[count] = squared
                    indices[count] = other
                    count += 1
                    if count >= k:
                        break
            continue
        left, right = 2 * node + 1, 2 * node + 2
        left_lower = point_to_node_lower_bound_rdist(
            tree.node_bounds[0, left], tree.node_bounds[1, left], point
        )
        right_lower = point_to_node_lower_bound_rdist(
            tree.node_bounds[0, right], tree.node_bounds[1, right], point
        )
        # Push the farther child first so the nearer one is searched first.
        if left_lower <= right_lower:
            stack[depth], stack[depth + 1] = right, left
        else:
            stack[depth], stack[depth + 1] = left, right
        depth += 2


def dbscan_labels(
    x: np.ndarray, distances: np.ndarray, indices: np.ndarray, eps: float
) -> np.ndarray:
    """DBSCAN labels (-1 noise) from each song's k nearest neighbours (k = min_samples).

    ``distances``/``indices`` come from `nearest_neighbours` with k = min_samples.
    """
    n = len(x)
    core = distances[:, -1] <= eps
    labels = np.full(n, NOISE, dtype=np.int64)
    core_rows = np.flatnonzero(core)
    if len(core_rows):
        labels[core_rows] = _core_groups(x, distances, indices, core, core_rows, eps)
    attach_border_points(labels, distances, indices, core, eps)
    return labels


def _core_groups(
    x: np.ndarray,
    distances: np.ndarray,
    indices: np.ndarray,
    core: np.ndarray,
    core_rows: np.ndarray,
    eps: float,
) -> np.ndarray:
    local = np.full(len(x), -1, dtype=np.int64)
    local[core_rows] = np.arange(len(core_rows))
    near = distances[core_rows] <= eps
    neighbours = indices[core_rows]
    joined = near & (neighbours >= 0) & core[np.maximum(neighbours, 0)]
    sources = np.repeat(np.arange(len(core_rows)), joined.sum(axis=1))
    targets = local[neighbours[joined]]
    tree = build_kdtree(np.ascontiguousarray(x[core_rows], dtype=np.float32))
    # Squared distances in float32, nudged up so "within eps" includes eps itself.
    bound = np.nextafter(np.float32(eps) ** 2, np.float32(np.inf), dtype=np.float32)
    return _join_groups(tree, sources, targets, bound)


@numba.njit(cache=True)
def _join_groups(tree, sources, targets, bound):
    n = tree.data.shape[0]
    groups = ds_rank_create(n)
    for edge in range(len(sources)):
        ds_union_by_rank(groups, np.int32(sources[edge]), np.int32(targets[edge]))
    point_groups = np.arange(n)
    node_groups = np.full(tree.idx_start.shape[0], -1)
    update_component_vectors(tree, groups, node_groups, point_groups)
    while True:
        found = _nearest_other_group(tree, node_groups, point_groups, bound)
        merged = 0
        for point in range(n):
            other = found[point]
            if other >= 0:
                first = ds_find(groups, np.int32(point))
                second = ds_find(groups, np.int32(other))
                if first != second:
                    ds_union_by_rank(groups, first, second)
                    merged += 1
        if merged == 0:
            break
        update_component_vectors(tree, groups, node_groups, point_groups)
    labels = np.empty(n, dtype=np.int64)
    for point in range(n):
        labels[point] = ds_find(groups, np.int32(point))
    return labels


@numba.njit(parallel=True, cache=True)
def _nearest_other_group(tree, node_groups, point_groups, bound):
    """For each core song, a core song of another group within the bound (or -1)."""
    n = tree.data.shape[0]
    best = np.full(n, bound, dtype=np.float32)
    found = np.full(n, -1, dtype=np.int32)
    group_best = np.full(n, bound, dtype=np.float32)
    no_core_distance = np.zeros(n, dtype=np.float32)
    for point in numba.prange(n):
        lower = point_to_node_lower_bound_rdist(
            tree.node_bounds[0, 0], tree.node_bounds[1, 0], tree.data[point]
        )
        group = point_groups[point]
        component_aware_query_recursion(
            tree,
            np.int32(0),
            tree.data[point],
            best[point : point + 1],
            found[point : point + 1],
            np.float32(0.0),
            no_core_distance,
            group,
            node_groups,
            point_groups,
            lower,
            group_best[group : group + 1],
        )
    return found
