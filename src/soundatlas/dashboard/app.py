"""SoundAtlas dashboard: the Streamlit entry script (``soundatlas dashboard [ATLAS]``).

Each run: pick the session's atlas, load it from the shared cache, draw the sidebar filters,
compute the filtered mask once, then run the chosen page. Heavy work happened when the atlas was
built; here we only filter, slice and look up. Errors the library raises on purpose are shown
with the same words as the command line, with a way out; nothing shows a traceback.
"""

from __future__ import annotations

import streamlit as st

from soundatlas.dashboard import session, sidebar
from soundatlas.dashboard.catalogs import UPLOAD_MAX_AGE, atlas_label
from soundatlas.dashboard.state import View
from soundatlas.dashboard.text import plain
from soundatlas.errors import SoundAtlasError

st.set_page_config(
    page_title="SoundAtlas",
    page_icon="🎧",  # an emoji is drawn in the page (a :material/…: icon is fetched from Google)
    layout="wide",
    initial_sidebar_state="auto",
)

PAGES = {
    "overview": st.Page(
        "app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True
    ),
    "distribution": st.Page(
        "app_pages/distribution.py", title="Cluster distribution", icon=":material/pie_chart:"
    ),
    "features": st.Page(
        "app_pages/features.py", title="Audio features", icon=":material/equalizer:"
    ),
    "playlists": st.Page(
        "app_pages/playlists.py", title="Playlist generator", icon=":material/queue_music:"
    ),
    "search": st.Page(
        "app_pages/search.py", title="Search & recommendations", icon=":material/search:"
    ),
    "exports": st.Page(
        "app_pages/exports.py", title="Export & reports", icon=":material/download:"
    ),
}
NOT_OURS = (
    "The link names an atlas this session cannot open. Uploaded catalogs are private to the "
    "browser session that uploaded them and deleted after "
    f"{UPLOAD_MAX_AGE.days} days without use: upload the same file again to reopen it."
)
OPEN_PAGE = st.Page(
    "app_pages/open_catalog.py", title="Open a catalog", icon=":material/folder_open:"
)


def _prepare() -> bool:
    """Load the session's atlas and store its filtered view; False if there is none to show."""
    st.session_state.pop(session.VIEW_KEY, None)
    options = session.choices()
    choice = session.current_choice(options)
    if st.session_state.pop(session.NOT_OURS_KEY, None):
        st.toast(NOT_OURS, icon=":material/lock:", duration="long")
    if choice is None:
        return False
    try:
        atlas, index = session.load(choice.path)
    except SoundAtlasError as exc:
        st.session_state["_sa_load_error"] = str(exc)
        return False
    st.session_state.pop("_sa_load_error", None)
    count_slot = st.sidebar.container()
    filters = sidebar.render(index)
    mask = index.mask(filters)
    view = View(atlas=atlas, index=index, filters=filters, mask=mask, source=choice.id)
    session.set_view(view)
    with count_slot:
        st.markdown(f"**{view.count:,} of {view.total:,} songs**")
        st.caption(plain(atlas_label(atlas)))
    return True


ready = _prepare()
sections = (
    {"Explore": list(PAGES.values()), "Catalogs": [OPEN_PAGE]}
    if ready
    else {"Catalogs": [OPEN_PAGE]}
)
navigation = st.navigation(sections, position="sidebar")
navigation.run()
