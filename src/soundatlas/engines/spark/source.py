"""Read a track table into Spark as it is written: CSV, a Parquet file, or a folder or glob of
Parquet parts.

Columns get positional names (``_c0``, ``_c1``, …) so any header works in Spark expressions;
`SparkSource.headers` keeps the user's names. Every row gets ``_sa_line`` (its line in a CSV
file, its 1-based record number across Parquet parts in path order) and ``_sa_hash`` (a 64-bit
hash of its cells, which finds exact duplicate rows).
"""

from __future__ import annotations

import codecs
import glob
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from soundatlas.errors import CatalogError
from soundatlas.ingest.catalog import LINE_COLUMN
from soundatlas.ingest.reading import TextLayout, refuse_binary, text_layout

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CORRUPT_COLUMN = "_sa_corrupt"
LINE = LINE_COLUMN
"""The text of a CSV record whose field count differs from the header's (a ragged row)."""
_GLOB_CHARACTERS = set("*?[")


@dataclass(frozen=True)
class SourceShape:
    """What a worker needs to know of the source to read a batch of its rows (no Spark
    objects: it is sent to every worker)."""

    headers: tuple[str, ...]
    name: str
    file_format: str
    layout: TextLayout | None = None

    @property
    def columns(self) -> list[str]:
        """The positional column names, in header order."""
        return [f"_c{i}" for i in range(len(self.headers))]

    @property
    def location_word(self) -> str:
        """How rows are located in messages: by line for CSV, by record for Parquet."""
        return "line" if self.file_format == "csv" else "record"


@dataclass(frozen=True)
class SparkSource:
    """A track table as Spark reads it, with what is needed to name its rows and columns."""

    frame: DataFrame
    headers: list[str]
    name: str
    file_format: str
    layout: TextLayout | None = None

    @property
    def shape(self) -> SourceShape:
        """The source without its Spark frame, for workers."""
        return SourceShape(tuple(self.headers), self.name, self.file_format, self.layout)

    @property
    def columns(self) -> list[str]:
        """The positional column names, in header order."""
        return [f"_c{i}" for i in range(len(self.headers))]

    @property
    def location_word(self) -> str:
        """How rows are located in messages: by line for CSV, by record for Parquet."""
        return "line" if self.file_format == "csv" else "record"


def read_source(spark: SparkSession, source: str | Path) -> SparkSource:
    """Open ``source`` lazily in Spark (nothing is read until a job runs): a local CSV or
    Parquet file, a local folder or glob of Parquet parts, or a URL of the cluster's storage
    (``s3a://…``, ``hdfs://…``) that Spark lists itself.

    Raises
    ------
    CatalogError
        Nothing there, an empty folder, or a file Spark cannot read as a track table; the
        message says what to pass instead.
    """
    text = str(source)
    if "://" in text and not text.startswith("file://"):
        # A cluster's storage (s3a://, hdfs://, gs://…): only Spark can list it.
        if text.lower().endswith((".csv", ".csv.gz", ".tsv", ".txt")):
            raise CatalogError(
                f"{text}: the spark engine reads CSV from local files only (it reads the "
                "header first); convert remote tables to Parquet."
            )
        return _read_parquet(spark, [text], text)
    if _GLOB_CHARACTERS & set(text):
        paths = sorted(p for p in glob.glob(text) if Path(p).is_file())
        if not paths:
            raise CatalogError(f"{text}: no file matches this pattern. Check the path.")
        return _read_parquet(spark, paths, text)
    path = Path(text)
    if not path.exists():
        raise CatalogError(f"{path}: no such file or folder. Check the path and try again.")
    if path.is_dir():
        parts = sorted(str(p) for p in path.rglob("*.parquet") if not p.name.startswith((".", "_")))
        if not parts:
            raise CatalogError(
                f"{path}: is a folder without Parquet parts (*.parquet). Pass a CSV or Parquet "
                "file, or a folder of Parquet parts."
            )
        return _read_parquet(spark, parts, str(path))
    if not path.is_file():
        raise CatalogError(
            f"{path}: is not a regular file (a pipe or device). Save the tracks to a file first."
        )
    with path.open("rb") as handle:
        head = handle.read(64)
    if not head.strip():
        raise CatalogError(
            f"{path}: the file is empty. Export your tracks with a header row and try again."
        )
    if head.startswith(b"PAR1"):
        return _read_parquet(spark, [str(path)], str(path))
    if head.startswith(b"\x1f\x8b") and path.suffix != ".gz":
        raise CatalogError(
            f"{path}: is gzip-compressed but not named .gz, so Spark would read it as text. "
            "Rename it to end in .gz, or decompress it."
        )
    refuse_binary(path, head)
    if path.suffix == ".gz":
        raise CatalogError(
            f"{path}: the spark engine reads plain CSV (compressed CSV cannot be split between "
            "workers). Decompress it, or convert it to Parquet."
        )
    if head.lstrip()[:1] in (b"[", b"{"):
        raise CatalogError(
            f"{path}: looks like JSON; the spark engine reads CSV and Parquet. Build it with the "
            "local engine, or convert it to Parquet."
        )
    return _read_csv(spark, path)


