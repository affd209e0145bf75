"""What the report says, as data: per-method and per-cluster statistics, and the report's tables
as rows of plain text, built once and rendered by `soundatlas.reports.markdown` and
`soundatlas.reports.html` (which escape every cell their own way)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.assessment import DEGENERATE_RULE
from soundatlas.clustering.personas import reason_text
from soundatlas.clustering.result import LABEL_COLUMNS, METHOD_TITLES
from soundatlas.ingest.validation import source_name


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


@dataclass(frozen=True)
class Table:
    """A table to show: a header and rows of ``(text, numeric)`` cells. The text is raw (not
    escaped): each renderer escapes it for its format; ``numeric`` cells align right in HTML."""

    header: tuple[str, ...]
    rows: tuple[tuple[tuple[str, bool], ...], ...]


@dataclass(frozen=True)
class MethodSection:
    """A method's part of the report: its cluster table and its mean ± std table."""

    method: str
    title: str
    clusters: Table
    spread: Table


@dataclass(frozen=True)
class ReportContent:
    """Everything the report shows except its charts, in raw text, in reading order."""

    title: str
    subtitle: str
    filtered: bool
    """Whether the report describes only some of the songs."""
    methods: Table
    rules: tuple[tuple[str, str], ...]
    """``(method title, how its parameters were chosen)`` per method."""
    recommendation: str
    """The method to use for this catalog and why, in one sentence."""
    warnings: tuple[str, ...]
    """Why a method's result is degenerate, one sentence per method, then the rule."""
    sections: tuple[MethodSection, ...]
    ingestion: str
    """The validation report's one-line summary."""
    dropped: Table | None
    """What was left out or merged at ingestion; None if nothing was."""


def song_positions(rows: np.ndarray | None, total: int) -> np.ndarray:
    """Positions of the songs a report describes: all of them, or those of a boolean mask or a
    list of positions."""
    if rows is None:
        return np.arange(total)
    rows = np.asarray(rows)
    return np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64)


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
    """One row per method: verdict (recommended, degenerate), clusters, silhouette (noise left
    out and counted), Davies–Bouldin, noise, agreement, stability, rule and warnings; the
    recommended method first, degenerate ones last."""
    agreement = atlas.agreement()
    assessment = atlas.assessment
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
                "verdict": (
                    "recommended"
                    if method == assessment.recommended
                    else "degenerate"
                    if assessment.degenerate(method)
                    else ""
                ),
                "silhouette": scores.get("silhouette"),
                "silhouette_with_noise": scores.get("silhouette_with_noise"),
                "silhouette_sample": scores.get("silhouette_sample"),
                "davies_bouldin": scores.get("davies_bouldin"),
                "calinski_harabasz": scores.get("calinski_harabasz"),
                "noise_share": scores.get("noise_share") or 0.0,
                "agreement_ari": (
                    ", ".join(f"{METHOD_TITLES[o]} {v:.2f}" for o, v in others.items()) or None
                ),
                "stability_ari": (summary.details.get("stability") or {}).get("mean_ari"),
                "rule": summary.rule,
                "warnings": " ".join(assessment.warnings.get(method, ())),
            }
        )
    # The recommended method first and degenerate ones last, so a degenerate result's scores
    # never head the comparison.
    rank = {"recommended": 0, "": 1, "degenerate": 2}
    table = pd.DataFrame(rows)
    return table.sort_values("verdict", key=lambda v: v.map(rank), kind="stable").reset_index(
        drop=True
    )


def without_paths(atlas: Atlas, text: str) -> str:
    """``text`` naming the atlas's input file by its name, not by its path on the builder's
    disk: a report or a page is shared with people who have no business knowing it."""
    source = str(atlas.report.source)
    name = source_name(source)
    return text.replace(source, name) if source and source != name else text


def dropped_rows(atlas: Atlas) -> pd.DataFrame:
    """What was left out or merged at ingestion, by rule, with the message the user saw (the
    file named without its folders)."""
    findings = [
        {
            "what": f.severity,
            "rule": f.rule,
            "rows": f.count,
            "details": without_paths(atlas, f.message),
        }
        for f in atlas.report.findings
        if f.severity in ("rejected", "merged", "fixed")
    ]
    return pd.DataFrame(findings, columns=["what", "rule", "rows", "details"])


