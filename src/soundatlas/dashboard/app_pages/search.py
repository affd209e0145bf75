"""Search & recommendations: find songs and artists by name; a song's 10 most similar songs
with scores and reasons; an artist's profile."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from soundatlas.dashboard import session
from soundatlas.dashboard.linked import SIMILARITY_COLUMN, show_artist, song_table
from soundatlas.dashboard.text import plain
from soundatlas.dashboard.ui import page_header, show_table
from soundatlas.discovery import (
    SIMILARITY_KINDS,
    search,
    searches_whole_catalog,
    similar_tracks,
    similarity_for,
)
from soundatlas.errors import SoundAtlasError

SIMILAR = 10
SEARCH_LIMIT = 50
PAGE_KEY = "se_page"
TABLE_KEY = "se_table"
QUERY_SEEN_KEY = "_se_page_for"
SIMILARITY_LABELS = {"sound": "sound", "sound+context": "sound + context"}
SIMILARITY_NOTES = {
    "sound": "Similarity is the cosine of the songs' scaled audio features (1 = same sound).",
    "sound+context": "Similarity is the cosine of the songs' audio features, popularity, "
    "release year and duration, with a bonus for shared genres (1 = same sound, context and "
    "genres).",
}

view = session.current_view()
atlas = view.atlas
page_header("Search & recommendations", view)

query = st.text_input(
    "Search songs and artists",
    key="q",
    placeholder="A song title or an artist, e.g. 'halo' or 'beyonce'",
    bind="query-params",
)
use_filters = st.toggle(
    "Only songs that match the sidebar filters",
    value=True,
    key="se_filtered",
    disabled=not view.filters.active,
    help="Applies to the songs found and to the similar songs.",
)
restrict = use_filters and view.filters.active
if not query.strip():
    st.caption("Type part of a name: case, accents and punctuation do not matter.")
    st.stop()
if st.session_state.get(QUERY_SEEN_KEY) != query:
    st.session_state[PAGE_KEY] = 1  # a new search starts on its first page
    st.session_state[QUERY_SEEN_KEY] = query
page = int(st.session_state.get(PAGE_KEY, 1))
try:
    found = search(atlas, query, limit=SEARCH_LIMIT, offset=(page - 1) * SEARCH_LIMIT)
except SoundAtlasError as exc:
    session.show_error(exc)
    st.stop()

if found.suggestion is not None:
    st.info(
        plain(f"Nothing matches '{query}'. Did you mean {found.suggestion}? Showing its results."),
        icon=":material/spellcheck:",
    )
pages = max(1, math.ceil(max(found.total_songs, found.total_artists) / SEARCH_LIMIT))
if pages > 1:
    st.number_input("Page of results", min_value=1, max_value=pages, key=PAGE_KEY)
st.caption(
    plain(
        f"{found.page_text('songs')}, {found.page_text('artists')}"
        + (" (before the sidebar filters)" if restrict else "")
    )
)
# Songs outside a sampled atlas's loaded sample (row -1) are left out: this page's filters,
# selection and charts work on the loaded songs (the CLI and the API list them).
songs = found.songs[found.songs["row"] >= 0]
if restrict and len(songs):
    songs = songs[view.mask[songs["row"].to_numpy(dtype=np.int64)]]
persona_column = view.persona_column
song_tab, artist_tab = st.tabs(
    [f"Songs ({found.total_songs:,})", f"Artists ({found.total_artists:,})"]
)

with song_tab:
    if songs.empty:
        st.info(
            "No song matches"
            + (
                " within the sidebar filters; switch the toggle off or reset them."
                if restrict
                else ". Try fewer words or another spelling."
            ),
            icon=":material/search_off:",
        )
    else:
        labels = {int(r.row): f"{r.name} — {r.artists}" for r in songs.itertuples(index=False)}
        picked = st.selectbox(
            "Pick a song to see its most similar songs",
            list(labels),
            index=None,
            format_func=lambda row: labels[row],
            key="se_song",
            placeholder=f"{len(labels):,} songs found",
        )
        if picked is None:
            shown = [
                c
                for c in (
                    "row",
                    "name",
                    "artists",
                    persona_column,
                    "popularity",
                    "releases",
                    "other_titles",
                    "genres",
                )
                if c in songs
            ]
            st.caption(
                "Click a row for the song's most similar songs and its artist. Each recording "
                "is listed once: "
                "'releases' counts the songs of the catalog that "
                "are releases of it (remasters, radio edits, other albums)."
            )
            song_table(
                atlas,
                view.method,
                songs[shown],
                key=TABLE_KEY,
                column_config={persona_column: "persona", "other_titles": "also released as"},
            )
        else:
            by = st.radio(
                "Similar by",
                SIMILARITY_KINDS,
                index=SIMILARITY_KINDS.index(similarity_for(atlas)),
                format_func=SIMILARITY_LABELS.get,
                horizontal=True,
                key="se_by",
                help="Sound: the audio features only. Sound + context: also popularity, release "
                "year, duration and genre, which finds songs of the same scene far more often.",
            )
            try:
                allowed = view.mask if restrict else None
                whole_catalog = searches_whole_catalog(atlas, allowed=allowed, similarity=by)
                similar = similar_tracks(
                    atlas, int(picked), n=SIMILAR, allowed=allowed, similarity=by
                )
            except SoundAtlasError as exc:
                session.show_error(exc)
                st.stop()
            st.subheader(f"{len(similar)} most similar songs")
            if similar.empty:
                st.info("No similar song passes the sidebar filters.", icon=":material/info:")
            else:
                columns = [
                    c
                    for c in (
                        "row",
                        "similarity",
                        "rank",
                        "name",
                        "artists",
                        persona_column,
                        "closest",
                        "differs",
                    )
                    if c in similar
                ]
                st.caption(
                    SIMILARITY_NOTES[by]
                    + " 'Closest on' and 'differs most on' say why."
                    + (
                        f" Found among all {atlas.report.tracks:,} songs of the catalog with "
                        "its approximate similar-songs index (songs outside the loaded sample "
                        "have no card to open)."
                        if whole_catalog
                        else " Found among the songs loaded here (a sample of the catalog); "
                        "click a song to open it."
                        if atlas.sampled
                        else " Click a song to open it."
                    )
                )
                song_table(
                    atlas,
                    view.method,
                    similar[columns],
                    key="se_similar",
                    column_config={
                        "similarity": SIMILARITY_COLUMN,
                        persona_column: "persona",
                        "closest": "closest on",
                        "differs": "differs most on",
                    },
                )

with artist_tab:
    artists = found.artists
    if artists.empty:
        st.info("No artist matches. Try part of the name.", icon=":material/search_off:")
    else:
        name = st.selectbox(
            "Pick an artist to see their profile",
            artists["artist"].astype(str).tolist(),
            index=None,
            key="se_artist",
            placeholder=f"{len(artists):,} artists found",
        )
        if name is None:
            show_table(artists)
        else:
            show_artist(atlas, name, view.method, key="se_profile")
