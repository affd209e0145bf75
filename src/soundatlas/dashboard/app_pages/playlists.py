"""Smart playlist generator: songs from a cluster and/or seeds, close to its sound, within the
limits given; a ranked table with scores and a one-click CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from soundatlas.clustering.result import METHOD_TITLES, PERSONA_COLUMNS
from soundatlas.dashboard import session
from soundatlas.dashboard.linked import SIMILARITY_COLUMN, song_table
from soundatlas.dashboard.state import View
from soundatlas.dashboard.summaries import cluster_sizes
from soundatlas.dashboard.text import plain
from soundatlas.dashboard.ui import page_header, show_table
from soundatlas.discovery import (
    ORDERS,
    PlaylistRequest,
    generate_playlist,
    playlist_csv,
    targets_within,
)
from soundatlas.errors import AmbiguousQuery, SoundAtlasError

RESULT_KEY = "pl_result"
HISTORY = 10
ORDER_TITLES = {
    "score": "Best match first",
    "smooth": "Smooth flow (tempo and energy)",
    "rising": "Rising energy",
    "falling": "Falling energy",
}

PICK_KEY = "_pl_pick"
"""An ambiguous seed waiting to be picked: (the seed text, its candidate songs)."""


def _use_seed(query: str, track_id: str | None) -> None:
    """Replace the ambiguous seed line with the picked song's track id (a widget callback, so
    the seed box can still be changed before it is drawn)."""
    if track_id is None:
        return
    lines = str(st.session_state.get("pl_seeds", "")).splitlines()
    st.session_state["pl_seeds"] = "\n".join(
        track_id if line.strip() == query else line for line in lines
    )
    st.session_state.pop(PICK_KEY, None)


def _pick_seed(query: str, candidates: pd.DataFrame) -> None:
    """The songs an ambiguous seed names, to pick one from (never by copying an id)."""
    ids = {
        f"{r.name} — {r.artists}"
        + (f" ({int(r.release_year)})" if pd.notna(r.release_year) else "")
        + f" · {r.track_id}": str(r.track_id)
        for r in candidates.itertuples(index=False)
    }
    st.info(
        plain(f"'{query}' names {len(ids)} songs: pick the one you mean."),
        icon=":material/help:",
    )
    picked = st.selectbox("Seed song", list(ids), index=None, key="pl_pick_song")
    st.button(
        "Use this song",
        key="pl_pick_use",
        disabled=picked is None,
        on_click=_use_seed,
        args=(query, ids.get(picked) if picked else None),
    )


view = session.current_view()
atlas, index = view.atlas, view.index
page_header("Smart playlist generator", view)


def sidebar_limits(view: View) -> tuple[dict[str, float], dict[str, float]]:
    """The sidebar's ranges as playlist limits (an open slider end sets no limit)."""
    minimum: dict[str, float] = {}
    maximum: dict[str, float] = {}
    spans = list(view.filters.features)
    if view.filters.popularity:
        spans.append(("popularity", view.filters.popularity))
    if view.filters.duration:
        low, high = view.filters.duration
        spans.append(("duration_ms", (low * 60_000, high * 60_000)))
    for column, (low, high) in spans:
        bounds = index.bounds["duration" if column == "duration_ms" else column]
        scale = 60_000 if column == "duration_ms" else 1
        if low > bounds.low * scale:
            minimum[column] = float(low)
        if high < bounds.high * scale:
            maximum[column] = float(high)
    return minimum, maximum


sizes = cluster_sizes(index, view.mask, view.method)
clusters = sizes.loc[sizes["cluster"] >= 0, ["cluster", "persona", "catalog_songs"]]
cluster_names = {
    int(r.cluster): f"{r.cluster} · {r.persona} ({r.catalog_songs:,} songs)"
    for r in clusters.itertuples()
}

controls, results = st.columns([2, 3], gap="large")
with controls, st.form("pl_form"):
    cluster = st.selectbox(
        f"Cluster ({METHOD_TITLES[view.method]})",
        [None, *sorted(cluster_names)],
        format_func=lambda c: "Any cluster (use seeds)" if c is None else cluster_names[c],
        index=1 if cluster_names else 0,
        key="pl_cluster",
    )
    seeds_text = st.text_area(
        "Seed songs (optional, one per line: title, 'title artist' or track id)",
        key="pl_seeds",
        height=80,
    )
    artists_text = st.text_area(
        "Seed artists (optional, one per line)", key="pl_seed_artists", height=68
    )
    left, right = st.columns(2)
    size = left.slider("Songs", 1, 50, 20, key="pl_size")
    threshold = right.slider(
        "Least similarity to the sound", 0.70, 1.00, 0.80, step=0.01, key="pl_threshold"
    )
    left, right = st.columns(2)
    cap = left.number_input("Most songs per artist", 1, 50, 2, key="pl_cap")
    order = right.selectbox(
        "Order", ORDERS, format_func=lambda o: ORDER_TITLES.get(o, o), key="pl_order"
    )
    allow_explicit = st.checkbox(
        "Allow explicit songs", value=view.filters.explicit != "no", key="pl_explicit"
    )
    with st.expander("Aim at feature values (optional)"):
        st.caption("Songs nearest the ticked targets come first; similarity breaks ties.")
        targets: dict[str, float] = {}
        for feature in index.feature_names:
            bounds = index.bounds[feature]
            on, value = st.columns([1, 3], vertical_alignment="bottom")
            ticked = on.checkbox(feature, key=f"pl_on_{feature}")
            middle = round((bounds.low + bounds.high) / 2 / bounds.step) * bounds.step
            chosen = value.slider(
                f"Target {feature}",
                bounds.low,
                bounds.high,
                float(middle),
                step=bounds.step,
                key=f"pl_target_{feature}",
                label_visibility="collapsed",
            )
            if ticked:
                targets[feature] = float(chosen)
    submitted = st.form_submit_button("Generate playlist", type="primary")

