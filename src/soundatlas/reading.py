"""Read a user's track file into a raw table, whatever its format, encoding or delimiter.

The format is recognised from the content, never from the file name: a Parquet file renamed to
``.csv`` still reads, and a binary file named ``tracks.csv`` is refused with a clear message.
Text cells are kept exactly as written so an export can give users back their own file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from soundatlas.errors import CatalogError

SNIFF_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class RaggedRow:
    """A CSV record whose number of fields differs from the header's."""

    line: int | None
    expected: int
    found: int
    text: str


@dataclass(frozen=True)
class RawTable:
    """A file read as it is: its cells, where each row came from, and how it was read."""

    frame: pd.DataFrame
    lines: np.ndarray
    """For each row, its line in the file (CSV) or its 1-based record number (other formats)."""
    file_format: str
    encoding: str | None = None
    delimiter: str | None = None
    ragged: tuple[RaggedRow, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Things the user should know about how the file was read (encoding fallback and such)."""

    @property
    def location_word(self) -> str:
        """How rows are located in messages: by line for text tables, by record otherwise."""
        return "line" if self.file_format == "csv" else "record"


def read_table(path: str | Path) -> RawTable:
    """Read a track table from CSV/TSV/pipe-separated text, Parquet, JSON or JSON Lines.

    Raises
    ------
    CatalogError
        If the file is missing, empty, binary, or not a table; the message says what to do.
    """
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"{path}: no such file. Check the path and try again.")
    if path.is_dir():
        raise CatalogError(
            f"{path}: is a folder, not a track table. Pass a CSV, Parquet or JSON file."
        )
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise CatalogError(
            f"{path}: the file is empty. Export your tracks with a header row and try again."
        )
    if head.startswith(b"PAR1"):
        return _read_parquet(path)
    if head.startswith(b"\x1f\x8b"):
        with gzip.open(path, "rb") as handle:
            data = handle.read()
        return _read_text(path, data, note="decompressed from gzip")
    if head.startswith(b"PK\x03\x04"):
        raise CatalogError(
            f"{path}: this is a ZIP archive (an Excel workbook is one too), not a track table. "
            "Save or extract it as CSV, Parquet or JSON and try again."
        )
    return _read_text(path, path.read_bytes())


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise CatalogError(
            f"{path}: looks like Parquet but cannot be read ({exc}). "
            "Re-export the file and try again."
        ) from exc
    frame = _flatten_cells(frame.reset_index(drop=True))
    return RawTable(frame, np.arange(1, len(frame) + 1), "parquet")


def _decode(path: Path, data: bytes) -> tuple[str, str, tuple[str, ...]]:
    """Decode text as UTF-8 (with or without BOM), else the detected encoding with a note."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16", ("the file is UTF-16 text; read it as such",)
    if b"\x00" in data[:SNIFF_BYTES]:
        raise CatalogError(
            f"{path}: this is a binary file, not a track table (it contains NUL bytes). "
            "Pass a CSV, TSV, Parquet or JSON file of tracks."
        )
    try:
        return data.decode("utf-8-sig"), "utf-8", ()
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * SNIFF_BYTES] if bad_at < 4 * SNIFF_BYTES else data).best()
    encoding = best.encoding if best is not None else "cp1252"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding = "cp1252" if _decodes(data, "cp1252") else "latin-1"
        text = data.decode(encoding)
    line = data[:bad_at].count(b"\n") + 1
    note = (
        f"the file is not valid UTF-8 (first bad byte on line {line}); it was read as {encoding}. "
        "Check accented names, or re-save the file as UTF-8"
    )
    return text, encoding, (note,)


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _read_text(path: Path, data: bytes, note: str | None = None) -> RawTable:
    text, encoding, notes = _decode(path, data)
    if encoding == "utf-8":
        # pyarrow parses the original bytes; re-encoding the decoded text would double the memory.
        data = data.removeprefix(b"\xef\xbb\xbf")
    else:
        data = text.encode("utf-8")
    if note:
        notes = (note, *notes)
    stripped = text.lstrip()
    if not stripped:
        raise CatalogError(
            f"{path}: the file is empty. Export your tracks with a header row and try again."
        )
    if stripped[0] in "[{":
        return _read_json(path, stripped, encoding, notes)
    return _read_delimited(path, text, data, encoding, notes)


def _read_json(path: Path, text: str, encoding: str, notes: tuple[str, ...]) -> RawTable:
    try:
        records = json.loads(text)
    except json.JSONDecodeError:
        records = None
    if records is None:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CatalogError(
                    f"{path}: line {number} is not valid JSON ({exc.msg}). The file must be a JSON "
                    "array of track objects or JSON Lines (one object per line)."
                ) from exc
        file_format = "jsonl"
    else:
        file_format = "json"
        if isinstance(records, dict):
            records = _records_in(records)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise CatalogError(
            f"{path}: JSON must be an array of track objects (or JSON Lines); "
            "found something else. Export one object per track."
        )
    if not records:
        raise CatalogError(
            f"{path}: the JSON holds no tracks. Export at least one track and try again."
        )
    frame = _flatten_cells(pd.json_normalize(records))
    return RawTable(frame, np.arange(1, len(frame) + 1), file_format, encoding, notes=notes)


