"""Ward merge trees of every song, exact, in O(n) memory.

scikit-learn's AgglomerativeClustering builds an n × n distance matrix (~37 GB for 95,837
songs), and fastcluster's ``linkage_vector`` avoids it but scans every cluster for each
nearest-neighbour query (63 s for 95,837 songs on this kind of machine). This module runs the
same exact algorithm — the nearest-neighbour chain, which is exact for Ward because Ward's
criterion is reducible — with a cheaper query: clusters are kept sorted along the data's first
principal axis, and a query walks outwards from the cluster's position, stopping on each side
once the gap along the axis alone makes Ward's criterion exceed the best found. Clusters
created by merges go to a small unsorted buffer that is scanned in full and folded back into
the sorted order every ``BUFFER`` merges. Same merges and heights as scipy's Ward (tested),
about three times faster than fastcluster.

Points may carry weights (the number of songs each stands for): the two-stage method used
above ``EXACT_LIMIT`` songs first cuts the songs into ``MICRO_CLUSTERS`` micro-clusters with
MiniBatchKMeans, then merges the micro-clusters by weighted Ward, which is exactly Ward on the
songs placed at their micro-cluster centres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from soundatlas.config import EXACT_LIMIT

MICRO_CLUSTERS = 2048


@dataclass(frozen=True)
class WardTree:
    """A Ward merge tree over ``leaves`` items and, for two-stage trees, each song's leaf."""

    linkage: np.ndarray
    variant: str
    leaf_of_song: np.ndarray | None = None
    merge_songs: np.ndarray | None = None
    """Songs under each merge (row order of ``linkage``); the linkage's own fourth column counts
    leaves, which for two-stage trees are micro-clusters."""

    @property
    def leaves(self) -> int:
        """Number of items the tree merges (songs, or micro-clusters)."""
        return len(self.linkage) + 1


