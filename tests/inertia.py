"""The reference a final K-Means model is held to: the lowest inertia scikit-learn's
``KMeans(n_init=10)`` reaches over a few ``random_state`` values."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

TOLERANCE = 0.001
"""Relative inertia above the reference allowed: 0.1%."""
SEEDS = range(5)


def scikit_learn_best(x: np.ndarray, k: int) -> float:
    """The lowest inertia of ``KMeans(n_clusters=k, n_init=10)`` over `SEEDS`."""
    with threadpool_limits(limits=1):
        return min(
            KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x).inertia_ for seed in SEEDS
        )


def within_tolerance(name: str, k: int, ours: float, best: float) -> tuple[bool, str]:
    """Whether ``ours`` is within `TOLERANCE` of ``best``, and a message saying by how much."""
    return ours <= best * (1 + TOLERANCE), (
        f"{name}: k={k}, inertia {ours:.4f} against scikit-learn's best {best:.4f} "
        f"({100 * (ours / best - 1):+.3f}%)"
    )
