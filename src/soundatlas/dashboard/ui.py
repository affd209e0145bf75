"""Small Streamlit helpers the pages share: the empty-result state and error display."""

from __future__ import annotations

import streamlit as st

from soundatlas.dashboard.sidebar import reset_filters
from soundatlas.dashboard.state import View


def require_songs(view: View) -> None:
    """Stop the page with a clear message and a way out when the filters match nothing."""
    if view.count:
        return
    st.warning(
        "No songs match these filters. Widen a range, remove a genre or artist, or reset them.",
        icon=":material/filter_alt_off:",
    )
    st.button(
        "Reset filters",
        on_click=reset_filters,
        args=(view.index,),
        key="empty_reset",
        icon=":material/restart_alt:",
        type="primary",
    )
    st.stop()


def page_header(title: str, view: View) -> None:
    """Page title and a one-line reminder of the method and the filtered count."""
    st.title(title)
    st.caption(
        f"{view.atlas.methods[view.method].title} · {view.count:,} of {view.total:,} songs"
        + (" (filtered)" if view.filters.active else "")
    )
    if view.atlas.sampled:
        st.info(
            f"This atlas holds {view.atlas.report.tracks:,} songs; a uniform random sample of "
            f"{view.total:,} is loaded, and charts, filters, search and playlists use it. "
            "Persona sizes and shares cover every song, and `soundatlas export` writes every "
            "song.",
            icon=":material/info:",
        )
