"""Placing new songs in a fitted DBSCAN clustering without refitting.

DBSCAN has no centroids, and scikit-learn's estimator no ``predict``; its own rule for a song
that is not core is the one to follow: a song within eps of a core song joins that core song's
cluster (the nearest one, as `soundatlas.clustering.density_small` places border songs), and a
song within eps of no core song is noise. The fitted songs keep their roles: a new song does not
make a fitted song core, as refitting with it could.

A fitted song is core when its ``min_samples`` nearest fitted songs (itself included) lie within
eps, which is scikit-learn's definition; it is decided here only for the fitted songs near a new
one, nearest first, so a request costs a few bounded kd-tree queries, not a pass over the catalog.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from soundatlas.clustering.metrics import NOISE

CHECKED_AT_ONCE = 16
"""Fitted songs near a new song whose core status is decided per kd-tree query."""


def assign_by_density(
    fitted: np.ndarray,
    labels: np.ndarray,
    new: np.ndarray,
    *,
    eps: float,
    min_samples: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The DBSCAN cluster of each new song, and the distance to the core song it joined.

    Parameters
    ----------
    fitted, labels
        The scaled features DBSCAN was fitted on and its labels (-1 noise).
    new
        Scaled features of the songs to place (same columns).
    eps, min_samples
        The fitted parameters.

    Returns
    -------
    labels, distances
        The cluster of the nearest core song within eps, or -1 (noise) with distance NaN.
    """
    points = np.asarray(fitted, dtype=np.float64)
    tree = cKDTree(points)
    found = np.full(len(new), NOISE, dtype=np.int64)
    distances = np.full(len(new), np.nan)
    core: dict[int, bool] = {}
    for i, near in enumerate(tree.query_ball_point(np.asarray(new, dtype=np.float64), eps)):
        # Only a clustered song can be core: noise songs never are.
        near = np.asarray(near, dtype=np.int64)
        near = near[labels[near] != NOISE]
        if not len(near):
            continue
        gaps = np.linalg.norm(points[near] - new[i], axis=1)
        order = np.argsort(gaps, kind="stable")
        for start in range(0, len(order), CHECKED_AT_ONCE):
            chunk = near[order[start : start + CHECKED_AT_ONCE]]
            unknown = [int(r) for r in chunk if int(r) not in core]
            if unknown:
                kth = tree.query(points[unknown], k=min_samples)[0].reshape(len(unknown), -1)
                core.update(zip(unknown, (kth[:, -1] <= eps).tolist(), strict=True))
            hit = next((int(r) for r in chunk if core[int(r)]), None)
            if hit is not None:
                found[i] = labels[hit]
                distances[i] = float(np.linalg.norm(points[hit] - new[i]))
                break
    return found, distances
