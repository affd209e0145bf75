"""Plain words beside the jargon, the score first, readable charts, years as years."""

from __future__ import annotations

import json

import pandas as pd

from soundatlas.dashboard import charts
from soundatlas.dashboard.ui import YEAR_COLUMNS


def test_jargon_has_a_tooltip(app):
    helps = {}
    for page in (None, "features"):
        at = app(page, method="hierarchical") if page else app()
        helps |= {h.value: h.proto.help for h in at.subheader}
    joined = " ".join(h for h in helps.values() if h)
    for word in ("Silhouette", "Davies–Bouldin", "ARI", "σ", "PC1 and PC2", "Ward merge distance"):
        assert word in joined, word


def test_the_score_comes_first_in_similar_songs(app):
    at = app("search")
    at.text_input(key="q").input("radio").run()
    at.selectbox(key="se_song").select_index(0).run()
    assert at.dataframe[0].value.columns[0] == "similarity"


def test_the_score_comes_first_in_a_playlist(app):
    at = app("playlists")
    at.slider(key="pl_threshold").set_value(0.7)
    at.button(key="FormSubmitter:pl_form-Generate playlist").click().run()
    assert at.dataframe[0].value.columns[0] == "similarity"


def test_correlation_labels_are_at_least_11px_and_the_map_has_no_toolbar():
    corr = pd.DataFrame([[1.0, 0.2], [0.2, 1.0]], columns=["energy", "valence"])
    figure = charts.correlation_heatmap(corr)
    assert figure.data[0].textfont.size >= 11
    assert figure.layout.xaxis.tickfont.size >= 11 and figure.layout.yaxis.tickfont.size >= 11
    assert charts.ZOOMABLE["displayModeBar"] is False


def _year_table() -> None:
    import pandas as pd

    from soundatlas.dashboard.ui import show_table

    show_table(pd.DataFrame({"name": ["Song"], "release_year": [2002], "year": [1999]}))


def test_years_are_shown_as_years():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_year_table).run()
    config = json.loads(at.dataframe[0].proto.columns)
    for column in YEAR_COLUMNS:
        assert config[column]["type_config"]["format"] == "%d", column


def test_the_radar_shows_the_largest_clusters_and_others_on_request(app):
    at = app("features", method="hierarchical")
    chooser = at.multiselect(key="fx_radar_clusters")
    assert len(chooser.options) > 4 and len(chooser.value) == 4
    radar = [c for c in at.get("plotly_chart") if '"scatterpolar"' in c.proto.spec]
    assert len(json.loads(radar[0].proto.spec)["data"]) == 4
    chooser.set_value([*chooser.value, chooser.options[-1]]).run()
    radar = [c for c in at.get("plotly_chart") if '"scatterpolar"' in c.proto.spec]
    assert len(json.loads(radar[0].proto.spec)["data"]) == 5


def test_one_percent_format_with_one_decimal(app):
    at = app()
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["noise_share"]["type_config"]["format"] == "%.1f%%"
    noise = at.dataframe[0].value["noise_share"]
    assert noise.between(0, 100).all()
    at = app("distribution")
    table = next(t for t in at.dataframe if "share" in t.value.columns)
    assert json.loads(table.proto.columns)["share"]["type_config"]["format"] == "%.1f%%"
    assert abs(table.value["share"].sum() - 100.0) < 0.5
    pie = next(c for c in at.get("plotly_chart") if '"pie"' in c.proto.spec)
    assert json.loads(pie.proto.spec)["data"][0]["texttemplate"] == "%{percent:.1%}"
