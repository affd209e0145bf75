"""Filters and summaries: the fast masks agree with plain pandas; the shared index is frozen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from soundatlas.dashboard import charts
from soundatlas.dashboard.summaries import (
    cluster_profiles,
    cluster_sizes,
    correlations,
    dendrogram_data,
    feature_boxes,
    largest_clusters,
    split_small,
    stratified_sample,
    summary_rows,
)
from soundatlas.discovery.filters import Filters
from soundatlas.discovery.index import discovery_index


@pytest.fixture(scope="module")
def atlas(hostile_atlas):
    return hostile_atlas


@pytest.fixture(scope="module")
def index(atlas):
    return discovery_index(atlas).filters


def test_mask_matches_pandas(atlas, index):
    tracks = atlas.tracks
    genre = tracks["genres"].explode().value_counts().index[0]
    artist = tracks["artists"].map(lambda a: a[0] if a else "").value_counts().index[0]
    filters = Filters(
        genres=(genre,),
        popularity=(30, 80),
        explicit="no",
        features=(("energy", (0.5, 0.9)), ("tempo", (index.bounds["tempo"].low, 130.0))),
    )
    expected = (
        tracks["genres"].map(lambda g: genre in g)
        & tracks["popularity"].between(30, 80)
        & (tracks["explicit"] == False)  # noqa: E712  (nullable boolean)
        & tracks["energy"].between(0.5 - 1e-6, 0.9 + 1e-6)
        & (tracks["tempo"] <= 130.0 + 1e-6)
    ).fillna(False)
    assert np.array_equal(index.mask(filters), expected.to_numpy(dtype=bool))
    by_artist = index.mask(Filters(artist=artist.upper()))
    assert by_artist.sum() == tracks["artists"].map(lambda a: artist in a).sum()


def test_open_slider_ends_keep_songs_beyond_the_bounds(atlas, index):
    tempo = index.bounds["tempo"]
    everything = Filters(features=(("tempo", tempo.full),))
    assert index.mask(everything).all()
    upper = Filters(features=(("tempo", (tempo.low + 1, tempo.high)),))
    assert index.mask(upper).sum() == (atlas.tracks["tempo"] >= tempo.low + 1 - 1e-6).sum()


def test_unknown_genre_and_artist_match_nothing(index):
    assert not index.mask(Filters(genres=("no such genre",))).any()
    assert not index.mask(Filters(artist="zzzz qqq no artist")).any()


def test_counts_and_sizes(atlas, index):
    everyone = np.ones(index.n, dtype=bool)
    assert index.count_distinct(everyone, "genres") == atlas.tracks["genres"].explode().nunique()
    artists = atlas.tracks["artists"].explode().nunique()
    assert index.count_distinct(everyone, "artists") == artists
    sizes = cluster_sizes(index, everyone, "kmeans")
    assert sizes["songs"].sum() == index.n and sizes["share"].sum() == pytest.approx(1)
    shown, hidden = split_small(sizes, min_share=0.2)
    assert len(shown) + len(hidden) == len(sizes) and (shown["share"] >= 0.2).all()


def test_stratified_sample_keeps_every_cluster_in_proportion(index):
    everyone = np.ones(index.n, dtype=bool)
    sample = stratified_sample(index, everyone, "kmeans", cap=300)
    labels = index.labels["kmeans"]
    assert 300 <= len(sample) <= 300 + 25 * len(set(labels))
    assert set(labels[sample]) == set(labels)
    share = np.bincount(labels[sample]) / len(sample)
    assert np.abs(share - np.bincount(labels) / index.n).max() < 0.1
    assert np.array_equal(sample, stratified_sample(index, everyone, "kmeans", cap=300))
    assert len(np.unique(sample)) == len(sample)


def test_summaries_use_a_fixed_sample_above_the_cap(index):
    everyone = np.ones(index.n, dtype=bool)
    rows = summary_rows(index, everyone, cap=500)
    assert len(rows) == 500 and np.array_equal(rows, summary_rows(index, everyone, cap=500))
    few = np.zeros(index.n, dtype=bool)
    few[:40] = True
    assert np.array_equal(summary_rows(index, few, cap=500), np.arange(40))


def test_every_chart_is_a_valid_plotly_figure(atlas, index):
    everyone = np.ones(index.n, dtype=bool)
    every_row = np.arange(index.n)
    sizes = cluster_sizes(index, everyone, "kmeans")
    drawn = largest_clusters(sizes)
    rows = stratified_sample(index, everyone, "kmeans", cap=200)
    tree = dendrogram_data(atlas.linkage, 4, total_songs=index.n)
    figures = [
        charts.share_pie(sizes),
        charts.share_bar(sizes, title="t"),
        charts.feature_box(feature_boxes(index, every_row, "kmeans", "energy", drawn), "energy"),
        charts.profile_radar(cluster_profiles(index, every_row, "kmeans", drawn)),
        charts.correlation_heatmap(correlations(index, every_row)[0]),
        charts.pca_scatter(
            index.coordinates["pc1"][rows],
            index.coordinates["pc2"][rows],
            index.labels["kmeans"][rows],
            index.hover_labels(rows),
            index.personas["kmeans"],
        ),
        charts.dendrogram(tree.icoord, tree.dcoord, tree.labels, cut=tree.cut),
        charts.shares_bar(["a", "<b>"], np.array([0.4, 0.6]), ["#000", "#111"]),
        charts.z_bars(["energy", "tempo"], np.array([1.0, -0.5])),
    ]
    for figure in figures:
        go.Figure(figure.to_dict())  # validates every property; raises on a bad spec
    assert tree.cut is not None and len(tree.labels) <= 30


def test_profiles_are_scaled_between_zero_and_one(index):
    profiles = cluster_profiles(index, np.arange(index.n), "kmeans", [0, 1])
    values = profiles.drop(columns="persona").to_numpy()
    assert ((values >= 0) & (values <= 1)).all()
    assert isinstance(profiles, pd.DataFrame) and list(profiles.index) == [0, 1]


def test_the_shared_index_never_changes_after_it_is_built(atlas):
    index = discovery_index(atlas).filters
    before = dict(vars(index))
    everyone = np.ones(index.n, dtype=bool)
    rows = stratified_sample(index, everyone, "kmeans", cap=50)
    index.hover_labels(rows)
    index.mask(Filters(artist="demo", genres=(str(index.genre_names[0]),), explicit="no"))
    index.count_distinct(everyone, "artists")
    assert vars(index).keys() == before.keys()  # nothing is added on first use
    assert all(vars(index)[k] is v for k, v in before.items() if k != "_artist_matches")
    arrays = [v for v in vars(index).values() if isinstance(v, np.ndarray)]
    arrays += [*index.features.values(), *index.labels.values(), *index.coordinates.values()]
    arrays += list(index._artist_matches.values())
    assert arrays and not any(a.flags.writeable for a in arrays)
    with pytest.raises(ValueError, match="read-only"):
        index.labels["kmeans"][0] = 99
    with pytest.raises(TypeError):
        index.features["energy"] = np.zeros(index.n)  # type: ignore[index]


def test_the_cached_loader_builds_what_others_build_lazily(hostile_atlas_path):
    from soundatlas.atlas.model import load_atlas
    from soundatlas.dashboard import session
    from soundatlas.discovery.index import discovery_index

    atlas = load_atlas(hostile_atlas_path)
    session.warm(atlas)
    assert "scaled" in vars(atlas)
    assert discovery_index(atlas)._text is not None
    assert discovery_index(atlas)._filters is not None


def test_filters_and_search_share_labels_and_name_artists_alike(atlas, index):
    songs = discovery_index(atlas)
    assert songs.filters is index  # one index per atlas, whichever front door asks
    for method, labels in index.labels.items():
        assert labels is songs.labels[method]
    artist = next(a for a in songs.artists["artist"].astype(str) if "e" in a.lower())
    folded = artist.upper().replace("E", "É")  # another case, an accent added
    expected = atlas.tracks["artists"].map(lambda a: artist in a).to_numpy()
    assert np.array_equal(index.mask(Filters(artist=folded)), expected)


def _two_stage(songs_per_leaf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A Ward tree over weighted leaves (like micro-clusters) and its songs per merge."""
    from scipy.cluster.hierarchy import linkage

    points = np.random.default_rng(1).normal(size=(len(songs_per_leaf), 3))
    tree = linkage(points, "ward")
    sizes = list(songs_per_leaf.astype(float))
    for left, right, _, _ in tree:
        sizes.append(sizes[int(left)] + sizes[int(right)])
    return tree, np.array(sizes[len(songs_per_leaf) :])


def test_dendrogram_counts_songs_not_micro_clusters():
    weights = np.random.default_rng(2).integers(50, 500, size=120)
    tree, songs = _two_stage(weights)
    top = dendrogram_data(tree, 5, songs=songs, total_songs=int(weights.sum()))
    assert top.unit == "songs"
    counts = [int(label.strip("()").replace(",", "")) for label in top.labels]
    assert sum(counts) == weights.sum()  # every song under exactly one branch
    older = dendrogram_data(tree, 5, songs=None, total_songs=int(weights.sum()))
    assert older.unit == "leaves"  # without songs per merge, say what the numbers count
    assert sum(int(label.strip("()")) for label in older.labels) == len(weights)