def number(value: Any, digits: int = 3) -> str:
    """A number for a table cell: ``"—"`` if missing, thousands separated, else ``digits``
    decimals."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}f}"


def methods_table(methods: pd.DataFrame) -> Table:
    """The methods compared (from `method_rows`)."""
    return Table(
        (
            "method",
            "verdict",
            "clusters",
            "silhouette",
            "silhouette (noise counted)",
            "Davies–Bouldin",
            "noise",
            "agreement (ARI)",
            "stability (ARI)",
        ),
        tuple(
            (
                (str(r.method), False),
                (str(r.verdict) or "—", False),
                (number(r.clusters), True),
                (number(r.silhouette), True),
                (number(r.silhouette_with_noise), True),
                (number(r.davies_bouldin), True),
                (f"{r.noise_share:.1%}", True),
                (str(r.agreement_ari or "—"), False),
                (number(r.stability_ari), True),
            )
            for r in methods.itertuples()
        ),
    )


def clusters_table(table: ClusterTable) -> Table:
    """A method's clusters: persona, size, share, why, dominant genres."""
    return Table(
        ("cluster", "persona", "songs", "share", "why (vs the catalog)", "dominant genres"),
        tuple(
            (
                (str(r.cluster), True),
                (str(r.persona), False),
                (number(r.size), True),
                (f"{r.share:.1%}", True),
                (str(r.reasons or "—"), False),
                (str(r.genres or "—"), False),
            )
            for r in table.clusters.itertuples()
        ),
    )


def spread_table(table: ClusterTable) -> Table:
    """Mean ± standard deviation of every feature per cluster."""
    features = list(table.means.columns)

    def cells(cluster: int) -> tuple[tuple[str, bool], ...]:
        spreads = (
            f"{number(table.means.at[cluster, f])} ± {number(table.stds.at[cluster, f])}"
            for f in features
        )
        return ((str(cluster), True), *((text, True) for text in spreads))

    return Table(("cluster", *features), tuple(cells(c) for c in table.means.index))


def dropped_table(dropped: pd.DataFrame) -> Table:
    """Findings of the ingestion report that left rows out, merged or fixed them."""
    return Table(
        ("what", "rule", "rows", "details"),
        tuple(
            (
                (str(r.what), False),
                (str(r.rule), False),
                (number(r.rows), True),
                (str(r.details), False),
            )
            for r in dropped.itertuples()
        ),
    )


def report_content(
    atlas: Atlas, *, rows: np.ndarray | None = None, title: str = ""
) -> ReportContent:
    """The report's text and tables for the songs in ``rows`` (all songs if None)."""
    methods = method_rows(atlas)
    dropped = dropped_rows(atlas)
    total = len(atlas.tracks)
    return ReportContent(
        title=title or default_title(atlas),
        subtitle=subtitle(atlas, rows),
        filtered=is_filtered(rows, total),
        methods=methods_table(methods),
        rules=tuple((str(r.method), str(r.rule)) for r in methods.itertuples()),
        recommendation=recommendation_text(atlas),
        warnings=warning_lines(atlas),
        sections=tuple(
            MethodSection(t.method, t.title, clusters_table(t), spread_table(t))
            for t in cluster_tables(atlas, rows=rows)
        ),
        ingestion=without_paths(atlas, atlas.report.summary()),
        dropped=None if dropped.empty else dropped_table(dropped),
    )


def recommendation_text(atlas: Atlas) -> str:
    """``"Recommended: K-Means. <why>"``: the method to use for this catalog, in one line."""
    assessment = atlas.assessment
    return f"Recommended: {atlas.methods[assessment.recommended].title}. {assessment.reason}"


def warning_lines(atlas: Atlas) -> tuple[str, ...]:
    """One sentence per degenerate method, then the rule that decided it (nothing if none)."""
    found = tuple(w for ws in atlas.assessment.warnings.values() for w in ws)
    return (*found, f"The rule: {DEGENERATE_RULE}.") if found else ()


def is_filtered(rows: np.ndarray | None, total: int) -> bool:
    """Whether ``rows`` leaves out any of the ``total`` songs."""
    return rows is not None and len(song_positions(rows, total)) < total


def default_title(atlas: Atlas) -> str:
    """``"SoundAtlas report — tracks.csv"``: the file's name, not the builder's folders."""
    return f"SoundAtlas report — {source_name(str(atlas.report.source))}"


def subtitle(atlas: Atlas, rows: np.ndarray | None) -> str:
    """Which songs the report describes, when the atlas was built, what ingestion found."""
    total = len(atlas.tracks)
    shown = total if rows is None else len(song_positions(rows, total))
    scope = f"{total:,} songs" if shown == total else f"{shown:,} of {total:,} songs (filtered)"
    created = atlas.manifest.get("created", "")
    return f"{scope}; atlas built {created}; {without_paths(atlas, atlas.report.summary())}".strip()
