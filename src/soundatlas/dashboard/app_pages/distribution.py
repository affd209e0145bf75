"""Cluster distribution: the share of the filtered songs in each cluster, as a pie and bars."""

from __future__ import annotations

import streamlit as st

from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.dashboard import charts, session
from soundatlas.dashboard.sidebar import choose_method
from soundatlas.dashboard.summaries import cluster_sizes, split_small
from soundatlas.dashboard.ui import (
    as_percent,
    page_header,
    percent_column,
    require_songs,
    show_table,
)

view = session.current_view()
index = view.index
page_header("Cluster distribution", view)
require_songs(view)


def _switch_method() -> None:
    chosen = st.session_state.get("dist_method")
    if chosen:
        choose_method(chosen)


st.session_state["dist_method"] = view.method
st.segmented_control(
    "Method",
    index.methods,
    format_func=lambda m: METHOD_TITLES[m],
    key="dist_method",
    on_change=_switch_method,
    required=True,
    help="The same choice as the sidebar's clustering method.",
)
left, right = st.columns(2)
min_songs = left.number_input(
    "Hide clusters with fewer songs than", min_value=0, value=0, step=10, key="dist_min_songs"
)
min_share = right.slider(
    "…or a smaller share than (%)", 0.0, 20.0, 0.0, step=0.5, key="dist_min_share"
)

sizes = cluster_sizes(index, view.mask, view.method)
shown, hidden = split_small(sizes, min_songs=int(min_songs), min_share=min_share / 100)
hidden = hidden[hidden["songs"] > 0]
if shown.empty:
    st.info(
        "Every cluster is below the size you chose; lower the thresholds above.",
        icon=":material/visibility_off:",
    )
    st.stop()
if len(hidden):
    st.caption(
        f"{len(hidden):,} cluster(s) hidden ({int(hidden['songs'].sum()):,} songs); "
        "percentages are of all filtered songs."
    )
pie, bar = st.columns(2)
with pie:
    st.plotly_chart(
        charts.share_pie(shown),
        key="dist_pie",
        config=charts.CONFIG,
    )
with bar:
    st.plotly_chart(
        charts.share_bar(shown),
        key="dist_bar",
        config=charts.CONFIG,
    )
show_table(
    as_percent(sizes.rename(columns={"catalog_songs": "songs in the atlas"}), "share"),
    column_config={"share": percent_column("share")},
)