def ward_tree(
    x: np.ndarray,
    *,
    exact_limit: int = EXACT_LIMIT,
    micro_clusters: int = MICRO_CLUSTERS,
    random_state: int = 0,
) -> WardTree:
    """Build the Ward tree of the scaled features (exact up to ``exact_limit`` songs)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    if len(x) <= exact_limit:
        linkage, songs = ward_linkage(x)
        return WardTree(linkage, "exact: nearest-neighbour chain on every song", None, songs)
    from sklearn.cluster import MiniBatchKMeans

    model = MiniBatchKMeans(
        n_clusters=micro_clusters,
        batch_size=8192,
        n_init=1,
        max_no_improvement=20,
        random_state=random_state,
    ).fit(x)
    leaf_of_song = model.labels_.astype(np.int64)
    sizes = np.bincount(leaf_of_song, minlength=micro_clusters).astype(np.float64)
    used = sizes > 0
    remap = np.cumsum(used) - 1
    centers = model.cluster_centers_[used]
    linkage, merge_songs = ward_linkage(centers, sizes[used])
    return WardTree(
        linkage,
        f"two-stage: {int(used.sum()):,} MiniBatchKMeans micro-clusters, then size-weighted Ward",
        remap[leaf_of_song],
        merge_songs,
    )


BUFFER = 256
"""Merged clusters wait in the unsorted buffer until this many, then everything is re-sorted."""


def ward_linkage(
    points: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Ward linkage of (optionally weighted) points, and the weight under each merge.

    The linkage is in scipy's format; heights follow scipy's convention (merging groups A and
    B costs ``sqrt(2·|A|·|B|/(|A|+|B|))·‖mean(A) − mean(B)‖``) and its fourth column counts
    leaves. The second array is the total weight (songs) under each merge, row by row.
    """
    points = np.ascontiguousarray(points, dtype=np.float64)
    n = len(points)
    if n < 2:
        return np.empty((0, 4)), np.empty(0)
    sizes = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    centred = points - points.mean(axis=0)
    step = max(1, n // 20_000)
    axis = np.linalg.svd(centred[::step], full_matrices=False)[2][0]
    merges = _nn_chain(points, sizes, axis, BUFFER)
    return _scipy_order(merges, n, sizes)


@numba.njit(cache=True, fastmath=True, nogil=True)
def _criterion(centres, sizes, a, c):
    total = 0.0
    for k in range(centres.shape[1]):
        gap = centres[c, k] - centres[a, k]
        total += gap * gap
    return sizes[a] * sizes[c] / (sizes[a] + sizes[c]) * total


@numba.njit(cache=True, nogil=True)
def _nearest(centres, keys, sizes, alive, n_sorted, n_total, a):
    """Nearest live cluster to slot ``a`` by Ward's criterion (its value, its slot)."""
    best = np.inf
    best_slot = -1
    for c in range(n_sorted, n_total):
        if alive[c] and c != a:
            value = _criterion(centres, sizes, a, c)
            if value < best:
                best, best_slot = value, c
    key = keys[a]
    # Every other cluster holds at least min_size songs, so the criterion is at least
    # bound * (gap along the axis)^2: past that gap nothing can beat the best.
    min_size = 1.0
    bound = sizes[a] * min_size / (sizes[a] + min_size)
    if a < n_sorted:
        position = a
    else:
        low, high = 0, n_sorted
        while low < high:
            middle = (low + high) // 2
            if keys[middle] < key:
                low = middle + 1
            else:
                high = middle
        position = low
    left, right = position - 1, position
    while left >= 0 or right < n_sorted:
        if right < n_sorted:
            gap = keys[right] - key
            if bound * gap * gap >= best:
                right = n_sorted
            else:
                if alive[right] and right != a:
                    value = _criterion(centres, sizes, a, right)
                    if value < best:
                        best, best_slot = value, right
                right += 1
        if left >= 0:
            gap = key - keys[left]
            if bound * gap * gap >= best:
                left = -1
            else:
                if alive[left] and left != a:
                    value = _criterion(centres, sizes, a, left)
                    if value < best:
                        best, best_slot = value, left
                left -= 1
    return best, best_slot


def _nn_chain(points, weights, axis, buffer):
    """Merges (id_a, id_b, height, size) in the order the chain finds them (not by height).

    The chain runs compiled (`_chain_steps`) until the buffer is full; the re-sort between
    runs is NumPy's. Sorting inside numba code cost most of the kernels' first compilation
    (see docs/DESIGN.md, "Start-up"), and a re-sort every `BUFFER` merges costs nothing
    worth compiling for.
    """
    n, d = points.shape
    capacity = 2 * n
    centres = np.zeros((capacity, d))
    centres[:n] = points
    keys = np.zeros(capacity)
    keys[:n] = points @ axis
    sizes = np.zeros(capacity)
    sizes[:n] = weights
    ids = np.zeros(capacity, dtype=np.int64)
    ids[:n] = np.arange(n)
    alive = np.zeros(capacity, dtype=np.bool_)
    alive[:n] = True
    chain = np.empty(n, dtype=np.int64)
    merges = np.empty((n - 1, 4))
    depth, done = 0, 0
    n_sorted = _resort(centres, keys, sizes, ids, alive, n, chain, depth)
    n_total = n_sorted
    while done < n - 1:
        done, n_total, depth = _chain_steps(
            centres, keys, sizes, ids, alive, chain, merges, n_sorted, n_total, done, depth, buffer
        )
        n_sorted = _resort(centres, keys, sizes, ids, alive, n_total, chain, depth)
        n_total = n_sorted
    return merges


def _resort(centres, keys, sizes, ids, alive, n_total, chain, depth):
    """Move live clusters to the front, sorted by key; renumber the chain. Returns their count."""
    live = np.flatnonzero(alive[:n_total])
    order = live[np.argsort(keys[live], kind="stable")]
    slot_of = np.full(n_total, -1, dtype=np.int64)
    slot_of[order] = np.arange(len(order))
    count = len(order)
    centres[:count] = centres[order]
    keys[:count] = keys[order]
    sizes[:count] = sizes[order]
    ids[:count] = ids[order]
    alive[:count] = True
    alive[count:] = False
    chain[:depth] = slot_of[chain[:depth]]
    return count


@numba.njit(cache=True, nogil=True)
def _chain_steps(
    centres, keys, sizes, ids, alive, chain, merges, n_sorted, n_total, done, depth, buffer
):
    """Grow the chain and merge until every song is merged or the unsorted buffer is full.
    Returns (merges done, clusters in use, chain depth)."""
    n = len(chain)
    d = centres.shape[1]
    capacity = len(keys)
    while done < n - 1:
        if depth == 0:
            for slot in range(n_total):
                if alive[slot]:
                    chain[0] = slot
                    break
            depth = 1
        a = chain[depth - 1]
        best, b = _nearest(centres, keys, sizes, alive, n_sorted, n_total, a)
        if depth >= 2:
            previous = chain[depth - 2]
            value = _criterion(centres, sizes, a, previous)
            if value <= best:
                best, b = value, previous
        if depth >= 2 and b == chain[depth - 2]:
            depth -= 2
            na, nb = sizes[a], sizes[b]
            new = n_total
            for k in range(d):
                centres[new, k] = (na * centres[a, k] + nb * centres[b, k]) / (na + nb)
            keys[new] = (na * keys[a] + nb * keys[b]) / (na + nb)
            sizes[new] = na + nb
            ids[new] = n + done
            merges[done, 0] = min(ids[a], ids[b])
            merges[done, 1] = max(ids[a], ids[b])
            merges[done, 2] = np.sqrt(2.0 * best)
            alive[new] = True
            alive[a] = False
            alive[b] = False
            done += 1
            n_total += 1
            if n_total - n_sorted > buffer or n_total >= capacity:
                break
        else:
            chain[depth] = b
            depth += 1
    return done, n_total, depth


@numba.njit(cache=True, nogil=True)
def _root(parent, item):
    while parent[item] != item:
        parent[item] = parent[parent[item]]
        item = parent[item]
    return item


def _scipy_order(merges, n, weights):
    """Sort merges by height and renumber clusters as scipy expects (each new cluster gets the
    next id in height order; the fourth column counts leaves).

    Arrays are made here and only filled by the compiled `_relabel`: numba compiles array
    creation and sorting slowly on first use (most of this step's first run).
    """
    order = np.argsort(merges[:, 2], kind="stable")
    # A leaf standing for each cluster id, so union-find can work on leaves.
    leaf = np.empty(2 * n - 1, dtype=np.int64)
    leaf[:n] = np.arange(n)
    first = merges[:, 0].astype(np.int64)
    out = np.empty((n - 1, 4))
    songs = np.empty(n - 1)
    _relabel(
        merges,
        order,
        first,
        leaf,
        np.arange(n),
        np.arange(n),
        np.ones(n),
        np.asarray(weights, dtype=np.float64).copy(),
        out,
        songs,
    )
    return out, songs


@numba.njit(cache=True, nogil=True)
def _relabel(merges, order, first, leaf, parent, label, count, weight, out, songs):
    n = len(parent)
    for step in range(n - 1):
        leaf[n + step] = leaf[first[step]]
    for step in range(n - 1):
        row = order[step]
        root_a = _root(parent, leaf[first[row]])
        root_b = _root(parent, leaf[np.int64(merges[row, 1])])
        a_label, b_label = label[root_a], label[root_b]
        out[step, 0] = min(a_label, b_label)
        out[step, 1] = max(a_label, b_label)
        out[step, 2] = merges[row, 2]
        out[step, 3] = count[root_a] + count[root_b]
        songs[step] = weight[root_a] + weight[root_b]
        parent[root_b] = root_a
        label[root_a] = n + step
        count[root_a] += count[root_b]
        weight[root_a] += weight[root_b]
