"""Small Streamlit helpers the pages share: the empty-result state, page headers and tables."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from pandas.api.types import is_object_dtype, is_string_dtype

from soundatlas.dashboard.sidebar import reset_filters
from soundatlas.dashboard.state import View

MISSING = "—"
"""What a table shows for a value that does not apply or is not known."""
_TWO_CLUSTERS = f"{MISSING} means the score needs at least two clusters (noise not counted)."
MISSING_WHY: Mapping[str, str] = MappingProxyType(
    {
        "popularity": f"{MISSING} means the catalog gives no popularity (none in the file, or "
        "one outside 0–100, cleared when it was read).",
        "release_year": f"{MISSING} means the catalog gives no release date (or one that could "
        "not be read as a year).",
        "genres": f"{MISSING} means the catalog gives no genre.",
        "other_titles": f"{MISSING} means no other release of the recording has another title.",
        "explicit": f"{MISSING} means the catalog does not say whether the song is explicit.",
        "silhouette": _TWO_CLUSTERS,
        "davies_bouldin": _TWO_CLUSTERS,
        "stability_ari": f"{MISSING} means it is measured for K-Means only (refitted on "
        "resampled songs).",
        "agreement_ari": f"{MISSING} means only one method was run.",
    }
)
"""Why a column can have no value, by column name: the tooltip of its header when it has any
`MISSING` cell (Streamlit shows help on a column's header, not on a cell)."""


YEAR_COLUMNS = ("release_year", "year")


def percent_column(label: str, **options: Any) -> Any:
    """A column of shares (0-1) shown as percentages with one decimal ("33.6%"), the one
    percent format of the dashboard (Streamlit's own "percent" drops or keeps decimals)."""
    return st.column_config.NumberColumn(label, format="%.1f%%", **options)


def as_percent(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``frame`` with shares (0-1) in ``columns`` turned into percentages for `percent_column`."""
    return frame.assign(**{c: frame[c] * 100.0 for c in columns if c in frame})


def show_table(
    data: pd.DataFrame | list[dict], *, column_config: Mapping | None = None, **options: Any
) -> Any:
    """A table without its index, showing `MISSING` for missing values and empty cells (no
    genres), with the reason (from `MISSING_WHY`) on the header of each column that has any."""
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    frame = _blanks_missing(frame)
    config: dict[str, Any] = dict(column_config or {})
    for column in YEAR_COLUMNS:
        if column in frame.columns and column not in config:
            # A year is a label, not a quantity: "2002", never "2,002".
            config[column] = st.column_config.NumberColumn(column.replace("_", " "), format="%d")
    for column in frame.columns[frame.isna().any().to_numpy()]:
        reason = MISSING_WHY.get(str(column))
        if reason is None or (column in config and config[column] is None):
            continue
        config[column] = _with_help(config.get(column), reason)
    return st.dataframe(
        frame, hide_index=True, placeholder=MISSING, column_config=config or None, **options
    )


def _blanks_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with cells that hold nothing (an empty list or text, a song without genres)
    made missing values."""
    out = frame
    for column in frame.columns:
        values = frame[column]
        if not (is_object_dtype(values.dtype) or is_string_dtype(values.dtype)):
            continue
        blank = values.map(_is_blank, na_action="ignore").fillna(False).astype(bool)
        if blank.any():
            out = out.copy() if out is frame else out
            out[column] = values.astype(object).mask(blank, None)
    return out


def _is_blank(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | np.ndarray) and not len(value)


def _with_help(setting: str | Mapping | None, reason: str) -> dict:
    """A column's setting (a label, a ``st.column_config`` column or nothing) with ``reason``
    added to its help."""
    if setting is None:
        return {"help": reason}
    if isinstance(setting, str):
        return {"label": setting, "help": reason}
    merged = dict(setting)
    merged["help"] = f"{merged['help']} {reason}" if merged.get("help") else reason
    return merged


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
