"""The summary report as one self-contained HTML page: the report's tables with its charts
embedded as PNG data URIs (no JavaScript, no network), every text escaped."""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime

import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.reports.figures import report_figures
from soundatlas.reports.tables import Table, report_content

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;padding:1rem;
max-width:72rem;color:#1f2430;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f4f8}td.n{text-align:right;white-space:nowrap}
img{max-width:100%;height:auto}.muted{color:#667}figure{margin:1rem 0}
.warning{color:#8a4b00;background:#fff6e5;padding:.4rem .6rem;border-left:3px solid #e09b2d}
"""


def _h(value: object) -> str:
    return html.escape(str(value))


def html_table(table: Table) -> str:
    """A scrollable HTML table, every cell escaped; numeric cells align right."""
    head = "".join(f"<th>{_h(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if numeric else ''}>{_h(text)}</td>" for text, numeric in row)
        + "</tr>"
        for row in table.rows
    )
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def report_html(
    atlas: Atlas, *, rows: np.ndarray | None = None, title: str = "", charts: bool = True
) -> str:
    """The summary report as one self-contained HTML page, charts embedded as PNG data URIs.

    With ``rows`` (a boolean mask or positions), the tables and the charts describe only those
    songs; personas and the methods' scores always describe the whole atlas.
    """
    content = report_content(atlas, rows=rows, title=title)
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        f"<title>{_h(content.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_h(content.title)}</h1><p class=muted>{_h(content.subtitle)}</p>",
        "<h2>Clustering methods</h2>",
        f"<p><b>{_h(content.recommendation)}</b></p>",
        html_table(content.methods),
        *(f"<p class=warning>{_h(warning)}</p>" for warning in content.warnings),
        "<ul>"
        + "".join(f"<li><b>{_h(method)}</b>: {_h(rule)}</li>" for method, rule in content.rules)
        + "</ul>",
    ]
    figures = report_figures(atlas, rows=rows) if charts else {}
    whose = "the filtered songs" if content.filtered else "songs"
    if "cluster_sizes" in figures:
        out.append(_figure_html(figures["cluster_sizes"], f"Share of {whose} per cluster"))
    for section in content.sections:
        out.append(f"<h2>{_h(section.title)}: clusters</h2>")
        out.append(html_table(section.clusters))
        out.append(f"<p>Mean ± standard deviation per cluster ({_h(section.title)}):</p>")
        out.append(html_table(section.spread))
        key = f"cluster_profiles_{section.method}"
        if key in figures:
            caption = f"Cluster profiles of {whose}, {section.title}"
            out.append(_figure_html(figures[key], caption))
    captions = (
        ("pca_map", "Map of the filtered songs" if content.filtered else "Map of the catalog"),
        ("correlations", "Correlations" + (" (filtered songs)" if content.filtered else "")),
    )
    for key, caption in captions:
        if key in figures:
            out.append(f"<h2>{_h(caption)}</h2>" + _figure_html(figures[key], caption))
    out.append("<h2>Dropped at ingestion</h2>")
    out.append(f"<p>{_h(content.ingestion)}</p>")
    if content.dropped is None:
        out.append("<p>Nothing was dropped: every row became a track.</p>")
    else:
        out.append(html_table(content.dropped))
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