with results:
    minimum, maximum = sidebar_limits(view)
    if view.filters.active:
        st.caption(
            f"The playlist takes only songs that pass every sidebar filter ({view.count:,} of "
            f"{view.total:,} songs)."
        )

    pending = st.session_state.get(PICK_KEY)
    if pending is not None and not submitted:
        _pick_seed(*pending)

    if submitted:
        st.session_state.pop(PICK_KEY, None)
        try:
            request = PlaylistRequest(
                method=view.method,
                cluster=cluster,
                seeds=tuple(line.strip() for line in seeds_text.splitlines() if line.strip()),
                seed_artists=tuple(
                    line.strip() for line in artists_text.splitlines() if line.strip()
                ),
                size=int(size),
                threshold=float(threshold),
                minimum=minimum,
                maximum=maximum,
                target=targets_within(targets, minimum, maximum),
                allow_explicit=bool(allow_explicit),
                max_per_artist=int(cap),
                order=order,
            )
            allowed = view.mask if view.filters.active else None
            playlist = generate_playlist(atlas, request, allowed=allowed)
        except AmbiguousQuery as exc:
            session.show_error(exc)
            candidates = exc.candidates
            if (
                isinstance(candidates, pd.DataFrame)
                and "track_id" in candidates
                and not candidates.empty
                and exc.query is not None
            ):
                st.session_state[PICK_KEY] = (exc.query, candidates)
                _pick_seed(exc.query, candidates)
            elif isinstance(candidates, pd.DataFrame) and not candidates.empty:
                show_table(candidates)  # artists: type one of these names
            st.stop()
        except SoundAtlasError as exc:
            session.show_error(exc)
            st.stop()
        csv_text = playlist_csv(playlist)
        st.session_state[RESULT_KEY] = (index.fingerprint, playlist, csv_text)
        if len(playlist.tracks):
            label = f"{len(playlist.tracks)} songs · " + (
                cluster_names.get(cluster, "seeds") if cluster is not None else "seeds"
            )
            history = st.session_state.get(session.PLAYLISTS_KEY, [])
            st.session_state[session.PLAYLISTS_KEY] = [*history, (label, csv_text)][-HISTORY:]

    result = st.session_state.get(RESULT_KEY)
    if result and result[0] == index.fingerprint:
        _, playlist, csv_text = result
        tracks = playlist.tracks
        wanted = playlist.request.size
        if len(tracks) < wanted:
            st.warning(plain(playlist.message), icon=":material/playlist_remove:")
        else:
            st.success(plain(playlist.message), icon=":material/playlist_add_check:")
        if len(tracks):
            st.download_button(
                "Download playlist (CSV)",
                data=csv_text,
                file_name="soundatlas-playlist.csv",
                mime="text/csv",
                on_click="ignore",
                key="pl_download",
                type="primary",
                icon=":material/download:",
            )
            persona = PERSONA_COLUMNS.get(playlist.request.method or view.method, "persona")
            columns = [
                c
                for c in (
                    "row",
                    "similarity",
                    "position",
                    "rank",
                    "name",
                    "artists",
                    "target_distance",
                    persona,
                    "popularity",
                )
                if c in tracks and (c != "rank" or playlist.request.order != "score")
            ]
            st.caption("Click a song for its most similar songs and its artist.")
            song_table(
                atlas,
                view.method,
                tracks[columns],
                key="pl_table",
                column_config={
                    "position": "#",
                    "similarity": SIMILARITY_COLUMN,
                    "target_distance": st.column_config.NumberColumn(
                        "distance to targets", format="%.2f"
                    ),
                    persona: "persona",
                },
            )
        if playlist.cut_by and any(playlist.cut_by.values()):
            with st.expander("What each limit removed"):
                show_table(
                    pd.DataFrame(
                        {
                            "limit": list(playlist.cut_by),
                            "songs removed": list(playlist.cut_by.values()),
                        }
                    ),
                )
