"""Audio features: box plots, radar, correlations, PCA map, dendrogram; filters; hostile text."""

from __future__ import annotations

import json

import pytest
from dashboard.hostile import HOSTILE_SONG


def _figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_every_chart_draws_and_the_feature_can_change(app):
    at = app("features")
    figures = _figures(at)
    kinds = [figure["data"][0]["type"] for figure in figures]
    assert kinds == ["box", "scatterpolar", "heatmap", "scattergl"]
    at.selectbox(key="fx_feature").set_value("tempo").run()
    assert _figures(at)[0]["layout"]["yaxis"]["title"]["text"] == "tempo"


def test_hierarchical_method_shows_the_dendrogram(app, text_of, songs):
    at = app("features", method="hierarchical")
    figures = _figures(at)
    tree = figures[-1]
    assert tree["data"][0]["type"] == "scatter"
    assert "cut at k=" in tree["layout"]["title"]["text"]
    counts = [int(t.strip("()").replace(",", "")) for t in tree["layout"]["xaxis"]["ticktext"]]
    assert sum(counts) == songs  # the exact tree: one leaf per song, brackets count songs
    assert "how many songs it holds" in text_of(at)


def test_filters_shrink_the_map_and_hover_text_is_escaped(app, songs):
    at = app("features")
    everyone = sum(len(trace["hovertext"]) for trace in _figures(at)[3]["data"])
    assert everyone == songs
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


def _micro_cluster_tree(songs: int, leaves: int = 200):
    """A Ward tree over ``leaves`` weighted points standing for ``songs`` songs (the shape of the
    two-stage tree above 200,000 songs), and the songs under each of its merges."""
    import numpy as np
    from scipy.cluster.hierarchy import linkage

    weights = np.full(leaves, songs // leaves)
    weights[: songs % leaves] += 1
    tree = linkage(np.random.default_rng(3).normal(size=(leaves, 3)), "ward")
    sizes = [float(w) for w in weights]
    for left, right, _, _ in tree:
        sizes.append(sizes[int(left)] + sizes[int(right)])
    return tree, np.array(sizes[leaves:])


@pytest.mark.parametrize("recorded", [True, False], ids=["songs recorded", "older atlas"])
def test_dendrogram_of_a_two_stage_tree_counts_songs_or_says_leaves(
    app, text_of, songs, hostile_atlas_path, tmp_path, monkeypatch, recorded
):
    import dataclasses
    import shutil

    from soundatlas.atlas.model import load_atlas
    from soundatlas.dashboard import session

    copy = tmp_path / "two-stage"
    shutil.copytree(hostile_atlas_path, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["fingerprint"] += "-two-stage-" + str(recorded)  # another build, another cache key
    (copy / "manifest.json").write_text(json.dumps(manifest))
    tree, merge_songs = _micro_cluster_tree(songs)

    def two_stage(path):
        atlas = load_atlas(path)
        return dataclasses.replace(
            atlas, linkage=tree, linkage_songs=merge_songs if recorded else None
        )

    monkeypatch.setattr(session, "load_atlas", two_stage)
    monkeypatch.setenv("SOUNDATLAS_DASHBOARD_ATLAS", str(copy))
    at = app("features", method="hierarchical")
    labels = _figures(at)[-1]["layout"]["xaxis"]["ticktext"]
    counts = [int(label.strip("()").replace(",", "")) for label in labels]
    if recorded:
        assert sum(counts) == songs
        assert "how many songs it holds" in text_of(at)
    else:
        assert sum(counts) == 200  # leaves of the tree, and the page says so
        assert "how many leaves of the tree it holds" in text_of(at)


def _select_on_map(at, rows) -> None:
    """What the browser sends when songs are clicked or boxed on the PCA map."""
    points = [{"customdata": int(r), "x": 0.0, "y": 0.0} for r in rows]
    at.session_state["fx_pca"] = {"selection": {"points": points, "point_indices": []}}


def test_clicking_a_song_on_the_map_shows_its_similar_songs_and_artist(app, hostile_atlas):
    at = app("features")
    row = 3
    _select_on_map(at, [row])
    at.run()
    assert not at.exception
    song = hostile_atlas.tracks.iloc[row]
    tables = [t.value for t in at.dataframe]
    similar = [t for t in tables if "similarity" in t.columns]
    assert similar and len(similar[-1]) == 10
    assert any(str(song["artists"][0]) in e.label for e in at.expander)


def test_a_box_on_the_map_narrows_the_charts_above(app, text_of):
    at = app("features")
    _select_on_map(at, range(40))
    at.run()
    assert not at.exception
    assert "Charts show the 40 songs selected on the map below" in text_of(at)
