"""Audio features: box plots, radar, correlations, PCA map, dendrogram; filters; hostile text."""

from __future__ import annotations

import json

import pytest
from dashboard.hostile import HOSTILE_SONG

pytestmark = pytest.mark.realdata


def _figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_every_chart_draws_and_the_feature_can_change(app):
    at = app("features")
    figures = _figures(at)
    kinds = [figure["data"][0]["type"] for figure in figures]
    assert kinds == ["box", "scatterpolar", "heatmap", "scattergl"]
    at.selectbox(key="fx_feature").set_value("tempo").run()
    assert _figures(at)[0]["layout"]["yaxis"]["title"]["text"] == "tempo"


def test_hierarchical_method_shows_the_dendrogram(app, text_of):
    at = app("features", method="hierarchical")
    figures = _figures(at)
    assert figures[-1]["data"][0]["type"] == "scatter"
    assert "cut at k=" in figures[-1]["layout"]["title"]["text"]


def test_filters_shrink_the_map_and_hover_text_is_escaped(app):
    at = app("features")
    everyone = sum(len(trace["hovertext"]) for trace in _figures(at)[3]["data"])
    assert everyone == 1_769
    spec = at.get("plotly_chart")[3].proto.spec
    assert HOSTILE_SONG not in spec
    assert "&lt;img src=x onerror=alert(1)&gt;" in spec
    at.slider(key="energy").set_value((0.8, 1.0)).run()
    filtered = sum(len(trace["hovertext"]) for trace in _figures(at)[3]["data"])
    assert 0 < filtered < everyone


def test_a_large_view_draws_a_stated_stratified_sample(app, text_of, monkeypatch):
    from soundatlas.dashboard import summaries

    monkeypatch.setattr(summaries, "SCATTER_CAP", 500)
    at = app("features")
    points = sum(len(trace["hovertext"]) for trace in _figures(at)[3]["data"])
    assert points <= 600
    assert "stratified sample" in text_of(at)
