"""Drawing an artist's profile (used by the Search page)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from soundatlas.clustering.result import METHOD_TITLES, PERSONA_COLUMNS
from soundatlas.dashboard import charts
from soundatlas.dashboard.session import show_error
from soundatlas.dashboard.text import plain
from soundatlas.dashboard.ui import show_table
from soundatlas.discovery import artist_profile
from soundatlas.errors import AmbiguousQuery, SoundAtlasError


def show_artist(atlas, name: str, method: str) -> None:
    """Songs, cluster spread, sound against the catalog, top songs, genres, similar artists."""
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
            key="artist_shares",
            config=charts.CONFIG,
        )
    if not profile.profile.empty:
        sound.plotly_chart(
            charts.z_bars(
                profile.profile["feature"].tolist(),
                profile.profile["z"].to_numpy(),
                title="How they sound against the catalog",
            ),
            key="artist_profile",
            config=charts.CONFIG,
        )
    st.markdown("**Most popular songs**")
    top = profile.top_songs
    columns = ("name", "artists", PERSONA_COLUMNS[method], "popularity", "release_year", "genres")
    show_table(top[[c for c in columns if c in top]], column_config={columns[2]: "persona"})
    if not profile.similar_artists.empty:
        st.markdown("**Artists who sound most like them**")
        show_table(
            profile.similar_artists,
            column_config={
                "similarity": st.column_config.ProgressColumn(
                    "similarity", format="%.3f", min_value=0.0, max_value=1.0
                )
            },
        )
