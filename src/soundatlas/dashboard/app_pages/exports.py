"""Export & reports: the filtered songs as CSV or JSON, playlists made in this session, and the
one-click summary report (self-contained HTML with charts, or Markdown)."""

from __future__ import annotations

import streamlit as st

from soundatlas.dashboard import session
from soundatlas.dashboard.downloads import csv_bytes, filtered_songs, json_bytes
from soundatlas.dashboard.text import plain
from soundatlas.dashboard.ui import page_header, require_songs
from soundatlas.reports import report_html, report_markdown

view = session.current_view()
atlas = view.atlas
page_header("Export & reports", view)
require_songs(view)
rows = view.rows

st.subheader("Filtered songs")
st.caption(
    f"{view.count:,} songs with their clusters, personas and PCA coordinates. Cells that a "
    "spreadsheet would run as a formula (starting with = + - @) are prefixed with ' ."
)
csv_col, json_col = st.columns(2)
csv_col.download_button(
    "Download CSV",
    data=lambda: csv_bytes(filtered_songs(atlas, rows)),
    file_name="soundatlas-songs.csv",
    mime="text/csv",
    icon=":material/table_view:",
    on_click="ignore",
    key="ex_csv",
    width="stretch",
)
json_col.download_button(
    "Download JSON",
    data=lambda: json_bytes(filtered_songs(atlas, rows)),
    file_name="soundatlas-songs.json",
    mime="application/json",
    icon=":material/data_object:",
    on_click="ignore",
    key="ex_json",
    width="stretch",
)

st.subheader("Playlists")
playlists = st.session_state.get(session.PLAYLISTS_KEY, [])
if not playlists:
    st.caption("Playlists you generate in the Playlist generator appear here.")
for i, (label, text) in enumerate(reversed(playlists)):
    st.download_button(
        f"Download {plain(label)} (CSV)",
        data=text,
        file_name=f"soundatlas-playlist-{len(playlists) - i}.csv",
        mime="text/csv",
        on_click="ignore",
        key=f"ex_playlist_{len(playlists) - i}",
        icon=":material/queue_music:",
    )

st.subheader("Summary report")
st.caption(
    "Per method: metrics, agreement and how parameters were chosen; per cluster: persona and "
    "why, size, dominant genres, mean and standard deviation of every feature; what was dropped "
    "at ingestion. The HTML file is self-contained (charts embedded), safe to share."
)
only_filtered = st.toggle(
    "Describe only the filtered songs",
    value=False,
    key="ex_report_filtered",
    disabled=not view.filters.active,
    help="Tables and charts then describe the songs that pass the sidebar filters; personas "
    "and the methods' scores always describe the whole atlas.",
)
filtered = only_filtered and view.filters.active
# What a report describes: a built report is offered only while the view still matches it.
scope = (view.index.fingerprint, view.filters if filtered else None)
if st.button("Build the report", type="primary", icon=":material/summarize:", key="ex_build"):
    chosen = view.mask if filtered else None
    with st.spinner("Drawing the charts and writing the report…"):
        st.session_state["ex_report"] = (
            scope,
            report_html(atlas, rows=chosen).encode("utf-8"),
            report_markdown(atlas, rows=chosen).encode("utf-8"),
        )
report = st.session_state.get("ex_report")
if report and report[0] != scope:
    st.caption(
        "The view changed since the last report (atlas, filters or what it describes): "
        "build it again to match."
    )
elif report:
    report = report[1:]
    st.success("The report is ready.", icon=":material/check:")
    html_col, md_col = st.columns(2)
    html_col.download_button(
        "Download report (HTML)",
        data=report[0],
        file_name="soundatlas-report.html",
        mime="text/html",
        on_click="ignore",
        key="ex_report_html",
        icon=":material/download:",
        width="stretch",
    )
    md_col.download_button(
        "Download report (Markdown)",
        data=report[1],
        file_name="soundatlas-report.md",
        mime="text/markdown",
        on_click="ignore",
        key="ex_report_md",
        icon=":material/download:",
        width="stretch",
    )
st.caption("The same report from the command line: `soundatlas report ATLAS -o report.html`.")
