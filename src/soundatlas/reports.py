"""The summary report of an atlas: one self-contained HTML file (or Markdown) a user can share.

Per method it gives the metrics and how the parameters were chosen; per cluster the persona and
why, its size, dominant genres and the mean and standard deviation of every audio feature; then
how the methods agree and what was dropped at ingestion. The HTML embeds its charts as PNG data
URIs (drawn with matplotlib, no JavaScript, no network), so it opens anywhere, offline, and is safe
to mail. Everything that came from the user's file (song, artist, genre text, file names) is
escaped, in HTML and in Markdown alike.

The dashboard and ``soundatlas report`` call the same functions, so both give the same report.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from soundatlas.atlas import PERSONA_COLUMNS, Atlas
from soundatlas.clustering.personas import reason_text
from soundatlas.clustering.result import LABEL_COLUMNS, METHOD_TITLES
from soundatlas.errors import ConfigError
from soundatlas.files import write_bytes_atomic, write_text_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REPORT_FORMATS: tuple[str, ...] = ("html", "md")
FIGURE_NAMES: tuple[str, ...] = ("cluster_sizes", "cluster_profiles", "pca_map", "correlations")
SCATTER_SAMPLE = 5_000
"""Songs drawn in the report's PCA map (a random sample, stated on the chart)."""
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|<>~$])")


@dataclass(frozen=True)
class ClusterTable:
    """One method's clusters: persona, size, reasons, genres, and feature mean/std per cluster."""

    method: str
    title: str
    clusters: pd.DataFrame
    """One row per cluster: ``cluster, persona, size, share, reasons, genres``."""
    means: pd.DataFrame
    """Cluster × feature means (index: cluster)."""
    stds: pd.DataFrame
    """Cluster × feature standard deviations (index: cluster)."""


def cluster_tables(atlas: Atlas, *, rows: np.ndarray | None = None) -> list[ClusterTable]:
    """Per method, the per-cluster statistics of the songs in ``rows`` (all songs if None).

    Parameters
    ----------
    rows
        Boolean mask or positions of the songs to describe, e.g. the dashboard's filtered
        songs. Personas, reasons and genres always describe the whole atlas.
    """
    features = list(atlas.config.features)
    tracks = atlas.tracks if rows is None else atlas.tracks.iloc[np.asarray(rows)]
    values = tracks[features].astype(float)
    out = []
    for method in atlas.methods:
        labels = tracks[LABEL_COLUMNS[method]].to_numpy()
        grouped = values.groupby(labels)
        means, stds, sizes = grouped.mean(), grouped.std(ddof=0), grouped.size()
        personas = atlas.personas_of(method).set_index("cluster")
        clusters = pd.DataFrame(
            {
                "cluster": sizes.index.astype(int),
                "persona": personas["persona"].reindex(sizes.index).to_numpy(),
                "size": sizes.to_numpy(),
                "share": sizes.to_numpy() / max(len(tracks), 1),
                "reasons": [
                    reason_text(personas.at[c, "reasons"]) if c in personas.index else ""
                    for c in sizes.index
                ],
                "genres": [
                    genre_text(personas.at[c, "dominant_genres"]) if c in personas.index else ""
                    for c in sizes.index
                ],
            }
        )
        out.append(ClusterTable(method, METHOD_TITLES[method], clusters, means, stds))
    return out


def genre_text(genres: Sequence[dict]) -> str:
    """``"pop 61%, dance pop 30%"``: a cluster's dominant genres with their shares."""
    return ", ".join(f"{g['genre']} {g['share']:.0%}" for g in genres)


def method_rows(atlas: Atlas) -> pd.DataFrame:
    """One row per method: clusters, silhouette, Davies–Bouldin, noise, agreement, stability."""
    agreement = atlas.agreement()
    rows = []
    for method, summary in atlas.methods.items():
        scores = summary.scores
        others = {}
        if not agreement.empty:
            for row in agreement.itertuples():
                if method in (row.first, row.second):
                    other = row.second if row.first == method else row.first
                    others[other] = float(row.adjusted_rand)
        rows.append(
            {
                "method": summary.title,
                "clusters": scores.get("n_clusters"),
                "silhouette": scores.get("silhouette"),
                "silhouette_sample": scores.get("silhouette_sample"),
                "davies_bouldin": scores.get("davies_bouldin"),
                "calinski_harabasz": scores.get("calinski_harabasz"),
                "noise_share": scores.get("noise_share") or 0.0,
                "agreement_ari": (
                    ", ".join(f"{METHOD_TITLES[o]} {v:.2f}" for o, v in others.items()) or None
                ),
                "stability_ari": (summary.details.get("stability") or {}).get("mean_ari"),
                "rule": summary.rule,
            }
        )
    return pd.DataFrame(rows)


