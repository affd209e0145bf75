"""Cluster distribution: pie and bars per cluster, switching method, hiding small clusters."""

from __future__ import annotations

import pytest


def _charts(at):
    return at.get("plotly_chart")


def test_pie_and_bar_show_every_cluster_with_persona_names(app):
    at = app("distribution")
    assert len(_charts(at)) == 2
    table = at.dataframe[0].value
    assert table["share"].sum() == pytest.approx(100.0)  # percentages, one decimal shown
    assert table["persona"].str.len().min() > 0


def test_method_switch_on_the_page_moves_the_sidebar_too(app, hostile_atlas):
    def personas(method):
        return sorted(hostile_atlas.personas_of(method)["persona"])

    at = app("distribution")
    assert sorted(at.dataframe[0].value["persona"]) == personas("kmeans")
    assert personas("kmeans") != personas("hierarchical"), "the test needs them apart"
    at.get("button_group")[0].set_value("hierarchical").run()
    assert not at.exception
    assert at.selectbox(key="method").value == "hierarchical"
    table = at.dataframe[0].value
    assert sorted(table["persona"]) == personas("hierarchical")
    sizes = hostile_atlas.tracks["cluster_hc"].value_counts()
    assert table.set_index("cluster")["songs"].sort_index().tolist() == sizes.sort_index().tolist()


def test_small_clusters_can_be_hidden(app, text_of):
    at = app("distribution")
    at.slider(key="dist_min_share").set_value(10.0).run()
    assert "hidden" in text_of(at)
    at.number_input(key="dist_min_songs").set_value(100_000).run()
    assert "Every cluster is below the size you chose" in text_of(at)
