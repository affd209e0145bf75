"""Rich rendering for the command line: progress bars and tables. Core results in, text out."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from soundatlas.stages import STAGE_TITLES

if TYPE_CHECKING:
    from soundatlas.atlas.build import Progress as ProgressCallback
    from soundatlas.ingest.validation import ValidationReport

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape(text: object) -> str:
    """Text safe to print: Rich markup escaped, and terminal control characters (escape
    sequences hidden in a song title, say) shown as '?' instead of acting on the terminal."""
    return escape_markup(_CONTROL.sub("?", str(text)))


console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def progress_bars(*, quiet: bool = False) -> Iterator[ProgressCallback]:
    """A ``progress(stage, fraction)`` callback drawing one bar per stage on stderr."""
    if quiet:
        yield lambda stage, fraction: None
        return
    bars = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def tick(stage: str, fraction: float) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(STAGE_TITLES.get(stage, stage), total=1.0)
        bars.update(tasks[stage], completed=min(max(fraction, 0.0), 1.0))

    with bars:
        yield tick


JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
"""The ``--json`` flag every command that prints a result takes."""


def print_json(data: Any) -> None:
    """Machine-readable output on stdout (nothing else is printed there with --json)."""
    console.print_json(json.dumps(data, default=str, ensure_ascii=False))


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table cell; '—' for missing."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def report_tables(report: ValidationReport) -> list[Any]:
    """Renderables describing a validation report: how the file was read, then the findings."""
    how = Table(title=f"How {escape(report.source)} was read", show_header=False, box=None)
    how.add_row("format", report.file_format)
    if report.encoding:
        how.add_row("encoding", report.encoding)
    if report.delimiter:
        how.add_row("delimiter", repr(report.delimiter))
    how.add_row("rows read", fmt(report.rows_read))
    how.add_row("tracks kept", fmt(report.tracks))
    how.add_row("rows merged", fmt(report.rows_merged))
    how.add_row("rows left out", fmt(report.rows_rejected))
    mapping = ", ".join(
        f"{canonical}←{escape(original)}" for canonical, original in report.column_map.items()
    )
    how.add_row("columns", mapping)
    out: list[Any] = [how]
    if report.findings:
        findings = Table(title="Findings", show_lines=True, expand=True)
        findings.add_column("what happened", no_wrap=True)
        findings.add_column("rows", justify="right")
        findings.add_column("details")
        for finding in report.findings:
            style = {"rejected": "red", "merged": "yellow", "fixed": "cyan"}.get(
                finding.severity, ""
            )
            label = f"[{style}]{finding.severity}[/]" if style else finding.severity
            count = fmt(finding.count) if finding.count else ""
            findings.add_row(f"{label}\n{escape(finding.rule)}", count, escape(finding.message))
        out.append(findings)
    else:
        out.append("[green]No problems found.[/]")
    return out


def methods_table(atlas: Any) -> Table:
    """Per-method metrics (`soundatlas.reports.tables.method_rows`, the rows the report and the
    dashboard show): clusters, silhouette, Davies–Bouldin, CH, noise, stability."""
    from soundatlas.reports.tables import method_rows

    table = Table(title="Clustering methods (every usable song)")
    for column in ("method", "clusters", "silhouette", "Davies–Bouldin", "Calinski–Harabasz"):
        table.add_column(column, justify="left" if column == "method" else "right")
    table.add_column("noise", justify="right")
    table.add_column("stability (ARI)", justify="right")
    verdicts = {"recommended": "\n[green]recommended[/]", "degenerate": "\n[yellow]degenerate[/]"}
    for row in method_rows(atlas).astype(object).where(lambda f: f.notna(), None).itertuples():
        silhouette = fmt(row.silhouette)
        if row.noise_share and row.silhouette_with_noise is not None:
            silhouette += f"\n{fmt(row.silhouette_with_noise)} with noise"
        sample = row.silhouette_sample
        if sample and sample < atlas.report.tracks and row.silhouette is not None:
            silhouette += f"\n(sample {int(sample):,})"
        table.add_row(
            escape(row.method) + verdicts.get(row.verdict, ""),
            fmt(row.clusters),
            silhouette,
            fmt(row.davies_bouldin),
            fmt(row.calinski_harabasz, 0),
            f"{row.noise_share:.1%}",
            fmt(row.stability_ari),
        )
    return table


def assessment_text(atlas: Any) -> str:
    """The recommended method and why, then a warning per degenerate method and the rule."""
    from soundatlas.clustering.assessment import DEGENERATE_RULE

    assessment = atlas.assessment
    title = atlas.methods[assessment.recommended].title
    lines = [f"[bold]Recommended[/]: {escape(title)}. {escape(assessment.reason)}"]
    found = [w for ws in assessment.warnings.values() for w in ws]
    lines += [f"[yellow]warning:[/] {escape(w)}" for w in found]
    if found:
        lines.append(f"(The rule: {escape(DEGENERATE_RULE)}.)")
    return "\n".join(lines)


def projection_text(atlas: Any) -> str:
    """The PCA axes: variance explained and the features each is made of."""
    projection = atlas.projection
    axes = ", ".join(projection.axis_label(i) for i in range(len(projection.components)))
    return f"[bold]PCA[/]: {escape(axes)}"


def engine_text(atlas: Any) -> str:
    """Which engine built the atlas, and what it did differently (samples, method variants)."""
    engine = atlas.manifest.get("engine") or {"name": "local"}
    where = f" on {engine['master']}, Spark {engine['spark_version']}" if "master" in engine else ""
    lines = [f"[bold]Engine[/]: {escape(engine['name'])}{escape(where)}"]
    lines += [f"  • {escape(note)}" for note in engine.get("notes", [])]
    return "\n".join(lines)


def rules_text(atlas: Any) -> str:
    """How each method's parameters were chosen, one line each."""
    return "\n".join(
        f"[bold]{escape(s.title)}[/]: {escape(s.rule)}" for s in atlas.methods.values()
    )


def personas_table(atlas: Any, method: str) -> Table:
    """One row per cluster of a method: persona, size, why, dominant genres."""
    from soundatlas.clustering.personas import reason_text

    summary = atlas.methods[method]
    table = Table(title=f"Personas — {summary.title}", show_lines=True, expand=True)
    table.add_column("cluster", justify="right")
    table.add_column("persona")
    table.add_column("songs", justify="right")
    table.add_column("why (z-scores vs the catalog)")
    table.add_column("dominant genres")
    for row in atlas.personas_of(method).itertuples():
        genres = ", ".join(f"{g['genre']} {g['share']:.0%}" for g in row.dominant_genres)
        table.add_row(
            str(row.cluster),
            escape(row.persona),
            f"{row.size:,}\n{row.share:.1%}",
            escape(reason_text(row.reasons)),
            escape(genres) or "—",
        )
    return table


def agreement_table(atlas: Any) -> Table | None:
    """Adjusted Rand index and NMI between methods."""
    rows = atlas.agreement()
    if rows.empty:
        return None
    table = Table(title="Agreement between methods")
    for column in ("methods", "adjusted Rand", "NMI"):
        table.add_column(column, justify="left" if column == "methods" else "right")
    for row in rows.itertuples():
        table.add_row(f"{row.first} vs {row.second}", fmt(row.adjusted_rand), fmt(row.nmi))
    return table