def dropped_rows(atlas: Atlas) -> pd.DataFrame:
    """What was left out or merged at ingestion, by rule, with the message the user saw."""
    findings = [
        {"what": f.severity, "rule": f.rule, "rows": f.count, "details": f.message}
        for f in atlas.report.findings
        if f.severity in ("rejected", "merged", "fixed")
    ]
    return pd.DataFrame(findings, columns=["what", "rule", "rows", "details"])


# -- Markdown ------------------------------------------------------------------------------------


def md_text(value: object) -> str:
    """User text made inert in Markdown: the characters that start markup, links, images, HTML
    or table cells are backslashed, so ``<img src=x>`` shows as text in any viewer."""
    return _MD_SPECIAL.sub(r"\\\1", str(value).replace("\n", " "))


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}f}"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report_markdown(atlas: Atlas, *, rows: np.ndarray | None = None, title: str = "") -> str:
    """The summary report as Markdown (text tables, no charts; see `write_figures`)."""
    parts = [f"# {md_text(title or _default_title(atlas))}", "", md_text(_subtitle(atlas, rows))]
    parts += ["", "## Clustering methods", ""]
    methods = method_rows(atlas)
    parts.append(
        _md_table(
            [
                "method",
                "clusters",
                "silhouette",
                "Davies–Bouldin",
                "noise",
                "agreement (ARI)",
                "stability (ARI)",
            ],
            [
                [
                    md_text(r.method),
                    _num(r.clusters),
                    _num(r.silhouette),
                    _num(r.davies_bouldin),
                    f"{r.noise_share:.1%}",
                    md_text(r.agreement_ari or "—"),
                    _num(r.stability_ari),
                ]
                for r in methods.itertuples()
            ],
        )
    )
    parts.append("")
    parts += [f"- **{md_text(r.method)}**: {md_text(r.rule)}" for r in methods.itertuples()]
    for table in cluster_tables(atlas, rows=rows):
        parts += ["", f"## {md_text(table.title)}: clusters", ""]
        parts.append(
            _md_table(
                ["cluster", "persona", "songs", "share", "why (vs the catalog)", "dominant genres"],
                [
                    [
                        str(r.cluster),
                        md_text(r.persona),
                        _num(r.size),
                        f"{r.share:.1%}",
                        md_text(r.reasons or "—"),
                        md_text(r.genres or "—"),
                    ]
                    for r in table.clusters.itertuples()
                ],
            )
        )
        parts += ["", f"Mean ± standard deviation per cluster ({md_text(table.title)}):", ""]
        features = list(table.means.columns)
        parts.append(
            _md_table(
                ["cluster", *features],
                [
                    [str(c)]
                    + [
                        f"{_num(table.means.at[c, f])} ± {_num(table.stds.at[c, f])}"
                        for f in features
                    ]
                    for c in table.means.index
                ],
            )
        )
    parts += ["", "## Dropped at ingestion", "", md_text(atlas.report.summary()), ""]
    dropped = dropped_rows(atlas)
    if dropped.empty:
        parts.append("Nothing was dropped: every row became a track.")
    else:
        parts.append(
            _md_table(
                ["what", "rule", "rows", "details"],
                [
                    [md_text(r.what), md_text(r.rule), _num(r.rows), md_text(r.details)]
                    for r in dropped.itertuples()
                ],
            )
        )
    return "\n".join(parts) + "\n"


