"""The report's charts, drawn with matplotlib as PNG: cluster shares, cluster profiles, the PCA
map and feature correlations.

Every chart describes the same songs as the report's tables: all of them, or the ``rows`` a
caller passes (the dashboard's filtered songs). The numbers behind each chart come from a small
function here (`cluster_shares`, `profile_z`, `map_sample`, `correlation_matrix`) so they can be
checked without looking at pictures.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.personas import CatalogStats
from soundatlas.clustering.result import LABEL_COLUMNS, METHOD_TITLES, PERSONA_COLUMNS
from soundatlas.errors import ConfigError
from soundatlas.files import write_bytes_atomic
from soundatlas.reports.tables import is_filtered, song_positions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SCATTER_SAMPLE = 5_000
"""Songs drawn in the report's PCA map (a random sample, stated on the chart)."""


# -- the numbers behind the charts ---------------------------------------------------------------


def cluster_shares(atlas: Atlas, method: str, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Share of the songs in ``rows`` (all if None) in each cluster that has any of them.

    Columns: ``cluster, persona, songs, share``; smallest share first (the order bars are
    drawn in, so the largest is on top).
    """
    positions = song_positions(rows, len(atlas.tracks))
    labels = atlas.tracks[LABEL_COLUMNS[method]].to_numpy()[positions]
    clusters, songs = np.unique(labels, return_counts=True)
    personas = atlas.personas_of(method).set_index("cluster")["persona"]
    table = pd.DataFrame(
        {
            "cluster": clusters.astype(int),
            "persona": personas.reindex(clusters).fillna("?").astype(str).to_numpy(),
            "songs": songs,
            "share": songs / max(len(positions), 1),
        }
    )
    return table.sort_values(["share", "cluster"]).reset_index(drop=True)


def profile_z(atlas: Atlas, method: str, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Per cluster, how the mean of each audio feature of its songs in ``rows`` (all if None)
    differs from the whole catalog's, in the catalog's standard deviations (the personas'
    z-scores when ``rows`` is None).

    Index: cluster (clusters without songs in ``rows`` left out); columns: features, then
    ``persona``.
    """
    tracks = atlas.tracks
    stats = CatalogStats.of(tracks, atlas.config.features)
    features = list(stats.means.index)
    positions = song_positions(rows, len(tracks))
    values = tracks[features].astype(float).iloc[positions]
    labels = tracks[LABEL_COLUMNS[method]].to_numpy()[positions]
    z = (values.groupby(labels).mean() - stats.means) / stats.stds
    personas = atlas.personas_of(method).set_index("cluster")["persona"]
    z = z[features]
    z.index = z.index.astype(int)
    z.index.name = "cluster"
    return z.assign(persona=personas.reindex(z.index).fillna("?").astype(str).to_numpy())


def map_sample(
    atlas: Atlas, rows: np.ndarray | None = None, *, size: int = SCATTER_SAMPLE
) -> np.ndarray:
    """Positions of at most ``size`` of the songs in ``rows`` (all if None), a fixed random
    sample when there are more, in catalog order."""
    positions = song_positions(rows, len(atlas.tracks))
    if len(positions) <= size:
        return np.sort(positions)
    rng = np.random.default_rng(0)
    return np.sort(rng.choice(positions, size=size, replace=False))


def correlation_matrix(atlas: Atlas, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Pearson correlations between the features of the songs in ``rows`` (all if None) with
    every feature known; all NaN when fewer than three such songs."""
    features = list(atlas.config.features)
    positions = song_positions(rows, len(atlas.tracks))
    matrix = atlas.tracks[features].to_numpy(dtype=float)[positions]
    matrix = matrix[np.isfinite(matrix).all(axis=1)]
    if len(matrix) < 3:
        return pd.DataFrame(np.nan, index=features, columns=features)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(matrix, rowvar=False)
    return pd.DataFrame(corr, index=features, columns=features)


# -- drawing -------------------------------------------------------------------------------------


def report_figures(atlas: Atlas, *, rows: np.ndarray | None = None) -> dict[str, bytes]:
    """The report's charts as PNG bytes, by name (``cluster_profiles_<method>`` per method), of
    the songs in ``rows`` (a boolean mask or positions; all songs if None)."""
    filtered = is_filtered(rows, len(atlas.tracks))
    out = {"cluster_sizes": _png(_sizes_figure(atlas, rows, filtered))}
    for method in atlas.methods:
        out[f"cluster_profiles_{method}"] = _png(_profiles_figure(atlas, method, rows, filtered))
    out["pca_map"] = _png(_pca_figure(atlas, rows, filtered))
    out["correlations"] = _png(_correlation_figure(atlas, rows, filtered))
    return out


def write_figures(
    atlas: Atlas, folder: str | Path, *, rows: np.ndarray | None = None
) -> list[Path]:
    """Write the key charts as PNG files into ``folder`` (for documents); returns their paths."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--figures {folder}: is a file; pass a folder to put the PNGs in.")
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_bytes_atomic(folder / f"{name}.png", png)
        for name, png in report_figures(atlas, rows=rows).items()
    ]


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _sizes_figure(atlas: Atlas, rows: np.ndarray | None, filtered: bool) -> Figure:
    methods = list(atlas.methods)
    figure = _new_figure(10, 2.2 + 2.4 * len(methods))
    axes = figure.subplots(len(methods), 1, squeeze=False)[:, 0]
    for ax, method in zip(axes, methods, strict=True):
        shares = cluster_shares(atlas, method, rows)
        labels = [f"{c}: {p}" for c, p in zip(shares["cluster"], shares["persona"], strict=True)]
        ax.barh(labels, shares["share"] * 100, color="#4c72b0")
        ax.set_title(METHOD_TITLES[method], loc="left", fontsize=11)
        ax.set_xlabel("% of the filtered songs" if filtered else "% of songs")
    return figure


