"""The spark engine's final K-Means model is as good as scikit-learn's best over several seeds
on every real table, at the k the spark engine chooses (as ``tests/test_kmeans_inertia.py``
checks for the local engine)."""

from __future__ import annotations

import numpy as np
import pytest
from inertia import scikit_learn_best, within_tolerance
from realdata import SHARED_FILES, shared_file

from soundatlas import BuildConfig, load_atlas

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_atlas_of(spark, tmp_path_factory):
    """``spark_atlas_of(name)``: the K-Means atlas the spark engine builds of a real table."""
    from soundatlas.engines.spark import build_atlas_spark

    built = {}

    def get(name: str):
        if name not in built:
            folder = tmp_path_factory.mktemp("spark-kmeans") / "atlas"
            build_atlas_spark(shared_file(name), folder, BuildConfig(methods=("kmeans",)))
            built[name] = load_atlas(folder)
        return built[name]

    return get


@pytest.mark.parametrize("name", SHARED_FILES)
def test_spark_kmeans_inertia_is_within_a_tenth_of_a_percent_of_scikit_learns_best(
    spark_atlas_of, name
):
    atlas = spark_atlas_of(name)
    summary = atlas.methods["kmeans"]
    k, ours = summary.params["k"], summary.details["inertia"]
    x = np.asarray(atlas.scaled, dtype=np.float64)
    labels = atlas.tracks["cluster"].to_numpy()
    # The recorded inertia is that of the songs' labels: recomputed here from the atlas.
    recomputed = sum(
        ((x[labels == c] - x[labels == c].mean(axis=0)) ** 2).sum() for c in np.unique(labels)
    )
    assert recomputed == pytest.approx(ours, rel=1e-6)
    ok, message = within_tolerance(name, k, ours, scikit_learn_best(x, k))
    assert ok, message