# -- HTML ----------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;padding:1rem;
max-width:72rem;color:#1f2430;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f4f8}td.n{text-align:right;white-space:nowrap}
img{max-width:100%;height:auto}.muted{color:#667}figure{margin:1rem 0}
"""


def _h(value: object) -> str:
    return html.escape(str(value))


def _html_table(header: Sequence[str], rows: Sequence[Sequence[tuple[str, bool]]]) -> str:
    """Rows of ``(already-escaped cell, numeric)`` pairs."""
    head = "".join(f"<th>{_h(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if n else ''}>{c}</td>" for c, n in row) + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def report_html(
    atlas: Atlas, *, rows: np.ndarray | None = None, title: str = "", charts: bool = True
) -> str:
    """The summary report as one self-contained HTML page, charts embedded as PNG data URIs."""
    title = title or _default_title(atlas)
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        f"<title>{_h(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_h(title)}</h1><p class=muted>{_h(_subtitle(atlas, rows))}</p>",
        "<h2>Clustering methods</h2>",
    ]
    methods = method_rows(atlas)
    out.append(
        _html_table(
            [
                "method",
                "clusters",
                "silhouette",
                "Davies–Bouldin",
                "noise",
                "agreement (ARI)",
                "stability (ARI)",
            ],
            [
                [
                    (_h(r.method), False),
                    (_num(r.clusters), True),
                    (_num(r.silhouette), True),
                    (_num(r.davies_bouldin), True),
                    (f"{r.noise_share:.1%}", True),
                    (_h(r.agreement_ari or "—"), False),
                    (_num(r.stability_ari), True),
                ]
                for r in methods.itertuples()
            ],
        )
    )
    out.append(
        "<ul>"
        + "".join(f"<li><b>{_h(r.method)}</b>: {_h(r.rule)}</li>" for r in methods.itertuples())
        + "</ul>"
    )
    figures = report_figures(atlas) if charts else {}
    if "cluster_sizes" in figures:
        out.append(_figure_html(figures["cluster_sizes"], "Share of songs per cluster"))
    for table in cluster_tables(atlas, rows=rows):
        out.append(f"<h2>{_h(table.title)}: clusters</h2>")
        out.append(
            _html_table(
                ["cluster", "persona", "songs", "share", "why (vs the catalog)", "dominant genres"],
                [
                    [
                        (str(r.cluster), True),
                        (_h(r.persona), False),
                        (_num(r.size), True),
                        (f"{r.share:.1%}", True),
                        (_h(r.reasons or "—"), False),
                        (_h(r.genres or "—"), False),
                    ]
                    for r in table.clusters.itertuples()
                ],
            )
        )
        features = list(table.means.columns)
        out.append(f"<p>Mean ± standard deviation per cluster ({_h(table.title)}):</p>")
        out.append(
            _html_table(
                ["cluster", *features],
                [
                    [(str(c), True)]
                    + [
                        (f"{_num(table.means.at[c, f])} ± {_num(table.stds.at[c, f])}", True)
                        for f in features
                    ]
                    for c in table.means.index
                ],
            )
        )
        key = f"cluster_profiles_{table.method}"
        if key in figures:
            out.append(_figure_html(figures[key], f"Cluster profiles, {table.title}"))
    for key, caption in (("pca_map", "Map of the catalog"), ("correlations", "Correlations")):
        if key in figures:
            out.append(f"<h2>{_h(caption)}</h2>" + _figure_html(figures[key], caption))
    out.append("<h2>Dropped at ingestion</h2>")
    out.append(f"<p>{_h(atlas.report.summary())}</p>")
    dropped = dropped_rows(atlas)
    if dropped.empty:
        out.append("<p>Nothing was dropped: every row became a track.</p>")
    else:
        out.append(
            _html_table(
                ["what", "rule", "rows", "details"],
                [
                    [
                        (_h(r.what), False),
                        (_h(r.rule), False),
                        (_num(r.rows), True),
                        (_h(r.details), False),
                    ]
                    for r in dropped.itertuples()
                ],
            )
        )
    out.append(
        f"<p class=muted>Made by SoundAtlas {_h(atlas.manifest.get('soundatlas_version') or '')}"
        f" on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p></body></html>"
    )
    return "\n".join(out)


def _figure_html(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{_h(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption class=muted>{_h(caption)}</figcaption></figure>"
    )


def _default_title(atlas: Atlas) -> str:
    return f"SoundAtlas report — {atlas.report.source}"


def _subtitle(atlas: Atlas, rows: np.ndarray | None) -> str:
    total = len(atlas.tracks)
    shown = total if rows is None else int(_count(rows, total))
    scope = f"{total:,} songs" if shown == total else f"{shown:,} of {total:,} songs (filtered)"
    created = atlas.manifest.get("created", "")
    return f"{scope}; atlas built {created}; {atlas.report.summary()}".strip()


def _count(rows: np.ndarray, total: int) -> int:
    rows = np.asarray(rows)
    return int(rows.sum()) if rows.dtype == bool else len(rows)


# -- figures -------------------------------------------------------------------------------------


def report_figures(atlas: Atlas) -> dict[str, bytes]:
    """The report's charts as PNG bytes, by name (``cluster_profiles_<method>`` per method)."""
    out = {"cluster_sizes": _png(_sizes_figure(atlas))}
    for method in atlas.methods:
        out[f"cluster_profiles_{method}"] = _png(_profiles_figure(atlas, method))
    out["pca_map"] = _png(_pca_figure(atlas))
    out["correlations"] = _png(_correlation_figure(atlas))
    return out


def write_figures(atlas: Atlas, folder: str | Path) -> list[Path]:
    """Write the key charts as PNG files into ``folder`` (for documents); returns their paths."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--figures {folder}: is a file; pass a folder to put the PNGs in.")
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_bytes_atomic(folder / f"{name}.png", png)
        for name, png in report_figures(atlas).items()
    ]


def write_report(
    atlas: Atlas,
    path: str | Path,
    file_format: str = "html",
    *,
    rows: np.ndarray | None = None,
) -> Path:
    """Write the summary report as ``html`` or ``md``, atomically."""
    if file_format not in REPORT_FORMATS:
        raise ConfigError(f"format '{file_format}': use one of {', '.join(REPORT_FORMATS)}.")
    render: Callable[..., str] = report_html if file_format == "html" else report_markdown
    return write_text_atomic(path, render(atlas, rows=rows))


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _sizes_figure(atlas: Atlas) -> Figure:
    methods = list(atlas.methods)
    figure = _new_figure(10, 2.2 + 2.4 * len(methods))
    axes = figure.subplots(len(methods), 1, squeeze=False)[:, 0]
    for ax, method in zip(axes, methods, strict=True):
        personas = atlas.personas_of(method).sort_values("share")
        labels = [
            f"{c}: {p}" for c, p in zip(personas["cluster"], personas["persona"], strict=True)
        ]
        ax.barh(labels, personas["share"] * 100, color="#4c72b0")
        ax.set_title(METHOD_TITLES[method], loc="left", fontsize=11)
        ax.set_xlabel("% of songs")
    return figure


def _profiles_figure(atlas: Atlas, method: str) -> Figure:
    personas = atlas.personas_of(method)
    features = [f for f in atlas.config.features if f"z_{f}" in personas]
    z = personas[[f"z_{f}" for f in features]].to_numpy(dtype=float)
    figure = _new_figure(10, 1.6 + 0.45 * len(personas))
    ax = figure.subplots()
    limit = max(1.0, float(np.nanmax(np.abs(z))) if z.size else 1.0)
    image = ax.imshow(z, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(len(features)), features, rotation=35, ha="right")
    ax.set_yticks(
        range(len(personas)),
        [f"{c}: {p}" for c, p in zip(personas["cluster"], personas["persona"], strict=True)],
    )
    for (i, j), value in np.ndenumerate(z):
        ax.text(j, i, f"{value:+.1f}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=ax, label="z-score vs the catalog")
    ax.set_title(f"{METHOD_TITLES[method]}: how each cluster differs", loc="left", fontsize=11)
    return figure


def _pca_figure(atlas: Atlas) -> Figure:
    tracks = atlas.tracks
    method = next(iter(atlas.methods))
    rng = np.random.default_rng(0)
    take = rng.choice(len(tracks), size=min(SCATTER_SAMPLE, len(tracks)), replace=False)
    sample = tracks.iloc[np.sort(take)]
    figure = _new_figure(10, 6.5)
    ax = figure.subplots()
    persona = PERSONA_COLUMNS[method]
    for name, group in sample.groupby(persona, observed=True):
        ax.scatter(group["pc1"], group["pc2"], s=4, alpha=0.6, label=str(name))
    ax.set_xlabel(atlas.projection.axis_label(0))
    ax.set_ylabel(atlas.projection.axis_label(1))
    shown = f"{len(sample):,} of {len(tracks):,} songs, random sample"
    ax.set_title(f"PCA map coloured by {METHOD_TITLES[method]} persona ({shown})", fontsize=11)
    ax.legend(fontsize=7, markerscale=3, loc="best")
    return figure


def _correlation_figure(atlas: Atlas) -> Figure:
    features = list(atlas.config.features)
    corr = np.corrcoef(atlas.tracks[features].to_numpy(dtype=float), rowvar=False)
    figure = _new_figure(7.5, 6.5)
    ax = figure.subplots()
    image = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(features)), features, rotation=40, ha="right")
    ax.set_yticks(range(len(features)), features)
    for (i, j), value in np.ndenumerate(corr):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=ax, label="Pearson correlation")
    ax.set_title("Correlation between audio features", loc="left", fontsize=11)
    return figure