def _records_in(document: dict) -> object:
    """Find the list of tracks in a JSON object (``{"tracks": [...]}`` or column-oriented)."""
    lists = [v for v in document.values() if isinstance(v, list)]
    if len(lists) == 1 and all(isinstance(r, dict) for r in lists[0]):
        return lists[0]
    if document and all(isinstance(v, dict) for v in document.values()):
        return pd.DataFrame(document).to_dict("records")
    if document and all(isinstance(v, list) for v in document.values()):
        lengths = {len(v) for v in document.values()}
        if len(lengths) == 1:
            return pd.DataFrame(document).to_dict("records")
    return [document]


def _flatten_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Make every cell a scalar: lists of names stay lists, other nested values become JSON text."""
    frame.columns = [str(c) for c in frame.columns]
    for column in frame.columns:
        series = frame[column]
        if series.dtype != object:
            continue
        nested = series.map(lambda v: isinstance(v, (dict, list, tuple, np.ndarray)))
        if not nested.any():
            continue
        frame[column] = series.map(_cell_to_text)
    return frame


def _cell_to_text(value: object) -> object:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        names = [v.get("name") if isinstance(v, dict) else v for v in value]
        if all(isinstance(n, str) for n in names):
            return repr(list(names))
        return json.dumps(value, default=str)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return value


def sniff_delimiter(sample: str) -> str:
    """The delimiter whose field count is most consistent over the first lines (comma on a tie)."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts or max(counts) < 2:
            continue
        header_count = counts[0]
        agreeing = sum(1 for c in counts if c == header_count) / len(counts)
        score = (agreeing, header_count)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _header(path: Path, text: str, delimiter: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text[:SNIFF_BYTES]), delimiter=delimiter), None)
    if not first or not any(cell.strip() for cell in first):
        raise CatalogError(
            f"{path}: the first line is blank; the first line must be a header naming the columns."
        )
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, cell in enumerate(first, start=1):
        name = cell.strip() or f"unnamed_{position}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _read_delimited(
    path: Path, text: str, data: bytes, encoding: str, notes: tuple[str, ...]
) -> RawTable:
    delimiter = sniff_delimiter(text[:SNIFF_BYTES])
    names = _header(path, text, delimiter)
    ragged: list[RaggedRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if row.actual_columns == 1 and not row.text.strip():
            return "skip"
        ragged.append(
            RaggedRow(row.number, row.expected_columns, row.actual_columns, row.text[:200])
        )
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise CatalogError(
            f"{path}: cannot be parsed as {_DELIMITER_NAMES[delimiter]}-separated text ({exc}). "
            "Check for an unclosed quote, or export the file again."
        ) from exc
    if table.num_rows == 0:
        raise CatalogError(
            f"{path}: has a header but no rows of tracks. Export the tracks too and try again."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
    physical_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if physical_lines == len(frame) + len(ragged) + 1:
        # One record per line: pyarrow's record numbers are line numbers.
        lines = _line_numbers(len(frame), [r.line for r in ragged if r.line is not None])
    else:
        # Blank lines or cells spanning lines: find where each record starts.
        lines, ragged = _record_start_lines(text, delimiter, len(names), len(frame), ragged)
    return RawTable(frame, lines, "csv", encoding, delimiter, tuple(ragged), notes)


def _record_start_lines(
    text: str, delimiter: str, width: int, n_rows: int, ragged: list[RaggedRow]
) -> tuple[np.ndarray, list[RaggedRow]]:
    """The line each kept record starts on, and ragged records with their real lines.

    Falls back to record numbers if Python's csv module splits the file differently from
    pyarrow (then messages point at records, which is still right, only counted otherwise).
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    kept: list[int] = []
    odd: list[int] = []
    start = 1
    for number, row in enumerate(reader):
        if number and row and not (len(row) == 1 and not row[0].strip()):
            (kept if len(row) == width else odd).append(start)
        start = reader.line_num + 1
    if len(kept) != n_rows or len(odd) != len(ragged):
        return np.arange(2, n_rows + 2, dtype=np.int64), ragged
    fixed = [
        RaggedRow(line, r.expected, r.found, r.text) for line, r in zip(odd, ragged, strict=True)
    ]
    return np.asarray(kept, dtype=np.int64), fixed


def _line_numbers(n_rows: int, skipped: list[int]) -> np.ndarray:
    """Line of each kept row, given the lines skipped as ragged (header is line 1)."""
    every_line = np.arange(2, n_rows + len(skipped) + 2, dtype=np.int64)
    return np.setdiff1d(every_line, np.asarray(skipped, dtype=np.int64))[:n_rows]


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (for manifests and cache keys)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
