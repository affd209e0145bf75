"""Plotly figures for the dashboard: pure functions, small tables or NumPy arrays in, Figure out.

Every text that reaches a figure (persona, song, artist, genre) goes through `html.escape`,
because Plotly renders a subset of HTML in labels and hover text. Arrays are passed as NumPy
arrays (Plotly encodes them compactly); the PCA map uses WebGL (``scattergl``).

Figures are written as plain specs and wrapped without Plotly's per-property validation, which
costs tens of milliseconds per chart on every rerun (the tests validate every chart instead).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

PALETTE = (
    "#4c72b0",
    "#dd8452",
    "#55a868",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#17becf",
)
NOISE_COLOR = "#b0b0b0"
CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}
"""Plotly config of a static chart: no toolbar, resizes with its column (phones)."""
ZOOMABLE = {"displaylogo": False, "responsive": True, "displayModeBar": False, "scrollZoom": False}
"""Plotly config of the PCA map: a drag pans or draws a selection box (see `pca_scatter`), a
double-click resets it; no toolbar, which on a phone covered the top of the map."""
HEIGHT = 420
SHORT_NAMES = {
    "danceability": "dance",
    "speechiness": "speech",
    "acousticness": "acoustic",
    "instrumentalness": "instrum.",
}
"""Shorter axis labels where space is tight (radar, heatmap), so charts fit a phone."""


def short_name(feature: str) -> str:
    """``"acousticness"`` -> ``"acoustic"``: a feature's name for tight chart axes."""
    return SHORT_NAMES.get(feature, feature)


def cluster_color(cluster: int) -> str:
    """One colour per cluster number, the same in every chart; grey for noise."""
    return NOISE_COLOR if cluster < 0 else PALETTE[int(cluster) % len(PALETTE)]


def cluster_label(cluster: int, persona: str) -> str:
    """``"3 · Rap & Hip-Hop"``, escaped for Plotly."""
    prefix = "noise" if cluster < 0 else str(int(cluster))
    return html.escape(f"{prefix} · {persona}")


def _figure(traces: list[dict], layout: dict | None = None) -> go.Figure:
    """A Figure from trace dicts, skipping validation (see the module docstring)."""
    return go.Figure({"data": traces, "layout": layout or {}}, _validate=False)


def _layout(
    figure: go.Figure,
    *,
    title: str = "",
    height: int = HEIGHT,
    legend_y: float = -0.12,
    side: int = 8,
) -> go.Figure:
    """Compact, phone-friendly layout: small margins, legend below the plot."""
    layout = figure.layout
    if title:
        layout.title = {"text": html.escape(title), "x": 0, "font": {"size": 15}}
    layout.height = height
    layout.margin = {"l": side, "r": side, "t": 40 if title else 10, "b": 8}
    layout.legend = {"orientation": "h", "yanchor": "top", "y": legend_y, "x": 0}
    layout.autosize = True
    return figure


