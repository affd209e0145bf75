"""Overview: the catalog at a glance, the three methods compared, personas, what was dropped."""

from __future__ import annotations

import streamlit as st

from soundatlas.clustering.assessment import DEGENERATE_RULE
from soundatlas.clustering.personas import reason_text
from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.dashboard import session
from soundatlas.dashboard.summaries import cluster_sizes
from soundatlas.dashboard.text import plain
from soundatlas.dashboard.ui import (
    as_percent,
    page_header,
    percent_column,
    require_songs,
    show_table,
)
from soundatlas.reports import (
    dropped_rows,
    genre_text,
    method_rows,
    recommendation_text,
    without_paths,
)

CARDS = 24  # persona cards drawn; more clusters (DBSCAN can find many) go in a table

view = session.current_view()
atlas, index = view.atlas, view.index
page_header("Overview", view)
require_songs(view)

sizes = cluster_sizes(index, view.mask, view.method)
active = sizes[(sizes["songs"] > 0) & (sizes["cluster"] >= 0)]
absent = index.absent_columns()
counted = [c for c in ("artist", "genre") if c not in absent]
songs, *others, clusters = st.columns(2 + len(counted))
songs.metric("Songs", f"{view.count:,}", help=f"of {view.total:,} in the atlas")
for slot, column in zip(others, counted, strict=True):
    label = "Unique artists" if column == "artist" else "Genres"
    slot.metric(label, f"{index.count_distinct(view.mask, column + 's'):,}")
clusters.metric(
    "Active clusters",
    f"{len(active):,}",
    help="Clusters of the chosen method with at least one filtered song (noise not counted).",
)

st.subheader(
    "The three methods compared",
    help="Silhouette: how much closer songs are to their own cluster than to the next (higher "
    "is better). Davies–Bouldin: cluster spread against distance between clusters (lower is "
    "better). ARI: agreement of two labellings, 1 = identical, 0 = chance.",
)
assessment = atlas.assessment
st.info(recommendation_text(atlas), icon=":material/recommend:")
for warning in assessment.warnings.values():
    for line in warning:
        st.warning(plain(line), icon=":material/warning:")
if any(assessment.warnings.values()):
    st.caption(plain(f"The rule: {DEGENERATE_RULE}."))
methods = method_rows(atlas)
show_table(
    as_percent(
        methods.drop(columns=["rule", "warnings", "calinski_harabasz", "silhouette_sample"]),
        "noise_share",
    ),
    column_config={
        "method": "method",
        "verdict": st.column_config.TextColumn(
            "verdict",
            help="Recommended for this catalog, degenerate (see the warning), or — for neither.",
        ),
        "clusters": st.column_config.NumberColumn("clusters"),
        "silhouette": st.column_config.NumberColumn(
            "silhouette",
            format="%.3f",
            help="How much closer songs are to their own cluster than to the next one: higher "
            "is better (−1 to 1). Noise songs left out.",
        ),
        "silhouette_with_noise": st.column_config.NumberColumn(
            "silhouette (noise counted)",
            format="%.3f",
            help="The same with noise songs counted as one more group: what the methods are "
            "compared by, so calling hard songs noise earns nothing. — for an atlas built "
            "before it was measured, or fewer than two groups.",
        ),
        "davies_bouldin": st.column_config.NumberColumn(
            "Davies–Bouldin",
            format="%.3f",
            help="How spread each cluster is against how far it sits from the nearest other: "
            "lower is better.",
        ),
        "noise_share": percent_column("noise"),
        "agreement_ari": st.column_config.TextColumn(
            "agreement (ARI)", help="Adjusted Rand index with each other method (1 = identical)."
        ),
        "stability_ari": st.column_config.NumberColumn(
            "stability (ARI)", format="%.3f", help="Mean ARI of refits on resampled songs."
        ),
    },
)
sample = methods["silhouette_sample"].dropna()
if len(sample) and int(sample.max()) < view.total:
    st.caption(f"Silhouettes are computed on a random sample of {int(sample.max()):,} songs.")
with st.expander("How each method's parameters were chosen"):
    for row in methods.itertuples():
        st.markdown(f"**{plain(row.method)}**: {plain(row.rule)}")

st.subheader(
    f"Personas · {METHOD_TITLES[view.method]}",
    help="σ (sigma): standard deviations from the catalog's average; +1.0σ energy means the "
    "cluster's songs are one typical spread more energetic than the average song.",
)
personas = atlas.personas_of(view.method).set_index("cluster")
filtered = sizes.set_index("cluster")["songs"]
order = sizes["cluster"].tolist()
for i, cluster in enumerate(order[:CARDS]):
    if i % 3 == 0:
        cards = st.columns(3)  # a row of cards at a time: a phone stacks them largest first
    row = personas.loc[cluster]
    with cards[i % 3].container(border=True):
        st.markdown(f"**{plain(row['persona'])}**")
        st.caption(
            f"cluster {cluster} · {int(row['size']):,} songs ({row['share']:.1%})"
            + (f" · {int(filtered.get(cluster, 0)):,} after filters" if view.filters.active else "")
        )
        if row["reasons"]:
            st.caption("Why: " + plain(reason_text(row["reasons"])))
        if row["dominant_genres"]:
            st.caption("Genres: " + plain(genre_text(row["dominant_genres"])))
if len(order) > CARDS:
    st.caption(f"{len(order) - CARDS:,} smaller clusters are listed below.")
    rest = personas.loc[order[CARDS:], ["persona", "size", "share"]].reset_index()
    show_table(rest)

st.subheader("What was dropped at ingestion")
st.text(without_paths(atlas, atlas.report.summary()))
dropped = dropped_rows(atlas)
if dropped.empty:
    st.success(
        "Nothing was dropped: every row of the file became a track.", icon=":material/check:"
    )
else:
    show_table(dropped)
