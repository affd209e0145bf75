"""The summary report as Markdown: the same tables as the HTML page, as text, without charts
(``soundatlas report --figures`` writes them as PNG files). Every cell is made inert."""

from __future__ import annotations

import re

import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.reports.tables import Table, report_content

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|<>~$])")


def md_text(value: object) -> str:
    """User text made inert in Markdown: the characters that start markup, links, images, HTML
    or table cells are backslashed, so ``<img src=x>`` shows as text in any viewer."""
    return _MD_SPECIAL.sub(r"\\\1", str(value).replace("\n", " "))


def md_table(table: Table) -> str:
    """A GitHub-style Markdown table, every cell escaped with `md_text`."""
    lines = [
        "| " + " | ".join(md_text(h) for h in table.header) + " |",
        "|" + "---|" * len(table.header),
    ]
    lines += ["| " + " | ".join(md_text(text) for text, _ in row) + " |" for row in table.rows]
    return "\n".join(lines)


def report_markdown(atlas: Atlas, *, rows: np.ndarray | None = None, title: str = "") -> str:
    """The summary report as Markdown (text tables, no charts; see `write_figures`)."""
    content = report_content(atlas, rows=rows, title=title)
    parts = [f"# {md_text(content.title)}", "", md_text(content.subtitle)]
    parts += ["", "## Clustering methods", "", f"**{md_text(content.recommendation)}**", ""]
    parts += [md_table(content.methods), ""]
    parts += [f"> {md_text(warning)}" for warning in content.warnings]
    parts += [""] if content.warnings else []
    parts += [f"- **{md_text(method)}**: {md_text(rule)}" for method, rule in content.rules]
    for section in content.sections:
        parts += ["", f"## {md_text(section.title)}: clusters", "", md_table(section.clusters)]
        parts += ["", f"Mean ± standard deviation per cluster ({md_text(section.title)}):", ""]
        parts.append(md_table(section.spread))
    parts += ["", "## Dropped at ingestion", "", md_text(content.ingestion), ""]
    if content.dropped is None:
        parts.append("Nothing was dropped: every row became a track.")
    else:
        parts.append(md_table(content.dropped))
    return "\n".join(parts) + "\n"