def share_pie(sizes: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Pie of each cluster's share of the filtered songs."""
    labels = [cluster_label(c, p) for c, p in zip(sizes["cluster"], sizes["persona"], strict=True)]
    trace = {
        "type": "pie",
        "labels": labels,
        "values": sizes["songs"].to_numpy(),
        "marker": {"colors": [cluster_color(c) for c in sizes["cluster"]]},
        "texttemplate": "%{percent:.1%}",
        "hovertemplate": "%{label}<br>%{value:,} songs (%{percent:.1%})<extra></extra>",
        "sort": False,
        "hole": 0.35,
    }
    return _layout(_figure([trace]), title=title)


def share_bar(sizes: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Horizontal bars: % of the filtered songs in each cluster, largest on top."""
    ordered = sizes.iloc[::-1]
    labels = [
        cluster_label(c, p) for c, p in zip(ordered["cluster"], ordered["persona"], strict=True)
    ]
    trace = {
        "type": "bar",
        "x": ordered["share"].to_numpy() * 100,
        "y": labels,
        "orientation": "h",
        "marker": {"color": [cluster_color(c) for c in ordered["cluster"]]},
        "customdata": ordered["songs"].to_numpy(),
        "text": [f"{s:.1%}" for s in ordered["share"]],
        "textposition": "auto",
        "hovertemplate": "%{y}<br>%{x:.1f}% · %{customdata:,} songs<extra></extra>",
    }
    layout = {"xaxis": {"title": {"text": "% of filtered songs"}}, "yaxis": {"automargin": True}}
    return _layout(_figure([trace], layout), title=title, height=max(HEIGHT, 60 + 28 * len(sizes)))


def feature_box(stats: pd.DataFrame, feature: str, *, title: str = "") -> go.Figure:
    """Box plot of one feature per cluster from precomputed quartiles (no raw songs sent)."""
    traces = []
    for row in stats.itertuples():
        label = cluster_label(row.cluster, row.persona)
        traces.append(
            {
                "type": "box",
                "name": label,
                "x": [label],
                "q1": [row.q1],
                "median": [row.median],
                "q3": [row.q3],
                "lowerfence": [row.lowerfence],
                "upperfence": [row.upperfence],
                "mean": [row.mean],
                "marker": {"color": cluster_color(row.cluster)},
                "boxpoints": False,
                "hovertemplate": f"{label}<br>{row.songs:,} songs<extra></extra>",
            }
        )
    layout = {
        "yaxis": {"title": {"text": html.escape(feature)}},
        "xaxis": {"showticklabels": False},
    }
    return _layout(_figure(traces, layout), title=title, legend_y=-0.05)


def profile_radar(profiles: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Radar of each cluster's mean features, scaled 0–1 by the catalog range."""
    features = [c for c in profiles.columns if c != "persona"]
    theta = [short_name(f) for f in [*features, *features[:1]]]
    traces = []
    for cluster, row in profiles.iterrows():
        values = row[features].to_numpy(dtype=float)
        traces.append(
            {
                "type": "scatterpolar",
                "r": np.append(values, values[:1]),
                "theta": theta,
                "name": cluster_label(int(cluster), str(row["persona"])),
                "line": {"color": cluster_color(int(cluster))},
                "hovertemplate": "%{theta}: %{r:.2f}<extra>%{fullData.name}</extra>",
            }
        )
    layout = {
        "polar": {
            "radialaxis": {"range": [0, 1], "tickfont": {"size": 11}},
            "angularaxis": {"tickfont": {"size": 11}},
        }
    }
    return _layout(_figure(traces, layout), title=title, height=HEIGHT + 80, side=56)


def correlation_heatmap(corr: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Heatmap of Pearson correlations with the values written in the cells."""
    values = corr.to_numpy(dtype=float)
    names = [html.escape(short_name(str(c))) for c in corr.columns]
    trace = {
        "type": "heatmap",
        "z": values,
        "x": names,
        "y": names,
        "zmin": -1,
        "zmax": 1,
        "colorscale": [[0.0, "#2166ac"], [0.5, "#f7f7f7"], [1.0, "#b2182b"]],
        "text": np.round(values, 1),  # one decimal fits a phone-wide cell at 11 px; hover: 2
        "texttemplate": "%{text}",
        "textfont": {"size": 11},
        "hovertemplate": "%{y} × %{x}: %{z:.2f}<extra></extra>",
    }
    layout = {
        "yaxis": {"autorange": "reversed", "tickfont": {"size": 11}},
        "xaxis": {"tickfont": {"size": 11}},
    }
    return _layout(_figure([trace], layout), title=title, height=HEIGHT + 60)


def pca_scatter(
    x: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    hover: np.ndarray,
    personas: dict[int, str],
    *,
    rows: np.ndarray | None = None,
    axis_titles: tuple[str, str] = ("PC1", "PC2"),
    title: str = "",
    box: bool = False,
) -> go.Figure:
    """WebGL scatter of songs on two principal axes, one trace (and colour) per cluster; a
    drag pans the map and a click selects a song, or with ``box`` a drag selects the songs in
    a box.

    ``hover`` holds already-escaped ``"Song — Artist"`` labels; the persona is the trace name.
    ``rows`` (the songs' rows in the atlas) ride along as each point's ``customdata``, so a
    click or a box selection says which songs were picked.
    """
    traces = []
    for cluster in np.unique(clusters):
        chosen = clusters == cluster
        traces.append(
            {
                "type": "scattergl",
                "x": np.asarray(x[chosen], dtype=np.float32),
                "y": np.asarray(y[chosen], dtype=np.float32),
                "mode": "markers",
                "name": cluster_label(int(cluster), personas.get(int(cluster), "?")),
                "marker": {"size": 4, "opacity": 0.7, "color": cluster_color(int(cluster))},
                "hovertext": hover[chosen],
                **({"customdata": np.asarray(rows)[chosen]} if rows is not None else {}),
                "hovertemplate": "%{hovertext}<br>%{fullData.name}<extra></extra>",
            }
        )
    layout = {
        "xaxis": {"title": {"text": html.escape(axis_titles[0])}},
        "yaxis": {"title": {"text": html.escape(axis_titles[1])}},
        # Streamlit lets a click select a song only while a drag pans, and leaves box and
        # lasso to the toolbar, which the map hides (on a phone it covered the top of the
        # map): the page offers the choice instead.
        "dragmode": "select" if box else "pan",
    }
    return _layout(_figure(traces, layout), title=title, height=HEIGHT + 140, legend_y=-0.2)


def dendrogram(
    icoord: Sequence[Sequence[float]],
    dcoord: Sequence[Sequence[float]],
    leaf_labels: Sequence[str],
    *,
    cut: float | None = None,
    title: str = "",
) -> go.Figure:
    """The top of a Ward merge tree (from `scipy.cluster.hierarchy.dendrogram(no_plot=True)`),
    with the height at which it is cut into the chosen number of clusters."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for i, d in zip(icoord, dcoord, strict=True):
        xs += [*i, None]
        ys += [*d, None]
    traces = [
        {
            "type": "scatter",
            "x": np.array(xs, dtype=float),
            "y": np.array(ys, dtype=float),
            "mode": "lines",
            "line": {"color": "#4c72b0", "width": 1.2},
            "hoverinfo": "skip",
            "showlegend": False,
        }
    ]
    layout: dict = {
        "xaxis": {
            "tickvals": 5 + 10 * np.arange(len(leaf_labels)),
            "ticktext": [html.escape(label) for label in leaf_labels],
            "range": [0, 10 * len(leaf_labels)],  # half a leaf's room at each end
            "tickangle": -90,  # upright labels fit 30 leaves on a phone without overlapping
            "tickfont": {"size": 10, "color": "#3d4350"},
            "showgrid": False,
        },
        "yaxis": {"title": {"text": "Ward merge distance"}},
    }
    if cut is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": cut,
                "y1": cut,
                "line": {"dash": "dash", "color": "#c44e52"},
            }
        ]
    return _layout(_figure(traces, layout), title=title, height=HEIGHT + 60)


def shares_bar(
    labels: Sequence[str],
    shares: np.ndarray,
    colors: Sequence[str],
    *,
    title: str = "",
    axis: str = "% of songs",
) -> go.Figure:
    """Horizontal bars of shares (e.g. an artist's songs per cluster); labels are escaped here."""
    trace = {
        "type": "bar",
        "x": np.asarray(shares, dtype=float) * 100,
        "y": [html.escape(str(label)) for label in labels],
        "orientation": "h",
        "marker": {"color": list(colors)},
        "hovertemplate": "%{y}: %{x:.1f}%<extra></extra>",
    }
    layout = {
        "xaxis": {"title": {"text": html.escape(axis)}},
        "yaxis": {"automargin": True, "autorange": "reversed"},
    }
    return _layout(_figure([trace], layout), title=title, height=max(260, 60 + 30 * len(labels)))


def z_bars(features: Sequence[str], z: np.ndarray, *, title: str = "") -> go.Figure:
    """Bars of z-scores against the catalog (how a set of songs differs), red above, blue below."""
    z = np.asarray(z, dtype=float)
    trace = {
        "type": "bar",
        "x": z,
        "y": [html.escape(str(f)) for f in features],
        "orientation": "h",
        "marker": {"color": np.where(z >= 0, "#c44e52", "#4c72b0").tolist()},
        "hovertemplate": "%{y}: %{x:+.2f}σ<extra></extra>",
    }
    layout = {
        "xaxis": {"title": {"text": "standard deviations from the catalog mean"}},
        "yaxis": {"automargin": True, "autorange": "reversed"},
    }
    return _layout(_figure([trace], layout), title=title, height=max(260, 60 + 28 * len(features)))
