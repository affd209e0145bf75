"""Filters and summaries on real data: the fast masks agree with plain pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from soundatlas.dashboard import charts
from soundatlas.dashboard.state import AtlasIndex, Filters
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
from soundatlas.store import load_atlas

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def atlas(hostile_atlas_path):
    return load_atlas(hostile_atlas_path)


@pytest.fixture(scope="module")
def index(atlas):
    return AtlasIndex(atlas)


def test_mask_matches_pandas(atlas, index):
    tracks = atlas.tracks
    genre = "rock"
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
    icoord, dcoord, labels, cut = dendrogram_data(atlas.linkage, 4)
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
        charts.dendrogram(icoord, dcoord, labels, cut=cut),
        charts.shares_bar(["a", "<b>"], np.array([0.4, 0.6]), ["#000", "#111"]),
        charts.z_bars(["energy", "tempo"], np.array([1.0, -0.5])),
    ]
    for figure in figures:
        go.Figure(figure.to_dict())  # validates every property; raises on a bad spec
    assert cut is not None and len(labels) <= 30


def test_profiles_are_scaled_between_zero_and_one(index):
    profiles = cluster_profiles(index, np.arange(index.n), "kmeans", [0, 1])
    values = profiles.drop(columns="persona").to_numpy()
    assert ((values >= 0) & (values <= 1)).all()
    assert isinstance(profiles, pd.DataFrame) and list(profiles.index) == [0, 1]
