"""Linked views: a click on a song — in any song table or on the PCA map — opens its card (its
most similar songs and its artist), and a click on a song of the card opens that song's card.

One mechanism for every view: each records the song clicked in it (`follow`); a view that owns
a card draws it for the song last clicked in it or in the card's own tables (`song_card`).
Streamlit keeps a table's row selection under its key even when the rows change, so a table's
key names its rows (`table_key`): new rows start with nothing selected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd
import streamlit as st

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.result import METHOD_TITLES, PERSONA_COLUMNS
from soundatlas.dashboard import charts
from soundatlas.dashboard.session import show_error
from soundatlas.dashboard.text import plain
from soundatlas.dashboard.ui import show_table
from soundatlas.discovery import artist_profile, similar_tracks
from soundatlas.errors import AmbiguousQuery, SoundAtlasError

SIMILAR = 10
"""Similar songs on a card."""
SIMILARITY_COLUMN = st.column_config.ProgressColumn(
    "similarity", format="%.3f", min_value=0.0, max_value=1.0
)
"""How every table shows a similarity (0-1) score."""


def table_key(key: str, rows: np.ndarray) -> str:
    """The widget key of the song table ``key`` showing the songs at ``rows`` (in order)."""
    digest = hashlib.blake2b(np.ascontiguousarray(rows, dtype=np.int64).tobytes(), digest_size=6)
    return f"{key}_{digest.hexdigest()}"


def _opened_key(key: str) -> str:
    return f"_song_opened_{key}"


def _seen_key(key: str) -> str:
    return f"_song_seen_{key}"


def follow(
    atlas: Atlas, key: str, widget: str, song: int | None, *, opens: str | None = None
) -> None:
    """Record what is selected in the view ``key`` (its widget state ``widget``): a song newly
    clicked opens its card — the view's own, or the card ``opens`` a table inside a card
    belongs to, which is drawn again at once — and a click that clears the view's selection
    closes its own card. A selection seen before changes nothing, so a click in one view is
    not undone by the older selection of another. Songs are recorded with the atlas they
    belong to: a card never opens a song of another catalog at the same row."""
    seen = (atlas.fingerprint, widget, song)
    if st.session_state.get(_seen_key(key)) == seen:
        return
    st.session_state[_seen_key(key)] = seen
    if song is not None:
        st.session_state[_opened_key(opens or key)] = (atlas.fingerprint, song)
        if opens is not None:
            st.rerun()  # the card above was drawn for the song before
    elif opens is None:
        st.session_state.pop(_opened_key(key), None)


def _selected_row(widget: str) -> int | None:
    """Position of the row selected in the table ``widget``, if any."""
    state = st.session_state.get(widget) or {}
    rows = (state.get("selection") or {}).get("rows") or []
    return int(rows[0]) if rows else None


def song_table(
    atlas: Atlas,
    method: str,
    songs: pd.DataFrame,
    *,
    key: str,
    opens: str | None = None,
    column_config: Mapping | None = None,
) -> None:
    """A table of songs (``songs`` holds each song's atlas ``row``, not shown) in which a click
    on a row opens the song's card: under this table, or in the card ``opens`` when the table
    is part of a card (its similar songs, its artist's songs).

    A song of a sampled atlas that the loaded sample does not hold (no ``row``, or -1: found in
    the whole-catalog index) has no card to open; a table of only such songs is not clickable.
    """
    if "row" in songs:
        rows = songs["row"].fillna(-1).to_numpy(dtype=np.int64)
    else:
        rows = np.full(len(songs), -1, dtype=np.int64)
    shown = songs.drop(columns="row", errors="ignore")
    if not (rows >= 0).any():
        show_table(shown, column_config=column_config)
        return
    widget = table_key(key, rows)
    show_table(
        shown,
        column_config=column_config,
        key=widget,
        on_select="rerun",
        selection_mode="single-row",
    )
    position = _selected_row(widget)
    chosen = position is not None and position < len(rows) and rows[position] >= 0
    song = int(rows[position]) if chosen else None
    follow(atlas, key, widget, song, opens=opens)
    if opens is None:
        song_card(atlas, method, key)


def song_card(atlas: Atlas, method: str, key: str) -> None:
    """The card of the song last opened from the view ``key``: its most similar songs and
    its artist, each song of which opens its own card in the same place."""
    opened = st.session_state.get(_opened_key(key))
    if opened is None or opened[0] != atlas.fingerprint:
        return
    row = int(opened[1])
    song = atlas.tracks.iloc[row]
    artists = list(song["artists"]) if song["artists"] is not None else []
    persona = PERSONA_COLUMNS[method]
    with st.container(border=True, key=f"card_{key}"):
        st.markdown(f"**{plain(song['name'])}** — {plain(', '.join(artists)) or 'unknown artist'}")
        try:
            similar = similar_tracks(atlas, row, n=SIMILAR)
        except SoundAtlasError as exc:
            show_error(exc)
            return
        st.caption(f"Its {len(similar)} most similar songs; click one to open it here.")
        song_table(
            atlas,
            method,
            similar[[c for c in ("row", "similarity", "name", "artists", persona) if c in similar]],
            key=f"{key}_similar",
            opens=key,
            column_config={"similarity": SIMILARITY_COLUMN, persona: "persona"},
        )
        if artists:
            with st.expander(f"Artist: {artists[0]}"):
                show_artist(atlas, artists[0], method, key=f"{key}_artist", opens=key)


def show_artist(
    atlas: Atlas, name: str, method: str, *, key: str = "artist", opens: str | None = None
) -> None:
    """Songs, cluster spread, sound against the catalog, top songs, genres, similar artists.

    A click on one of the top songs opens its card (in the card ``opens`` when the profile is
    part of one); ``key`` names the profile's widgets, so a page can show two profiles.
    """
    try:
        profile = artist_profile(atlas, name)
    except AmbiguousQuery as exc:
        show_error(exc)
        candidates = exc.candidates
        if isinstance(candidates, pd.DataFrame) and not candidates.empty:
            show_table(candidates)
        return
    except SoundAtlasError as exc:
        show_error(exc)
        return
    st.subheader(plain(profile.name))
    songs, persona = st.columns(2)
    songs.metric("Songs", f"{len(profile.songs):,}")
    dominant = profile.dominant_personas.get(method)
    if dominant:
        persona.metric(f"Mostly ({METHOD_TITLES[method]})", dominant)
    if profile.genres:
        st.caption("Genres: " + plain(", ".join(map(str, profile.genres[:8]))))
    spread, sound = st.columns(2)
    shares = profile.cluster_shares
    shares = shares[shares["method"] == method] if "method" in shares else shares
    if not shares.empty:
        labels = [f"{c} · {p}" for c, p in zip(shares["cluster"], shares["persona"], strict=True)]
        spread.plotly_chart(
            charts.shares_bar(
                labels,
                shares["share"].to_numpy(),
                [charts.cluster_color(int(c)) for c in shares["cluster"]],
                title=f"Their songs per cluster ({METHOD_TITLES[method]})",
            ),
            key=f"{key}_shares",
            config=charts.CONFIG,
        )
    if not profile.profile.empty:
        sound.plotly_chart(
            charts.z_bars(
                profile.profile["feature"].tolist(),
                profile.profile["z"].to_numpy(),
                title="How they sound against the catalog",
            ),
            key=f"{key}_profile",
            config=charts.CONFIG,
        )
    st.markdown("**Most popular songs**")
    top = profile.top_songs
    persona_column = PERSONA_COLUMNS[method]
    columns = ("row", "name", "artists", persona_column, "popularity", "release_year", "genres")
    song_table(
        atlas,
        method,
        top[[c for c in columns if c in top]],
        key=f"{key}_songs",
        opens=opens,
        column_config={persona_column: "persona"},
    )
    if not profile.similar_artists.empty:
        st.markdown("**Artists who sound most like them**")
        show_table(profile.similar_artists, column_config={"similarity": SIMILARITY_COLUMN})
