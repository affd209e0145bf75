"""Clustering building blocks, on tiny hand-checked cases and against reference implementations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from realdata import GENRES_11K, shared_file
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import DBSCAN
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, silhouette_score

from soundatlas.clustering.dbscan import cluster_density, default_min_samples
from soundatlas.clustering.hierarchical import cluster_hierarchical, cut_tree
from soundatlas.clustering.kmeans import cluster_kmeans
from soundatlas.clustering.metrics import (
    centroids,
    relabel_by_size,
    score_labels,
    silhouette_sample,
)
from soundatlas.clustering.selection import (
    choose_k,
    k_candidates,
    knee,
    rejected_by_every_metric,
)
from soundatlas.clustering.ward import ward_linkage, ward_tree
from soundatlas.errors import ConfigError


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    x, truth = make_blobs(n_samples=900, centers=4, n_features=5, cluster_std=0.6, random_state=3)
    return x, truth


def test_silhouette_matches_scikit_learn_when_exact(blobs):
    x, truth = blobs
    sample = silhouette_sample(x, size=10_000, random_state=0)
    assert sample.exact
    assert sample.score(truth) == pytest.approx(silhouette_score(x, truth), abs=1e-5)


def test_silhouette_on_a_sample_uses_the_stated_size(blobs):
    x, truth = blobs
    sample = silhouette_sample(x, size=300, random_state=0)
    assert len(sample.rows) == 300 and not sample.exact
    expected = silhouette_score(x[sample.rows], truth[sample.rows])
    assert sample.score(truth) == pytest.approx(expected, abs=1e-5)


def test_silhouette_by_hand_on_four_points():
    # Two pairs on a line: 0, 1 | 10, 11. For point 0: a = 1, b = (10 + 11) / 2 = 10.5.
    x = np.array([[0.0], [1.0], [10.0], [11.0]])
    sample = silhouette_sample(x, size=10, random_state=0)
    expected = np.mean([(10.5 - 1) / 10.5, (9.5 - 1) / 9.5, (9.5 - 1) / 9.5, (10.5 - 1) / 10.5])
    assert sample.score(np.array([0, 0, 1, 1])) == pytest.approx(expected, rel=1e-6)


def test_noise_is_left_out_of_scores_but_counted():
    x = np.array([[0.0], [0.1], [5.0], [5.1], [100.0]])
    scores = score_labels(
        x, np.array([0, 0, 1, 1, -1]), silhouette_sample(x, size=10, random_state=0)
    )
    assert scores.n_clusters == 2
    assert scores.noise_share == pytest.approx(0.2)
    assert scores.silhouette > 0.9


def test_relabel_by_size_and_centroids():
    labels = relabel_by_size(np.array([5, 5, 2, 2, 2, -1, 9]))
    assert labels.tolist() == [1, 1, 0, 0, 0, -1, 2]
    x = np.array([[0.0], [2.0], [4.0], [6.0], [8.0], [100.0], [1.0]])
    assert centroids(x, labels).ravel().tolist() == [6.0, 1.0, 1.0]


def test_knee_of_convex_and_concave_curves():
    convex = np.array([1, 1.1, 1.2, 1.3, 1.4, 3, 6, 10], dtype=float)
    assert knee(convex, convex=True) == 4
    concave = -np.array([100, 60, 40, 35, 32, 30, 29, 28], dtype=float)
    assert knee(concave, convex=False) == 2


def test_k_candidates_cap_small_catalogs():
    assert k_candidates(14, (2, 12)) == [2, 3, 4]
    assert k_candidates(10_000, (2, 12)) == list(range(2, 13))
    with pytest.raises(ConfigError, match="k range"):
        k_candidates(100, (1, 5))


def test_choose_k_takes_the_elbow_then_the_best_silhouette_near_it():
    table = pd.DataFrame(
        {
            "k": [2, 3, 4, 5, 6, 7, 8],
            "inertia": [1000, 600, 380, 330, 300, 280, 265],
            "silhouette": [0.40, 0.30, 0.31, 0.33, 0.25, 0.24, 0.23],
            "smallest_share": [0.3] * 7,
        }
    )
    k, rule = choose_k(table)
    assert k == 5
    assert "elbow" in rule and "k=5" in rule


def test_kmeans_finds_blobs_and_is_reproducible(blobs):
    x, truth = blobs
    sample = silhouette_sample(x, size=500, random_state=0)
    first = cluster_kmeans(x, sample=sample, k_range=(2, 8), stability_resamples=3, random_state=7)
    second = cluster_kmeans(x, sample=sample, k_range=(2, 8), stability_resamples=3, random_state=7)
    assert first.params["k"] == 4
    assert adjusted_rand_score(truth, first.labels) == pytest.approx(1.0)
    assert np.array_equal(first.labels, second.labels)
    assert list(first.selection["k"]) == list(range(2, 9))
    assert first.details["stability"]["mean_ari"] > 0.95
    assert np.bincount(first.labels).tolist() == sorted(np.bincount(first.labels), reverse=True)


def test_kmeans_with_fixed_k_records_it(blobs):
    x, _ = blobs
    result = cluster_kmeans(x, sample=silhouette_sample(x, size=300, random_state=0), k=6)
    assert result.params["k"] == 6 and result.selection is None
    assert "fixed by the user" in result.rule


def test_kmeans_on_mostly_repeated_songs_stays_quiet():
    """A catalog of a few songs listed many times: bootstrap refits see fewer distinct songs than
    k, which lowers stability but must not spill scikit-learn warnings onto the user's screen."""
    base = np.random.default_rng(0).normal(size=(13, 9))
    x = np.vstack([np.repeat(base[:3], 200, axis=0), base[3:]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = cluster_kmeans(x, sample=silhouette_sample(x, size=500, random_state=0), k=12)
    assert result.params["k"] == 12
    assert 0 < result.details["stability"]["mean_ari"] <= 1


def test_density_clustering_equals_scikit_learn_dbscan(blobs):
    x, _ = blobs
    sample = silhouette_sample(x, size=300, random_state=0)
    result = cluster_density(x, sample=sample, eps=0.9, min_samples=10)
    reference = DBSCAN(eps=0.9, min_samples=10).fit(x)
    core = np.zeros(len(x), dtype=bool)
    core[reference.core_sample_indices_] = True
    assert adjusted_rand_score(reference.labels_[core], result.labels[core]) == pytest.approx(1.0)
    assert np.array_equal(reference.labels_ == -1, result.labels == -1)


@pytest.mark.parametrize("pair_limit", [20_000_000, 10], ids=["scipy pairs", "too many pairs"])
def test_small_catalogs_give_the_compiled_search_s_labels(blobs, monkeypatch, pair_limit):
    """Up to CURVE_SAMPLE songs DBSCAN runs on SciPy's kd-tree (nothing to compile); past
    PAIR_LIMIT pairs within eps it hands over to the compiled search. Same labels either way."""
    import soundatlas.clustering.dbscan as dbscan
    from soundatlas.clustering import density_graph, density_small

    x, _ = blobs
    sample = silhouette_sample(x, size=300, random_state=0)
    monkeypatch.setattr(density_small, "PAIR_LIMIT", pair_limit)
    small = cluster_density(x, sample=sample, eps=0.9, min_samples=10)
    distances, indices = density_graph.eps_neighbours(x, 10, 0.9)
    compiled = dbscan.relabel_by_size(density_graph.dbscan_labels(x, distances, indices, 0.9))
    assert np.array_equal(small.labels, compiled)
    handed_over = density_small.dbscan_labels(x, distances, indices, 0.9) is None
    assert handed_over == (pair_limit == 10)


def test_density_clustering_picks_eps_and_reports_noise(blobs):
    x, truth = blobs
    result = cluster_density(x, sample=silhouette_sample(x, size=300, random_state=0))
    assert result.params["min_samples"] == default_min_samples(len(x), x.shape[1]) == 10
    assert result.params["eps"] > 0
    assert "knee" in result.rule
    sizes = np.bincount(result.labels[result.labels >= 0])
    main = result.labels < 4
    assert (result.labels == -1).any(), "blob edges are noise"
    assert sizes[:4].min() > 150 and sizes[4:].sum() < 30
    keep = main & (result.labels >= 0)
    assert adjusted_rand_score(truth[keep], result.labels[keep]) == pytest.approx(1.0)
    assert result.details["noise_songs"] == int((result.labels == -1).sum())


def test_hdbscan_option_runs_on_the_same_tree(blobs):
    x, truth = blobs
    result = cluster_density(
        x, sample=silhouette_sample(x, size=300, random_state=0), algorithm="hdbscan"
    )
    assert result.params["algorithm"] == "hdbscan"
    keep = result.labels >= 0
    assert adjusted_rand_score(truth[keep], result.labels[keep]) > 0.95


def test_exact_ward_equals_scipy(blobs):
    x, _ = blobs
    (ours, songs), reference = ward_linkage(x), linkage(x, method="ward")
    assert np.array_equal(songs, ours[:, 3])
    assert np.allclose(ours[:, 2], reference[:, 2])
    for k in (2, 4, 7):
        assert adjusted_rand_score(
            fcluster(ours, k, "maxclust"), fcluster(reference, k, "maxclust")
        ) == pytest.approx(1.0)


def test_weighted_ward_equals_ward_on_repeated_points():
    rng = np.random.default_rng(1)
    points, weights = rng.normal(size=(80, 3)), rng.integers(1, 6, size=80)
    ours, songs = ward_linkage(points, weights)
    reference = linkage(np.repeat(points, weights, axis=0), method="ward")
    assert songs[-1] == weights.sum()
    assert np.allclose(ours[:, 2], np.sort(reference[:, 2])[-79:])
    for k in (2, 5):
        assert adjusted_rand_score(
            fcluster(reference, k, "maxclust"), np.repeat(fcluster(ours, k, "maxclust"), weights)
        ) == pytest.approx(1.0)


def test_two_stage_ward_labels_every_song(blobs):
    x, truth = blobs
    tree = ward_tree(x, exact_limit=100, micro_clusters=60)
    assert tree.variant.startswith("two-stage") and tree.leaves == 60
    assert tree.merge_songs[-1] == len(x) and tree.linkage[-1, 3] == 60
    labels = cut_tree(tree, 4)
    assert len(labels) == len(x)
    assert adjusted_rand_score(truth, labels) > 0.95


def test_hierarchical_chooses_k_on_every_song(blobs):
    x, truth = blobs
    tree = ward_tree(x)
    result = cluster_hierarchical(x, tree, sample=silhouette_sample(x, size=500, random_state=0))
    assert result.params["k"] == 4
    assert tree.leaves == len(x)
    assert adjusted_rand_score(truth, result.labels) == pytest.approx(1.0)
    assert result.linkage.shape == (len(x) - 1, 4)


def test_bounded_search_for_large_catalogs_equals_scikit_learn(blobs, monkeypatch):
    import soundatlas.clustering.dbscan as dbscan

    monkeypatch.setattr(dbscan, "CURVE_SAMPLE", 200)
    x, _ = blobs
    result = cluster_density(x, sample=silhouette_sample(x, size=300, random_state=0))
    assert "a random sample of 200 songs" in result.rule
    reference = DBSCAN(eps=result.params["eps"], min_samples=10).fit(x)
    core = np.zeros(len(x), dtype=bool)
    core[reference.core_sample_indices_] = True
    assert adjusted_rand_score(reference.labels_[core], result.labels[core]) == pytest.approx(1.0)
    assert np.array_equal(reference.labels_ == -1, result.labels == -1)


def test_eps_from_a_sampled_curve_matches_the_whole_curve_on_real_songs(monkeypatch):
    """Large catalogs read eps from a sampled k-distance curve; on the 11,200 real songs of the
    genre table a 2,000-song sample must give the eps of every song's curve."""
    import soundatlas.clustering.dbscan as dbscan
    from soundatlas.clustering.features import fit_scaler
    from soundatlas.ingest.catalog import load_catalog
    from soundatlas.ingest.schema import AUDIO_FEATURES

    tracks = load_catalog(shared_file(GENRES_11K)).tracks
    x = fit_scaler(tracks, AUDIO_FEATURES).transform(tracks)
    sample = silhouette_sample(x, size=500, random_state=0)
    whole = cluster_density(x, sample=sample)
    monkeypatch.setattr(dbscan, "CURVE_SAMPLE", 2_000)
    sampled = cluster_density(x, sample=sample)
    assert whole.details["k_distance_songs"] == len(x)
    assert sampled.details["k_distance_songs"] == 2_000
    assert sampled.params["eps"] == pytest.approx(whole.params["eps"], rel=0.01)


def test_choose_k_never_picks_a_k_every_metric_rejects():
    table = pd.DataFrame(
        {
            "k": [2, 3, 4, 5, 6, 7, 8],
            "inertia": [1000, 600, 380, 330, 300, 280, 265],
            "silhouette": [0.40, 0.18, 0.20, 0.21, 0.19, 0.30, 0.32],
            "davies_bouldin": [1.0, 2.0, 1.9, 1.8, 1.7, 1.2, 1.3],
            "calinski_harabasz": [900, 290, 300, 310, 320, 600, 500],
            "smallest_share": [0.3] * 7,
        }
    )
    # The elbow is k=4; k=5 has the best silhouette of k=3-5 but is in the worse half of the
    # candidates by all three metrics, and so are k=3 and k=4: the best silhouette of all wins.
    assert rejected_by_every_metric(table, 5) and not rejected_by_every_metric(table, 7)
    k, rule = choose_k(table)
    assert k == 2
    assert "worse half of the candidates by every metric" in rule


def test_the_chosen_hierarchical_k_is_not_rejected_by_every_metric_on_real_tables(atlas_of):
    from realdata import GENRES_11K, TOPHITS

    for name in (GENRES_11K, TOPHITS):
        atlas = atlas_of(name)
        for method in ("kmeans", "hierarchical"):
            table = atlas.selection[atlas.selection["method"] == method]
            k = atlas.methods[method].params["k"]
            assert not rejected_by_every_metric(table, k), (name, method, k)
            assert "not in the worse half" in atlas.methods[method].rule