def _profiles_figure(atlas: Atlas, method: str, rows: np.ndarray | None, filtered: bool) -> Figure:
    table = profile_z(atlas, method, rows)
    features = [c for c in table.columns if c != "persona"]
    z = table[features].to_numpy(dtype=float)
    figure = _new_figure(10, 1.6 + 0.45 * max(len(table), 1))
    ax = figure.subplots()
    finite = np.abs(z[np.isfinite(z)])
    limit = max(1.0, float(finite.max()) if finite.size else 1.0)
    image = ax.imshow(z, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(len(features)), features, rotation=35, ha="right")
    ax.set_yticks(
        range(len(table)),
        [f"{c}: {p}" for c, p in zip(table.index, table["persona"], strict=True)],
    )
    for (i, j), value in np.ndenumerate(z):
        if np.isfinite(value):
            ax.text(j, i, f"{value:+.1f}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=ax, label="z-score vs the catalog")
    whose = " (filtered songs)" if filtered else ""
    ax.set_title(
        f"{METHOD_TITLES[method]}: how each cluster differs{whose}", loc="left", fontsize=11
    )
    return figure


def _pca_figure(atlas: Atlas, rows: np.ndarray | None, filtered: bool) -> Figure:
    tracks = atlas.tracks
    method = next(iter(atlas.methods))
    chosen = song_positions(rows, len(tracks))
    sample = tracks.iloc[map_sample(atlas, rows)]
    figure = _new_figure(10, 6.5)
    ax = figure.subplots()
    persona = PERSONA_COLUMNS[method]
    for name, group in sample.groupby(persona, observed=True):
        ax.scatter(group["pc1"], group["pc2"], s=4, alpha=0.6, label=str(name))
    ax.set_xlabel(atlas.projection.axis_label(0))
    ax.set_ylabel(atlas.projection.axis_label(1))
    whose = "filtered songs" if filtered else "songs"
    shown = (
        f"all {len(sample):,} {whose}"
        if len(sample) == len(chosen)
        else f"{len(sample):,} of {len(chosen):,} {whose}, random sample"
    )
    ax.set_title(f"PCA map coloured by {METHOD_TITLES[method]} persona ({shown})", fontsize=11)
    if len(sample):
        ax.legend(fontsize=7, markerscale=3, loc="best")
    return figure


def _correlation_figure(atlas: Atlas, rows: np.ndarray | None, filtered: bool) -> Figure:
    corr = correlation_matrix(atlas, rows)
    features = list(corr.columns)
    values = corr.to_numpy(dtype=float)
    figure = _new_figure(7.5, 6.5)
    ax = figure.subplots()
    image = ax.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(features)), features, rotation=40, ha="right")
    ax.set_yticks(range(len(features)), features)
    for (i, j), value in np.ndenumerate(values):
        text = f"{value:.2f}" if np.isfinite(value) else "—"
        ax.text(j, i, text, ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=ax, label="Pearson correlation")
    whose = " (filtered songs)" if filtered else ""
    ax.set_title(f"Correlation between audio features{whose}", loc="left", fontsize=11)
    return figure
