"""Audio features: box plots per cluster, cluster profiles, correlations, the PCA map and the
Ward dendrogram, all of the filtered songs."""

from __future__ import annotations

import numpy as np
import streamlit as st

from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.dashboard import charts, session
from soundatlas.dashboard.linked import follow, song_card
from soundatlas.dashboard.summaries import (
    SCATTER_CAP,
    SUMMARY_CAP,
    TreeTop,
    cluster_profiles,
    cluster_sizes,
    correlations,
    dendrogram_data,
    feature_boxes,
    largest_clusters,
    stratified_sample,
    summary_rows,
)
from soundatlas.dashboard.ui import page_header, require_songs
from soundatlas.discovery.filters import FilterIndex

view = session.current_view()
index = view.index
page_header("Audio features", view)
require_songs(view)

MAP_KEY = "fx_pca"
MAP_GESTURES = ("Click a song", "Drag a box")
"""What a click-and-drag on the map does: pan (a click picks a song) or select a box."""


def _picked_on_map() -> np.ndarray:
    """Rows of the songs clicked or selected (a box) on the map in the last run."""
    state = st.session_state.get(MAP_KEY)
    points = ((state or {}).get("selection") or {}).get("points") or []
    picked = [int(p["customdata"]) for p in points if p.get("customdata") is not None]
    return np.unique(np.asarray(picked, dtype=np.int64))


picked = _picked_on_map()
sizes = cluster_sizes(index, view.mask, view.method)
drawn = largest_clusters(sizes)
rows = summary_rows(index, view.mask)
if len(picked) > 1:
    # A box on the map narrows every chart above it to the songs it holds.
    rows = np.intersect1d(rows, picked) if len(np.intersect1d(rows, picked)) else picked
    st.info(
        f"Charts show the {len(rows):,} songs selected on the map below; double-click the map "
        "to clear the selection.",
        icon=":material/filter_alt:",
    )
if len(rows) < view.count:
    st.caption(
        f"Box plots, profiles and correlations use a fixed random sample of {len(rows):,} of the "
        f"{view.count:,} songs (at most {SUMMARY_CAP:,})."
    )
if len(sizes[sizes["songs"] > 0]) > len(drawn):
    st.caption(f"Box plots and radar show the {len(drawn)} largest clusters.")

RADAR_DEFAULT = 4
"""Clusters drawn on the radar at first (the largest); the others can be added."""

st.subheader("One feature across clusters")
feature = st.selectbox("Feature", index.feature_names, key="fx_feature")
boxes = feature_boxes(index, rows, view.method, feature, drawn)
st.plotly_chart(charts.feature_box(boxes, feature), key="fx_box", config=charts.CONFIG)

profile_col, corr_col = st.columns(2)
with profile_col:
    st.subheader("Cluster profiles")
    st.caption("Mean of each feature per cluster, scaled 0–1 by the catalog's range.")
    profiles = cluster_profiles(index, rows, view.method, drawn)
    if len(profiles) > RADAR_DEFAULT:
        # More than a few outlines overlap into a tangle: the largest few by default, any
        # others a click away.
        names = {f"{int(c)} · {p}": int(c) for c, p in profiles["persona"].items()}
        shown = st.multiselect(
            "Clusters on the radar",
            list(names),
            default=list(names)[:RADAR_DEFAULT],
            key="fx_radar_clusters",
        )
        profiles = profiles.loc[[names[label] for label in shown]]
    st.plotly_chart(
        charts.profile_radar(profiles),
        key="fx_radar",
        config=charts.CONFIG,
    )
with corr_col:
    st.subheader("Correlations")
    st.caption("Pearson correlation between the audio features of the filtered songs.")
    corr, used = correlations(index, rows)
    st.plotly_chart(
        charts.correlation_heatmap(corr),
        key="fx_corr",
        config=charts.CONFIG,
    )
    if used < len(rows):
        st.caption(f"Computed on a fixed random sample of {used:,} songs.")

st.subheader(
    "Map of the songs (PCA)",
    help="PC1 and PC2 are the two directions in which the songs' sound varies most (principal "
    "components); each axis title names the features it is made of.",
)
st.caption(
    f"Songs coloured by {METHOD_TITLES[view.method]} persona; hover a point for the song. "
    "Click a song for its most similar songs and its artist, or choose 'Drag a box' and drag "
    "over songs to narrow the charts above to them; double-click to reset."
)
points = stratified_sample(index, view.mask, view.method, cap=SCATTER_CAP)
if len(points) < view.count:
    st.caption(
        f"Showing a stratified sample of {len(points):,} of {view.count:,} songs: clusters in "
        f"proportion to their size, every cluster kept (above {SCATTER_CAP:,} songs the map "
        "draws a sample)."
    )
if "pc1" in index.coordinates and "pc2" in index.coordinates:
    gesture = st.segmented_control(
        "On the map",
        MAP_GESTURES,
        default=MAP_GESTURES[0],
        required=True,
        key="fx_map_gesture",
        label_visibility="collapsed",
    )
    st.plotly_chart(
        charts.pca_scatter(
            index.coordinates["pc1"][points],
            index.coordinates["pc2"][points],
            view.labels[points],
            index.hover_labels(points),
            index.personas[view.method],
            rows=points,
            axis_titles=(index.axis_titles[0], index.axis_titles[1]),
            box=gesture == MAP_GESTURES[1],
        ),
        key=MAP_KEY,
        config=charts.ZOOMABLE,
        on_select="rerun",
        selection_mode=("points", "box"),
    )
    # A click on one song opens its card; a box (several songs) closes it.
    follow(view.atlas, MAP_KEY, MAP_KEY, int(picked[0]) if len(picked) == 1 else None)
    song_card(view.atlas, view.method, MAP_KEY)


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def _tree(
    fingerprint: str, clusters: int, total: int, _linkage: np.ndarray, _songs: np.ndarray | None
) -> TreeTop:
    return dendrogram_data(_linkage, clusters, songs=_songs, total_songs=total)


def _dendrogram(index: FilterIndex) -> None:
    atlas = view.atlas
    linkage = atlas.linkage
    if linkage is None:
        st.info("This atlas was built without the hierarchical method.")
        return
    k = int(atlas.methods["hierarchical"].params.get("k") or 0)
    songs = atlas.linkage_songs  # None for atlases built before it was recorded
    top = _tree(index.fingerprint, k, index.n, linkage, songs)
    st.plotly_chart(
        charts.dendrogram(
            top.icoord,
            top.dcoord,
            top.labels,
            cut=top.cut,
            title=f"Top of the Ward tree, cut at k={k}",
        ),
        key="fx_tree",
        config=charts.CONFIG,
    )
    if top.unit == "songs":
        held = "the number in brackets is how many songs it holds."
    else:
        held = (
            "the number in brackets is how many leaves of the tree it holds; above "
            "200,000 songs the tree's leaves are small groups of similar songs, not songs."
        )
    st.caption(
        f"Each leaf is a branch of the tree; {held} The dashed line is where the tree is cut "
        "into clusters. The tree covers every song; filters do not change it."
    )


st.subheader(
    "Dendrogram (hierarchical)",
    help="Ward merge distance: how much joining two branches adds to the spread of sound "
    "within clusters; a high join means very different branches.",
)
if view.method == "hierarchical":
    _dendrogram(index)
else:
    st.caption("Choose the Hierarchical method in the sidebar to see its merge tree.")
