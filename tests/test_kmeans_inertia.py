"""The final K-Means model is as good as scikit-learn's best over several seeds, on real tables."""

from __future__ import annotations

import pytest
from realdata import SHARED_FILES
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from soundatlas.clustering.kmeans import MAX_INITS, final_inits

TOLERANCE = 0.001
"""Relative inertia above the reference allowed: 0.1%."""


def test_final_inits_spend_the_budget_on_small_catalogs():
    assert final_inits(14) == MAX_INITS
    assert final_inits(1_769) == 114
    assert final_inits(10_963) == 19
    assert final_inits(100_000) == 10
    assert final_inits(1_000_000) == 3


@pytest.mark.parametrize("name", SHARED_FILES)
def test_kmeans_inertia_is_within_a_tenth_of_a_percent_of_scikit_learns_best(atlas_of, name):
    atlas = atlas_of(name)
    summary = atlas.methods["kmeans"]
    k, ours = summary.params["k"], summary.details["inertia"]
    with threadpool_limits(limits=1):
        best = min(
            KMeans(n_clusters=k, n_init=10, random_state=seed).fit(atlas.scaled).inertia_
            for seed in range(5)
        )
    assert ours <= best * (1 + TOLERANCE), f"{name}: k={k}, {ours:.3f} against {best:.3f}"
