"""The sidebar: filters that apply to every section, kept in the URL.

The URL always holds the view, so it can be shared and reloaded: when a session starts, the
filter widgets are set from the query parameters (invalid values are ignored); after every run,
the parameters are rewritten from the widgets, only where they differ from the defaults, so an
unfiltered view has a clean URL. This is done here rather than with Streamlit's own widget
binding because moving between pages drops the query string, and the binding does not reliably
put it back; here every run does. Reset puts every widget back to its default.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import streamlit as st

from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.discovery.filters import EXPLICIT_CHOICES, Bounds, FilterIndex, Filters

METHOD_KEY = "method"
GENRE_KEY = "genre"
ARTIST_KEY = "artist"
POPULARITY_KEY = "pop"
DURATION_KEY = "dur"
EXPLICIT_KEY = "explicit"
ATLAS_SEEN_KEY = "_sa_filters_for"


def filter_keys(index: FilterIndex) -> list[str]:
    """Session-state keys (the same as the URL parameters) of every filter widget."""
    return [
        METHOD_KEY,
        GENRE_KEY,
        ARTIST_KEY,
        POPULARITY_KEY,
        DURATION_KEY,
        EXPLICIT_KEY,
        *index.feature_names,
    ]


def defaults(index: FilterIndex) -> dict[str, object]:
    """The value of every filter widget when nothing is filtered."""
    out: dict[str, object] = {
        METHOD_KEY: index.recommended,
        GENRE_KEY: [],
        ARTIST_KEY: "",
        EXPLICIT_KEY: "any",
    }
    if "popularity" in index.bounds:
        bounds = index.bounds["popularity"]
        out[POPULARITY_KEY] = (int(bounds.low), int(bounds.high))
    if "duration" in index.bounds:
        out[DURATION_KEY] = index.bounds["duration"].full
    for feature in index.feature_names:
        out[feature] = index.bounds[feature].full
    return out


def reset_filters(index: FilterIndex, *, keep_method: bool = True) -> None:
    """Put every filter back to its default (a widget callback: runs before the next run)."""
    for key, value in defaults(index).items():
        if key == METHOD_KEY and keep_method and key in st.session_state:
            continue
        st.session_state[key] = value


def choose_method(method: str) -> None:
    """Make ``method`` the sidebar's clustering method (for widget callbacks on pages)."""
    st.session_state[METHOD_KEY] = method


# -- URL <-> widget values -----------------------------------------------------------------------


def _span_parser(bounds: Bounds, whole: bool) -> Callable[[list[str]], tuple | None]:
    def parse(values: list[str]) -> tuple | None:
        if len(values) != 2:
            return None
        try:
            low, high = (float(v) for v in values)
        except ValueError:
            return None
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            return None
        low, high = max(low, bounds.low), min(high, bounds.high)
        if low > high:
            return None
        return (round(low), round(high)) if whole else (low, high)

    return parse


def _parsers(index: FilterIndex) -> dict[str, Callable[[list[str]], object | None]]:
    genres = set(index.genre_names)
    out: dict[str, Callable[[list[str]], object | None]] = {
        METHOD_KEY: lambda v: v[-1] if v and v[-1] in index.methods else None,
        GENRE_KEY: lambda v: [g for g in dict.fromkeys(v) if g in genres] or None,
        ARTIST_KEY: lambda v: v[-1][:200] if v and v[-1].strip() else None,
        EXPLICIT_KEY: lambda v: v[-1] if v and v[-1] in EXPLICIT_CHOICES else None,
    }
    if "popularity" in index.bounds:
        out[POPULARITY_KEY] = _span_parser(index.bounds["popularity"], whole=True)
    if "duration" in index.bounds:
        out[DURATION_KEY] = _span_parser(index.bounds["duration"], whole=False)
    for feature in index.feature_names:
        out[feature] = _span_parser(index.bounds[feature], whole=False)
    return out


def values_from_url(index: FilterIndex, params: dict[str, list[str]]) -> dict[str, object]:
    """Widget values a URL asks for (parameter name -> value); invalid values are left out."""
    out = {}
    for key, parse in _parsers(index).items():
        if key in params:
            value = parse(params[key])
            if value is not None:
                out[key] = value
    return out


