"""The summary report of an atlas: one self-contained HTML file (or Markdown) a user can share.

Per method it gives the metrics and how the parameters were chosen; per cluster the persona and
why, its size, dominant genres and the mean and standard deviation of every audio feature; then
how the methods agree and what was dropped at ingestion. The HTML embeds its charts as PNG data
URIs (drawn with matplotlib, no JavaScript, no network), so it opens anywhere, offline, and is safe
to mail. Everything that came from the user's file (song, artist, genre text, file names) is
escaped, in HTML and in Markdown alike. A report can describe only some songs (``rows``, e.g.
the dashboard's filtered songs): its tables and its charts then both describe those songs.

The dashboard and ``soundatlas report`` call the same functions, so both give the same report.

Modules, by what they hold: `tables` (the statistics and the report's tables as plain text,
built once), `markdown` and `html` (the two renderings), `figures` (the charts).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.errors import ConfigError
from soundatlas.files import write_text_atomic
from soundatlas.reports.figures import (
    SCATTER_SAMPLE,
    cluster_shares,
    correlation_matrix,
    map_sample,
    profile_z,
    report_figures,
    write_figures,
)
from soundatlas.reports.html import report_html
from soundatlas.reports.markdown import md_text, report_markdown
from soundatlas.reports.tables import (
    ClusterTable,
    cluster_tables,
    dropped_rows,
    genre_text,
    method_rows,
    recommendation_text,
    report_content,
    without_paths,
)

REPORT_FORMATS: tuple[str, ...] = ("html", "md")

__all__ = [
    "REPORT_FORMATS",
    "SCATTER_SAMPLE",
    "ClusterTable",
    "cluster_shares",
    "cluster_tables",
    "correlation_matrix",
    "dropped_rows",
    "genre_text",
    "map_sample",
    "md_text",
    "method_rows",
    "profile_z",
    "recommendation_text",
    "report_content",
    "report_figures",
    "report_html",
    "report_markdown",
    "without_paths",
    "write_figures",
    "write_report",
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
