"""Validate a track table in Spark with exactly the local engine's rules, batch by batch.

Every batch of rows goes through the local engine's row pass (`soundatlas.ingest.catalog`) inside a
Spark worker, with the column choices (decimal commas, duration units) made once from the first
rows so all batches read a column the same way. What needs the whole table — the median tempo
for undetected tempos, duplicate rows and repeated ids, the counts and first lines of every
rule — is computed with Spark aggregates and windows. Nothing is collected to the driver but
counts, a few example lines per rule, and the first rows used to choose how columns are read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from soundatlas.engines.spark.source import CORRUPT_COLUMN, SourceShape, SparkSource
from soundatlas.errors import CatalogError
from soundatlas.ingest.catalog import (
    LINE_COLUMN,
    MIN_TRACKS,
    TRACK_LINE_COLUMN,
    ColumnChoices,
    RowChecker,
    RuleSpec,
    duplicate_specs,
    finding_of,
    ragged_finding,
    tempo_fill,
    too_few_message,
    undetected_tempo_spec,
)
from soundatlas.ingest.columns import NUMERIC_COLUMNS, map_columns
from soundatlas.ingest.reading import RawTable
from soundatlas.ingest.validation import SHOWN_ROWS, Finding, ValidationReport

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

CHOICE_ROWS = 10_000
"""Rows read to choose how each column is written (decimal commas, duration units)."""
EXAMPLES = 3
CANONICAL_SCHEMA = (
    "track_id string, name string, artists array<string>, genres array<string>, "
    + ", ".join(f"{c} double" for c in NUMERIC_COLUMNS)
    + ", explicit boolean, release_year int"
)
CANONICAL_COLUMNS = [part.split()[0] for part in CANONICAL_SCHEMA.split(", ")]
STATUS = "_sa_status"
RAGGED = "ragged row"
LINE = LINE_COLUMN
TRACK_LINE = TRACK_LINE_COLUMN


@dataclass(frozen=True)
class SparkCatalog:
    """A validated track table in Spark.

    Attributes
    ----------
    rows
        Every row that splits into the header's columns: the original cells (``_c0``, …),
        ``_sa_line``, ``_sa_status`` (why it is not a track of its own; empty when it is) and
        ``_sa_track_line``.
    tracks
        One row per usable track: the canonical columns and ``_sa_line``, tempo filled and
        genres of repeated ids combined, as the local engine does.
    report
        The same report the local engine gives for the same file.
    """

    rows: DataFrame
    tracks: DataFrame
    report: ValidationReport
    source: SparkSource

    @property
    def size(self) -> int:
        """Number of tracks."""
        return self.report.tracks


def validate(
    source: SparkSource,
    *,
    features: tuple[str, ...],
    overrides: dict[str, str],
    work: Path,
    min_tracks: int = MIN_TRACKS,
) -> SparkCatalog:
    """Apply the local engine's rules to every row of ``source``, in Spark.

    The row pass (the only Python work per row) runs once and is written to ``work/rows``;
    every count after it reads just the columns it needs from there. Duplicates are found by
    counting track ids, so only the rows of repeated ids (usually few) are ever regrouped.

    Raises
    ------
    CatalogError
        A required column is missing, or too few rows are usable (the local engine's words).
    """
    from pyspark.sql import functions as F

    written = list(source.layout.written) if source.layout and source.layout.written else None
    column_map = map_columns(source.headers, features, overrides, source.name, written=written)
    whole = source.frame
    head = whole.filter(F.col(CORRUPT_COLUMN).isNull()).limit(CHOICE_ROWS).toPandas()
    if head.empty:
        raise CatalogError(
            f"{source.name}: has a header but no rows of tracks that split into its columns. "
            "Export the tracks too and try again."
        )
    shape = source.shape
    choices = ColumnChoices.of(_cells(head, shape), column_map, _delimiter(shape))
    probe = _normaliser(head, shape, features, overrides, choices)
    probe.canonical()
    notes = [f for f in probe.findings if f.severity == "note"]

    passed = whole.mapInPandas(
        _row_pass(shape, features, overrides, choices),
        f"{', '.join(f'{c} {t}' for c, t in _passed_types(whole))}, {CANONICAL_SCHEMA}, "
        f"{STATUS} string, _sa_rules array<string>, _sa_examples array<string>, "
        "_sa_fields int",
    )
    passed.write.parquet(str(work / "rows"))
    rows = whole.sparkSession.read.parquet(str(work / "rows"))

    findings = [*notes, *_rule_findings(rows, source, probe.specs)]
    ragged = _ragged(rows, shape)
    if ragged is not None:
        findings.append(ragged)
    fill, tempo_finding = _tempo_fill(rows, source, column_map, features)
    if tempo_finding is not None:
        findings.append(tempo_finding)
    rows = rows.filter(F.col(STATUS) != RAGGED)
    counts = {r[STATUS]: r["count"] for r in rows.groupBy(STATUS).count().collect()}
    rows, merged_counts, merged_findings = _merge_duplicates(rows, source, column_map)
    findings.extend(merged_findings)
    ragged_count = ragged.count if ragged is not None else 0
    counts[""] = counts.get("", 0) - sum(merged_counts.values())
    counts |= merged_counts
    tracks_count = counts.pop("", 0)
    merged = sum(merged_counts.values())
    total = sum(counts.values()) + tracks_count
    if tracks_count < min_tracks:
        raise CatalogError(
            too_few_message(source.name, tracks_count, total + ragged_count, min_tracks, findings)
        )
    dropped = dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda item: -item[1]))
    if ragged_count:
        dropped["ragged row"] = ragged_count
    layout = source.layout
    report = ValidationReport(
        source=source.name,
        file_format=source.file_format,
        rows_read=total + ragged_count,
        rows_rejected=total - tracks_count - merged + ragged_count,
        rows_merged=merged,
        tracks=tracks_count,
        dropped=dropped,
        findings=tuple(findings),
        column_map=dict(column_map),
        encoding=layout.encoding if layout else None,
        delimiter=layout.delimiter if layout else None,
    )
    tracks = rows.filter(F.col(STATUS) == "")
    if fill is not None:
        tracks = tracks.withColumn(
            "tempo", F.when(F.col("tempo") == 0, F.lit(fill)).otherwise(F.col("tempo"))
        )
    tracks = tracks.select(*CANONICAL_COLUMNS, LINE)
    rows = rows.select(*source.columns, LINE, STATUS, TRACK_LINE)
    return SparkCatalog(rows, tracks, report, source)


def _cells(batch: pd.DataFrame, source: SourceShape) -> pd.DataFrame:
    """The original cells of a batch under the user's column names."""
    frame = batch[source.columns].reset_index(drop=True)
    frame.columns = list(source.headers)
    return frame


def _delimiter(source: SourceShape) -> str | None:
    return source.layout.delimiter if source.layout else None


def _normaliser(
    batch: pd.DataFrame,
    source: SourceShape,
    features: tuple[str, ...],
    overrides: dict[str, str],
    choices: ColumnChoices,
) -> RowChecker:
    layout = source.layout
    raw = RawTable(
        _cells(batch, source),
        batch[LINE].to_numpy(dtype=np.int64),
        source.file_format,
        layout.encoding if layout else None,
        _delimiter(source),
        notes=layout.notes if layout else (),
        written_names=layout.written if layout else (),
    )
    return RowChecker(
        raw,
        source.name,
        features,
        overrides,
        None,
        choices=choices,
        row_hashes=batch["_sa_hash"].to_numpy().astype(np.uint64),
    )


def _passed_types(frame: DataFrame) -> list[tuple[str, str]]:
    """The original cells, line and hash, carried through the row pass unchanged."""
    return [
        (f.name, f.dataType.simpleString()) for f in frame.schema.fields if f.name != CORRUPT_COLUMN
    ]


def _row_pass(
    source: SourceShape,
    features: tuple[str, ...],
    overrides: dict[str, str],
    choices: ColumnChoices,
):
    """The function each Spark worker runs on its batches: the local row pass, plus for every
    row the rules it broke and an example cell for each. Ragged CSV records (which the local
    reader sets aside before the pass) get the status "ragged row" and their field count."""
    passed = [*source.columns, LINE, "_sa_hash"]
    delimiter = _delimiter(source)

    def run(batches):
        for batch in batches:
            ragged = batch[CORRUPT_COLUMN].notna().to_numpy()
            if ragged.any():
                yield _ragged_rows(batch[ragged], passed, delimiter or ",")
            clean = batch[~ragged].reset_index(drop=True)
            if clean.empty:
                continue
            normaliser = _normaliser(clean, source, features, overrides, choices)
            canonical = normaliser.canonical()
            rules, examples = normaliser.rule_lists()
            out = clean[passed].copy()
            for column in CANONICAL_COLUMNS:
                out[column] = canonical[column].to_numpy()
            out[STATUS] = normaliser.status.astype(str)
            out["_sa_rules"] = rules
            out["_sa_examples"] = examples
            out["_sa_fields"] = None
            yield out

    return run


def _ragged_rows(batch: pd.DataFrame, passed: list[str], delimiter: str) -> pd.DataFrame:
    out = batch[passed].reset_index(drop=True)
    for column in CANONICAL_COLUMNS:
        out[column] = None
    out[STATUS] = RAGGED
    out["_sa_rules"] = [[] for _ in range(len(out))]
    out["_sa_examples"] = [[] for _ in range(len(out))]
    texts = batch[CORRUPT_COLUMN].astype(str)
    out["_sa_fields"] = [len(next(csv.reader([text], delimiter=delimiter), [])) for text in texts]
    return out


def _rule_findings(
    rows: DataFrame, source: SparkSource, specs: dict[str, RuleSpec]
) -> list[Finding]:
    """Count every rule over all rows and find its first lines and example cells."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    hits = rows.select(
        LINE, F.explode(F.arrays_zip("_sa_rules", "_sa_examples")).alias("hit")
    ).select(LINE, F.col("hit._sa_rules").alias("rule"), F.col("hit._sa_examples").alias("example"))
    counts = {r["rule"]: r["count"] for r in hits.groupBy("rule").count().collect()}
    if not counts:
        return []
    order = Window.partitionBy("rule").orderBy(LINE)
    first = (
        hits.withColumn("rank", F.row_number().over(order))
        .filter(F.col("rank") <= SHOWN_ROWS)
        .collect()
    )
    found: dict[str, list[tuple[int, str | None]]] = {}
    for row in first:
        found.setdefault(row["rule"], []).append((row["rank"], row[LINE], row["example"]))
    findings = []
    for rule, spec in specs.items():
        if rule not in counts:
            continue
        seen = sorted(found[rule])
        lines = [line for _, line, _ in seen]
        examples = [e for _, _, e in seen if e is not None][:EXAMPLES]
        findings.append(
            finding_of(source.name, source.location_word, spec, counts[rule], lines, examples)
        )
    return findings


def _ragged(rows: DataFrame, source: SourceShape) -> Finding | None:
    """The finding for CSV records that do not split into the header's columns."""
    from pyspark.sql import functions as F

    ragged = rows.filter(F.col(STATUS) == RAGGED)
    first = ragged.select(LINE).orderBy(LINE).limit(SHOWN_ROWS).collect()
    if not first:
        return None
    summary = ragged.agg(
        F.count(F.lit(1)).alias("count"), F.collect_set("_sa_fields").alias("fields")
    ).collect()[0]
    return ragged_finding(
        source.name,
        "line",
        summary["count"],
        [r[LINE] for r in first],
        len(source.headers),
        sorted(summary["fields"]),
    )


def _tempo_fill(
    rows: DataFrame,
    source: SparkSource,
    column_map: dict[str, str],
    features: tuple[str, ...],
) -> tuple[float | None, Finding | None]:
    """The tempo undetected tempos (0) of usable rows get — the median detected tempo, as
    locally — and its finding; None when no usable row has a tempo of 0."""
    from pyspark.sql import functions as F

    if "tempo" not in features:
        return None, None
    usable = F.col(STATUS) == ""
    zero = usable & (F.col("tempo") == 0)
    summary = rows.agg(
        F.sum(zero.cast("long")).alias("zero"),
        F.median(F.when(usable & (F.col("tempo") > 0), F.col("tempo"))).alias("median"),
    ).collect()[0]
    count, median = summary["zero"] or 0, summary["median"]
    if not count:
        return None, None
    first = rows.filter(zero).select(LINE).orderBy(LINE).limit(SHOWN_ROWS).collect()
    fill, where_from = tempo_fill(None, median)
    spec = undetected_tempo_spec(column_map["tempo"], fill, where_from)
    finding = finding_of(source.name, source.location_word, spec, count, [r[LINE] for r in first])
    return fill, finding


BROADCAST_ROWS = 2_000_000
"""Rows of repeated ids sent whole to every worker when joined back (more are joined by
shuffling, which is slower but has no size limit)."""


def _merge_duplicates(
    rows: DataFrame, source: SparkSource, column_map: dict[str, str]
) -> tuple[DataFrame, dict[str, int], list[Finding]]:
    """Fold exact duplicate rows and repeated track ids into their first usable row.

    Rows with the same cells have the same track id, so counting track ids finds both; only
    the rows of ids seen more than once are regrouped: the first line of an id is the row every
    copy and repeat is kept under, and its genres are extended with those of the repeats (in
    file order), as the local engine does.

    Returns
    -------
    rows, counts, findings
        Every row with its final ``_sa_status`` and ``_sa_track_line``; how many rows each
        merge rule took; its findings.
    """
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    exact_spec, repeated_spec = duplicate_specs(column_map.get("track_id"))
    usable = F.col(STATUS) == ""
    kept_under_itself = F.when(usable, F.col(LINE)).cast("long")
    candidates = rows.filter(usable).select(LINE, "track_id", "_sa_hash", "genres")
    repeated = candidates.groupBy("track_id").count().filter(F.col("count") > 1).select("track_id")
    by_id = Window.partitionBy("track_id")
    members = (
        candidates.join(repeated, "track_id")
        .withColumn(TRACK_LINE, F.min(LINE).over(by_id))
        .withColumn("_sa_first_copy", F.min(LINE).over(Window.partitionBy("track_id", "_sa_hash")))
        .withColumn(
            "_sa_merged",
            F.when(F.col(LINE) != F.col("_sa_first_copy"), F.lit(exact_spec.rule))
            .when(F.col(LINE) != F.col(TRACK_LINE), F.lit(repeated_spec.rule))
            .otherwise(F.lit("")),
        )
        .withColumn(
            "_sa_genres",
            F.array_distinct(
                F.flatten(
                    F.transform(
                        F.array_sort(F.collect_list(F.struct(LINE, "genres")).over(by_id)),
                        lambda entry: entry["genres"],
                    )
                )
            ),
        )
        .select(LINE, TRACK_LINE, "_sa_merged", "_sa_genres")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    counted = {r["_sa_merged"]: r["count"] for r in members.groupBy("_sa_merged").count().collect()}
    if not sum(counted.values()):
        members.unpersist()
        return rows.withColumn(TRACK_LINE, kept_under_itself), {}, []
    counts = {
        rule: counted[rule] for rule in (exact_spec.rule, repeated_spec.rule) if counted.get(rule)
    }
    findings = _merged_findings(members, source, [exact_spec, repeated_spec], counts)
    joined = F.broadcast(members) if sum(counted.values()) <= BROADCAST_ROWS else members
    merged = (
        rows.join(joined, LINE, "left")
        .withColumn(STATUS, F.coalesce(F.col("_sa_merged"), F.col(STATUS)))
        .withColumn(TRACK_LINE, F.coalesce(F.col(TRACK_LINE), kept_under_itself))
        .withColumn("genres", F.coalesce(F.col("_sa_genres"), F.col("genres")))
        .drop("_sa_merged", "_sa_genres")
    )
    return merged, counts, findings


def _merged_findings(
    members: DataFrame, source: SparkSource, specs: list[RuleSpec], counts: dict[str, int]
) -> list[Finding]:
    """The findings for rows merged into earlier ones, with their first lines."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rank = F.row_number().over(Window.partitionBy("_sa_merged").orderBy(LINE))
    first = (
        members.filter(F.col("_sa_merged") != "")
        .select("_sa_merged", LINE, rank.alias("rank"))
        .filter(F.col("rank") <= SHOWN_ROWS)
        .collect()
    )
    lines: dict[str, list[tuple[int, int]]] = {}
    for row in first:
        lines.setdefault(row["_sa_merged"], []).append((row["rank"], row[LINE]))
    return [
        finding_of(
            source.name,
            source.location_word,
            spec,
            counts[spec.rule],
            [line for _, line in sorted(lines[spec.rule])],
        )
        for spec in specs
        if spec.rule in counts
    ]
