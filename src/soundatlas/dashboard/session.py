"""Streamlit glue: which atlas a session looks at, loading it once for everyone, and the view.

The atlas and its indexes (`soundatlas.discovery.index.discovery_index`, whose ``filters`` the
sidebar and charts use) are cached with ``st.cache_resource`` (one shared, read-only copy
for every session), keyed on the folder and the manifest's fingerprint, so a rebuilt atlas is
picked up and a big table is never hashed. Everything derived from the atlas that is built
lazily elsewhere (its scaled features, the discovery index and its name lookups) is built inside
the cached loader, so no session changes a shared object later. Each script run stores its
filtered `View` in the session so the page that runs next draws from the same mask.

Uploaded catalogs belong to the session that uploaded them: their atlas ids are kept in the
session, and only those (with the startup and demo atlases) can be listed or opened.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import streamlit as st

from soundatlas.atlas.manifest import MANIFEST
from soundatlas.atlas.model import Atlas, load_atlas
from soundatlas.dashboard.catalogs import (
    STARTUP_ID,
    AtlasChoice,
    find_choice,
    is_upload_id,
    known_atlases,
    mark_used,
)
from soundatlas.dashboard.settings import ATLAS_ENV
from soundatlas.dashboard.state import View
from soundatlas.dashboard.text import plain_lines, without_folders
from soundatlas.discovery.filters import FilterIndex
from soundatlas.discovery.index import discovery_index
from soundatlas.errors import AtlasError, SoundAtlasError

VIEW_KEY = "_sa_view"
CHOICE_KEY = "_sa_atlas"
UPLOADS_KEY = "_sa_uploads"
"""Session state: ids of the atlases this session uploaded (the only uploads it can see)."""
PLAYLISTS_KEY = "pl_history"
"""Session state: the playlists generated in this session, ``[(label, csv_text), …]``."""
NOT_OURS_KEY = "_sa_not_ours"
"""Session state: an atlas id the URL asked for that this session cannot open."""
ATLAS_PARAM = "atlas"
OPEN_PAGE = "app_pages/open_catalog.py"
CACHE_TTL = 6 * 3600
"""Seconds a loaded atlas stays cached after its last use."""


def startup_path() -> Path | None:
    """The atlas folder the dashboard was started with (``soundatlas dashboard ATLAS``)."""
    value = os.environ.get(ATLAS_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


@lru_cache(maxsize=64)
def _fingerprint(path: str, stamp: tuple[int, int]) -> str:
    manifest = json.loads(Path(path, MANIFEST).read_text(encoding="utf-8"))
    return str(manifest.get("fingerprint", ""))


def manifest_fingerprint(path: Path) -> str:
    """The build fingerprint in an atlas's manifest ('' if it cannot be read; loading then
    reports why). Re-read only when the manifest file changes."""
    try:
        stat = (path / MANIFEST).stat()
        return _fingerprint(str(path), (stat.st_mtime_ns, stat.st_size))
    except (OSError, ValueError):
        return ""


@st.cache_resource(max_entries=4, ttl=CACHE_TTL, show_spinner=False)
def _load(path: str, fingerprint: str) -> tuple[Atlas, FilterIndex]:
    atlas = load_atlas(path)
    if fingerprint and atlas.fingerprint != fingerprint:
        raise AtlasError(f"{path}: the atlas changed while loading; reload the page.")
    warm(atlas)
    return atlas, discovery_index(atlas).filters


def warm(atlas: Atlas) -> None:
    """Build, before the atlas is shared, what other modules compute on first use: the scaled
    features (`Atlas.scaled`), the discovery index and its name lookups. The merge tree the
    pages hand to the dendrogram is made read-only."""
    atlas.scaled  # noqa: B018  (a cached property: computed here, once)
    for tree in (atlas.linkage, atlas.linkage_songs):
        if isinstance(tree, np.ndarray):
            tree.flags.writeable = False
    index = discovery_index(atlas)
    getattr(index, "text", None)  # name lookups, else built on first search
    getattr(index, "filters", None)  # the sidebar's arrays


def load(path: Path) -> tuple[Atlas, FilterIndex]:
    """The atlas at ``path`` and its index, from the shared cache (loaded on first use).

    Raises
    ------
    AtlasError
        If the folder is missing, incomplete or damaged (the message says what to do).
    """
    fingerprint = manifest_fingerprint(path)
    if not fingerprint:
        load_atlas(path)  # raises the precise reason (missing, no manifest, damaged)
        raise AtlasError(f"{path}: the manifest has no fingerprint; rebuild the atlas.")
    if is_upload_id(path.name):
        mark_used(path)  # an upload in use is not removed as stale
    with st.spinner("Loading the atlas (once for every visitor)…"):
        return _load(str(path), fingerprint)


def own_uploads() -> frozenset[str]:
    """Ids of the atlases of catalogs this session uploaded."""
    return frozenset(st.session_state.get(UPLOADS_KEY, ()))


def add_upload(atlas_id: str) -> None:
    """Let this session see and open the atlas of a catalog it uploaded."""
    st.session_state[UPLOADS_KEY] = sorted(own_uploads() | {atlas_id})


def choices() -> list[AtlasChoice]:
    """Atlases this session can open: the startup and demo atlases, and its own uploads."""
    return known_atlases(startup_path(), uploads=own_uploads())


def current_choice(options: list[AtlasChoice]) -> AtlasChoice | None:
    """The atlas this session looks at: from the URL, else the session, else the first one
    (kept in the URL, by id, unless it is the one the dashboard was started with).

    A URL naming an atlas this session cannot open (another visitor's upload, or one deleted
    since) falls back to the first atlas; `NOT_OURS_KEY` records it so the page can say why.
    """
    asked = st.query_params.get(ATLAS_PARAM)
    wanted = asked or st.session_state.get(CHOICE_KEY)
    choice = find_choice(options, wanted)
    if choice is None and asked:
        st.session_state[NOT_OURS_KEY] = asked
    choice = choice or (options[0] if options else None)
    in_url = None if choice is None or choice.id == STARTUP_ID else choice.id
    if st.query_params.get(ATLAS_PARAM) != in_url:
        if in_url is None:
            del st.query_params[ATLAS_PARAM]
        else:
            st.query_params[ATLAS_PARAM] = in_url
    return choice


def open_atlas(atlas_id: str) -> None:
    """Switch this session to another atlas (and put it in the URL so the view can be shared)."""
    st.session_state[CHOICE_KEY] = atlas_id
    st.session_state.pop(NOT_OURS_KEY, None)
    if atlas_id == STARTUP_ID:
        if ATLAS_PARAM in st.query_params:
            del st.query_params[ATLAS_PARAM]
    else:
        st.query_params[ATLAS_PARAM] = atlas_id


def set_view(view: View) -> None:
    """Remember this run's filtered view for the page about to run."""
    st.session_state[VIEW_KEY] = view


def current_view() -> View:
    """The filtered view the entry script prepared for this run."""
    view = st.session_state.get(VIEW_KEY)
    if view is None:
        st.error("No atlas is open. Open a catalog or pick an atlas first.")
        st.page_link(OPEN_PAGE, label="Open a catalog", icon=":material/folder_open:")
        st.stop()
    return view


def show_error(exc: SoundAtlasError | str) -> None:
    """A library error in the same words as the command line, as plain text: messages quote
    song, artist and file names and cell values, which must never become Markdown; files are
    named without the server's folders."""
    st.error(plain_lines(without_folders(exc)), icon=":material/error:")