def url_from_values(index: FilterIndex, values: dict[str, object]) -> dict[str, list[str]]:
    """The query parameters of widget values: only those that differ from the defaults."""
    out: dict[str, list[str]] = {}
    for key, default in defaults(index).items():
        value = values.get(key, default)
        if isinstance(default, tuple):
            value = tuple(value)  # type: ignore[arg-type]
        if value == default or value in ("", [], None):
            continue
        if isinstance(value, tuple):
            out[key] = [_number(v) for v in value]
        elif isinstance(value, list):
            out[key] = [str(v) for v in value]
        else:
            out[key] = [str(value)]
    return out


def _number(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _sync_url(index: FilterIndex) -> None:
    """Rewrite the filter parameters of the URL from the widgets, if they differ."""
    wanted = url_from_values(index, {k: st.session_state.get(k) for k in filter_keys(index)})
    for key in filter_keys(index):
        current = st.query_params.get_all(key)
        target = wanted.get(key, [])
        if current == target:
            continue
        if target:
            st.query_params[key] = target if len(target) > 1 else target[0]
        elif key in st.query_params:
            del st.query_params[key]


# -- the widgets ---------------------------------------------------------------------------------


def render(index: FilterIndex) -> Filters:
    """Draw the filters in the sidebar, keep the URL in step, and return what they select."""
    if st.session_state.get(ATLAS_SEEN_KEY) != index.fingerprint:
        first = st.session_state.get(ATLAS_SEEN_KEY) is None
        for key in filter_keys(index):
            st.session_state.pop(key, None)
        if first:
            params = {key: st.query_params.get_all(key) for key in st.query_params}
            st.session_state.update(values_from_url(index, params))
        st.session_state[ATLAS_SEEN_KEY] = index.fingerprint
    for key, value in defaults(index).items():
        st.session_state.setdefault(key, value)
    side = st.sidebar
    method = side.selectbox(
        "Clustering method",
        index.methods,
        format_func=lambda m: METHOD_TITLES[m],
        key=METHOD_KEY,
    )
    absent = index.absent_columns()
    genres: list[str] = []
    if "genre" not in absent:
        genres = side.multiselect(
            "Genre",
            list(index.genre_names),
            key=GENRE_KEY,
            placeholder="Any genre (type to search)",
        )
    artist = ""
    if "artist" not in absent:
        artist = side.text_input("Artist", key=ARTIST_KEY, placeholder="Exact name or part of it")
    if absent:
        side.caption(
            f"This catalog has no {', '.join(absent)} column"
            f"{'s' if len(absent) > 1 else ''}: the filters that need "
            f"{'them' if len(absent) > 1 else 'it'} are hidden."
        )
    if artist.strip():
        matches = len(index.matching_artists(artist))
        side.caption(f"{matches:,} artist{'s' if matches != 1 else ''} match")
    popularity = duration = None
    if "popularity" not in absent:
        bounds = index.bounds["popularity"]
        popularity = side.slider(
            "Popularity",
            int(bounds.low),
            int(bounds.high),
            key=POPULARITY_KEY,
        )
    if "duration" not in absent:
        bounds = index.bounds["duration"]
        duration = side.slider(
            "Duration (minutes)",
            bounds.low,
            bounds.high,
            step=bounds.step,
            key=DURATION_KEY,
            help="A slider pushed to its end includes everything beyond it.",
        )
    explicit = "any"
    if "explicit" not in absent:
        explicit = side.radio("Explicit", EXPLICIT_CHOICES, horizontal=True, key=EXPLICIT_KEY)
    features = []
    with side.expander("Audio features", expanded=False):
        for feature in index.feature_names:
            bounds = index.bounds[feature]
            span = st.slider(
                feature.capitalize(),
                bounds.low,
                bounds.high,
                step=bounds.step,
                key=feature,
            )
            if tuple(span) != bounds.full:
                features.append((feature, (float(span[0]), float(span[1]))))
    filters = Filters(
        method=method or index.recommended,
        genres=tuple(genres),
        artist=artist or "",
        popularity=_changed(popularity, index, "popularity"),
        duration=_changed(duration, index, "duration"),
        explicit=explicit or "any",
        features=tuple(features),
    )
    side.button(
        "Reset filters",
        on_click=reset_filters,
        args=(index,),
        icon=":material/restart_alt:",
        disabled=not filters.active,
        width="stretch",
    )
    _sync_url(index)
    return filters


def _changed(
    span: tuple[float, float] | None, index: FilterIndex, name: str
) -> tuple[float, float] | None:
    if span is None or tuple(float(v) for v in span) == index.bounds[name].full:
        return None
    return (float(span[0]), float(span[1]))
