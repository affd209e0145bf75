"""New songs placed in a fitted DBSCAN clustering follow scikit-learn's roles: the nearest core
sample within eps gives the cluster, and no core sample within eps means noise."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN

from soundatlas.clustering.density_assign import assign_by_density


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_new_points_join_the_nearest_core_sample_within_eps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(4, 3))
    fitted = np.concatenate([c + rng.normal(0, 0.6, size=(150, 3)) for c in centres])
    fitted = np.concatenate([fitted, rng.uniform(-10, 10, size=(60, 3))])
    eps, min_samples = 0.7, 6
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(fitted)
    new = np.concatenate(
        [
            fitted[rng.choice(len(fitted), 100)] + rng.normal(0, 0.3, (100, 3)),
            rng.uniform(-12, 12, size=(200, 3)),
        ]
    )
    labels, distances = assign_by_density(
        fitted, model.labels_, new, eps=eps, min_samples=min_samples
    )
    core = fitted[model.core_sample_indices_]
    gaps = np.linalg.norm(new[:, None, :] - core[None, :, :], axis=2)
    nearest = gaps.argmin(axis=1)
    within = gaps[np.arange(len(new)), nearest] <= eps
    expected = np.where(within, model.labels_[model.core_sample_indices_][nearest], -1)
    assert np.array_equal(labels, expected)
    assert {-1} < set(labels.tolist())  # both outcomes are exercised
    assert np.allclose(distances[within], gaps[np.arange(len(new)), nearest][within])
    assert np.isnan(distances[~within]).all()
