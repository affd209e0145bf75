"""The final K-Means model is as good as scikit-learn's best over several seeds, on real tables."""

from __future__ import annotations

import pytest
from inertia import scikit_learn_best, within_tolerance
from realdata import SHARED_FILES

from soundatlas.clustering.kmeans import MAX_INITS, final_inits


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
    ok, message = within_tolerance(name, k, ours, scikit_learn_best(atlas.scaled, k))
    assert ok, message