def _read_csv(spark: SparkSession, path: Path) -> SparkSource:
    from pyspark.sql import types as T

    layout = text_layout(path)
    if layout.preamble_lines or layout.header_lines > 1:
        what = (
            f"starts with {layout.preamble_lines} line(s) before the header (comments or "
            "Excel's 'sep=' line)"
            if layout.preamble_lines
            else "has a header cell spanning several lines"
        )
        raise CatalogError(
            f"{path}: {what}, which the spark engine cannot read (it splits the file by "
            "lines). Fix the header, or build with the local engine."
        )
    if layout.encoding.startswith(("utf-16", "utf-32")):
        raise CatalogError(
            f"{path}: is {layout.encoding.upper()} text, which Spark cannot split between "
            "workers. Re-save it as UTF-8, or build with the local engine."
        )
    fields = [T.StructField(f"_c{i}", T.StringType()) for i in range(len(layout.headers))]
    schema = T.StructType([*fields, T.StructField(CORRUPT_COLUMN, T.StringType())])
    frame = (
        spark.read.schema(schema)
        .option("header", True)
        .option("sep", layout.delimiter)
        .option("quote", '"')
        .option("escape", '"')
        .option("encoding", _java_charset(layout.encoding))
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_COLUMN)
        .option("maxCharsPerColumn", -1)
        .csv(str(path))
    )
    frame = _numbered(spark, frame, 2, len(fields))
    return SparkSource(frame, layout.headers, str(path), "csv", layout)


def _java_charset(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return {"cp1252": "windows-1252", "latin-1": "ISO-8859-1", "iso8859-1": "ISO-8859-1"}.get(
        name, name
    )


def _read_parquet(spark: SparkSession, paths: list[str], name: str) -> SparkSource:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    frame = spark.read.parquet(*paths)
    headers = list(frame.columns)
    if not headers:
        raise CatalogError(f"{name}: the Parquet data has no columns. Re-export it.")
    columns = []
    for position, field in enumerate(frame.schema.fields):
        column = F.col(f"`{field.name}`")
        if isinstance(field.dataType, (T.StructType, T.MapType)):
            column = F.to_json(column)
        elif isinstance(field.dataType, T.DecimalType):
            column = column.cast("double")
        elif isinstance(field.dataType, T.ArrayType) and not isinstance(
            field.dataType.elementType, T.StringType
        ):
            column = column.cast("array<string>")
        columns.append(column.alias(f"_c{position}"))
    frame = frame.select(
        *columns,
        F.lit(None).cast("string").alias(CORRUPT_COLUMN),
        F.col("_metadata.file_path").alias("_sa_file"),
        F.col("_metadata.row_index").alias("_sa_row"),
    )
    # Parquet numbers each file's rows itself; the files' row counts (from their footers) give
    # where each starts.
    files = frame.groupBy("_sa_file").count().orderBy("_sa_file").collect()
    offsets, start = [], 1
    for file in files:
        offsets.append((file["_sa_file"], start))
        start += file["count"]
    table = spark.createDataFrame(offsets, "_sa_file string, _sa_start long")
    frame = (
        frame.join(F.broadcast(table), "_sa_file")
        .withColumn(LINE, F.col("_sa_start") + F.col("_sa_row"))
        .drop("_sa_file", "_sa_row", "_sa_start")
    )
    return SparkSource(_hashed(frame, len(headers)), headers, name, "parquet")


def _numbered(spark: SparkSession, frame: DataFrame, first: int, width: int) -> DataFrame:
    """Add ``_sa_line`` (file order: files by path, then their splits, then rows) and
    ``_sa_hash``. A small job counts the rows of each split to find where it starts."""
    from pyspark.sql import functions as F

    frame = frame.select(
        "*",
        F.col("_metadata.file_path").alias("_sa_file"),
        F.col("_metadata.file_block_start").alias("_sa_block"),
        F.monotonically_increasing_id().alias("_sa_mid"),
    )
    splits = (
        frame.groupBy("_sa_file", "_sa_block")
        .agg(F.count(F.lit(1)).alias("rows"), F.min("_sa_mid").alias("first_mid"))
        .orderBy("_sa_file", "_sa_block")
        .collect()
    )
    offsets, start = [], first
    for split in splits:
        offsets.append((split["_sa_file"], split["_sa_block"], start - split["first_mid"]))
        start += split["rows"]
    table = spark.createDataFrame(offsets, "_sa_file string, _sa_block long, _sa_shift long")
    numbered = (
        frame.join(F.broadcast(table), ["_sa_file", "_sa_block"])
        .withColumn(LINE, F.col("_sa_mid") + F.col("_sa_shift"))
        .drop("_sa_file", "_sa_block", "_sa_mid", "_sa_shift")
    )
    return _hashed(numbered, width)


def _hashed(frame: DataFrame, width: int) -> DataFrame:
    """Add ``_sa_hash``: a 64-bit hash of a row's cells (missing cells marked, so that a
    missing cell and an empty one differ)."""
    from pyspark.sql import functions as F

    marked = [F.coalesce(F.col(f"_c{i}").cast("string"), F.lit("\u0000")) for i in range(width)]
    return frame.withColumn("_sa_hash", F.xxhash64(*marked))
