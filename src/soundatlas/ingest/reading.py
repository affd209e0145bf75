"""Read a user's track file into a raw table, whatever its format, encoding or delimiter.

The format is recognised from the content, never from the file name: a Parquet file renamed to
``.csv`` still reads, and a binary file named ``tracks.csv`` is refused with a clear message.
Text cells are kept exactly as written so an export can give users back their own file.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import re
import stat
import sys
import warnings
import zlib
from collections.abc import Iterator
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
    written_names: tuple[str, ...] = ()
    """Each column's name as the file writes it, where that differs from the frame's (a
    repeated name is numbered in the frame: ``energy``, ``energy.1``)."""

    @property
    def names_as_written(self) -> list[str]:
        """The column names as the file writes them, in the frame's order."""
        return list(self.written_names) or [str(c) for c in self.frame.columns]

    @property
    def location_word(self) -> str:
        """How rows are located in messages: by line for text tables, by record otherwise."""
        return "line" if self.file_format == "csv" else "record"


_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office document",
    b"SQLite format 3": "an SQLite database",
    b"\x7fELF": "a program",
}


MAX_TABLE_BYTES = 1 << 30
"""Largest table read, in bytes as stored or once decompressed (1 GiB; about 4 million songs in
the seed schema). Reading takes about six times a table's size in memory, so this keeps a
table, or a small file that expands into a huge one, from taking the machine's memory."""

MAX_COLUMNS = 4096
"""Widest table read. Track tables have tens of columns; a parser holds state for every column,
so a file of a million empty columns (11 MB) would take gigabytes: refused from its header."""


def read_table(path: str | Path) -> RawTable:
    """Read a track table from CSV/TSV/pipe-separated text, Parquet, JSON or JSON Lines.

    Raises
    ------
    CatalogError
        If the file is missing, empty, binary, larger than `MAX_TABLE_BYTES` (stored or
        decompressed), or not a table; the message says what to do.
    """
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"{path}: no such file. Check the path and try again.")
    if path.is_dir():
        raise CatalogError(
            f"{path}: is a folder, not a track table. Pass a CSV, Parquet or JSON file."
        )
    with _open_regular(path) as handle:
        _check_size(path, os.fstat(handle.fileno()).st_size, "is")
        head = handle.read(SNIFF_BYTES)
        if not head.strip():
            raise CatalogError(
                f"{path}: the file is empty. Export your tracks with a header row and try again."
            )
        if head.startswith(b"PAR1"):
            return _read_parquet(path, handle)
        if head.startswith(b"\x1f\x8b"):
            return _read_text(path, _gunzip(path, handle), note="decompressed from gzip")
        refuse_binary(path, head)
        handle.seek(0)
        return _read_text(path, handle.read())


def _open_regular(path: Path) -> io.BufferedReader:
    """Open ``path`` for reading only if it is a regular file. Opened without blocking and
    checked on the open descriptor, so a pipe cannot hang the read and a device such as
    /dev/zero is never read, even if one replaces the file after it was looked at."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise CatalogError(
            f"{path}: cannot be read ({exc.strerror}). Check its permissions."
        ) from exc
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise CatalogError(
            f"{path}: is not a regular file (a pipe or device). Save the tracks to a file first."
        )
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def refuse_binary(path: Path, head: bytes) -> None:
    """Refuse a file whose first bytes say it is an archive, image, document or program."""
    if head.startswith(b"PK\x03\x04"):
        raise CatalogError(
            f"{path}: this is a ZIP archive (an Excel workbook is one too), not a track table. "
            "Save or extract it as CSV, Parquet or JSON and try again."
        )
    for magic, kind in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise CatalogError(
                f"{path}: this is {kind}, not a track table. Pass a CSV, Parquet or JSON file."
            )


def _check_size(path: Path, size: int, how: str) -> None:
    if size > MAX_TABLE_BYTES:
        raise CatalogError(
            f"{path}: {how} {size / 2**30:.1f} GiB or more, more than the "
            f"{MAX_TABLE_BYTES / 2**30:.0f} GiB SoundAtlas reads (about 4 million songs). "
            "Keep only the columns SoundAtlas uses, or split the catalog."
        )


def _gunzip(path: Path, handle: io.BufferedReader) -> bytes:
    """The decompressed bytes, refused when they would pass `MAX_TABLE_BYTES`: a first pass
    only counts them, in blocks, so a small file that expands without end (a gzip bomb) is
    refused before any of it is kept in memory."""
    try:
        for keep in (False, True):
            handle.seek(0)
            blocks, size = [], 0
            with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                while block := stream.read(1 << 20):
                    size += len(block)
                    _check_size(path, size, "decompresses to")
                    if keep:
                        blocks.append(block)
        return b"".join(blocks)
    except (OSError, EOFError, zlib.error) as exc:
        raise CatalogError(
            f"{path}: is gzip-compressed but cannot be decompressed ({exc}); the file is "
            "damaged or cut short. Compress it again, or pass it uncompressed."
        ) from exc


def _read_parquet(path: Path, handle: io.BufferedReader) -> RawTable:
    try:
        handle.seek(0)
        parquet = pq.ParquetFile(handle)
        metadata = parquet.metadata
        check_width(path, metadata.num_columns)
        _check_size(
            path,
            sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)),
            "decompresses to",
        )
        frame = parquet.read().to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise CatalogError(
            f"{path}: looks like Parquet but cannot be read ({str(exc)[:200]}). "
            "Re-export the file and try again."
        ) from exc
    written = [str(c) for c in frame.columns]
    frame = _flatten_cells(frame.reset_index(drop=True))
    return RawTable(
        frame,
        np.arange(1, len(frame) + 1),
        "parquet",
        written_names=_if_renamed(written, list(frame.columns)),
    )


def _decode(path: Path, data: bytes) -> tuple[str, str, tuple[str, ...]]:
    """Decode text: UTF-8 (with or without BOM), UTF-16/32, or a detected legacy encoding.

    A UTF-8 file with a few bad bytes stays UTF-8 (the bad bytes become U+FFFD and their lines
    are named): switching the whole file to a guessed encoding would garble every correct
    accented name instead of a few wrong ones.
    """
    for bom, encoding in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32")):
        if data.startswith(bom):
            return data.decode(encoding), encoding, (f"the file is {encoding.upper()} text",)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16", ("the file is UTF-16 text",)
    utf16 = _bomless_utf16(data) if b"\x00" in data[:SNIFF_BYTES] else None
    if utf16 is not None:
        return data.decode(utf16), utf16, (f"the file is {utf16.upper()} text without a BOM",)
    try:
        return data.decode("utf-8-sig"), "utf-8", ()
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8-sig", errors="replace")
    replaced = text.count("\ufffd")
    wide = len(text) - len(text.encode("ascii", "ignore")) - replaced
    if wide >= replaced:
        lines = _lines_of(text, _REPLACEMENT)
        shown = ", ".join(str(line) for line in lines[:10]) + (", …" if len(lines) > 10 else "")
        note = (
            f"the file is UTF-8 but has {replaced:,} byte(s) that are not (on line(s) {shown}); "
            "they were read as '\ufffd'. Fix those names, or re-save the file as UTF-8"
        )
        return text, "utf-8", (note,)
    return _legacy(data)


_REPLACEMENT = re.compile("\ufffd")


def _lines_of(text: str, pattern: re.Pattern[str]) -> list[int]:
    """The 1-based lines where ``pattern`` matches, ascending, each once; one pass over the text
    (counting newlines from the start for every match would be quadratic)."""
    lines: list[int] = []
    line, counted = 1, 0
    for match in pattern.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _bomless_utf16(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' if NUL bytes sit at every other position, as in UTF-16 text."""
    sample = data[: 2 * 4096]
    if len(sample) < 4:
        return None
    odd = sample[1::2].count(0) / (len(sample) // 2)
    even = sample[0::2].count(0) / (len(sample) // 2)
    if odd > 0.6 and even < 0.1:
        return "utf-16-le" if _decodes(data, "utf-16-le") else None
    if even > 0.6 and odd < 0.1:
        return "utf-16-be" if _decodes(data, "utf-16-be") else None
    return None


def _legacy(data: bytes) -> tuple[str, str, tuple[str, ...]]:
    """Text in a single-byte encoding (cp1252, Latin-1 …), detected, with a note naming it."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * SNIFF_BYTES]).best()
    encoding = best.encoding if best is not None else "cp1252"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding = "cp1252" if _decodes(data, "cp1252") else "latin-1"
        text = data.decode(encoding)
    note = (
        f"the file is not UTF-8; it was read as {encoding}. Check accented names, or re-save "
        "the file as UTF-8"
    )
    return text, encoding, (note,)


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


_LONE_CR = re.compile("\r(?!\n)")


_JSON_START = re.compile(r"\{\s*[\"}]|\[\s*(?:[\[{\"\]\d-]|true\b|false\b|null\b|$)")
"""How a JSON table starts: an object with a key (or none), or an array of objects, arrays or
names. A CSV header such as ``[id],name`` or ``{x};y`` does not."""


def _read_text(path: Path, data: bytes, note: str | None = None) -> RawTable:
    text, encoding, notes = _decode(path, data)
    if note:
        notes = (note, *notes)
    if "\x00" in text:
        raise _nul_bytes(path, text)
    if _lines_end_with_cr(text):
        # Old Mac style: pyarrow ends a line at a lone CR, the csv module (header, line
        # numbers) would not. A CR in a cell of a file whose lines end with LF or CRLF is the
        # cell's, and stays.
        text = _LONE_CR.sub("\n", text)
        notes = (*notes, "lines ending with CR only (old Mac style) were read as lines")
    stripped = text.lstrip()
    if not stripped:
        raise CatalogError(
            f"{path}: the file is empty. Export your tracks with a header row and try again."
        )
    if _JSON_START.match(stripped):
        return _read_json(path, stripped, encoding, notes, text.count("\n", 0, -len(stripped)))
    return _read_delimited(path, text, encoding, notes)


def _lines_end_with_cr(text: str) -> bool:
    """Whether lines end with a CR alone: the first lone CR is outside quotes (an even number
    of quote marks before it), so it ends a line rather than sitting in a quoted cell."""
    if "\r" not in text:
        return False
    first = _LONE_CR.search(text)
    return first is not None and text.count('"', 0, first.start()) % 2 == 0


def _nul_bytes(path: Path, text: str) -> CatalogError:
    """A text table never holds a NUL byte: wherever it is, the file is binary or damaged, and
    the whole file is refused (one rule, not a row here and a file there)."""
    lines = _lines_of(text, _NUL)
    if text.count("\x00") * 100 > len(text):
        return CatalogError(
            f"{path}: this is a binary file, not a track table (it contains NUL bytes). "
            "Pass a CSV, TSV, Parquet or JSON file of tracks."
        )
    shown = ", ".join(str(line) for line in lines[:10]) + (", …" if len(lines) > 10 else "")
    lines_hold = f"line {shown} holds" if len(lines) == 1 else f"lines {shown} hold"
    return CatalogError(
        f"{path}: {lines_hold} a NUL byte (\\0), which no text table holds; the file "
        "is damaged or binary. Remove the NUL bytes (or export the file again) and try again."
    )


_NUL = re.compile("\x00")


def _read_json(
    path: Path, text: str, encoding: str, notes: tuple[str, ...], skipped_lines: int = 0
) -> RawTable:
    """A JSON document or JSON Lines; where either breaks, the line and character are named."""
    try:
        records = json.loads(text)
        file_format = "json"
    except json.JSONDecodeError as exc:
        records, file_format = _json_lines(path, text, exc, skipped_lines), "jsonl"
    except RecursionError as exc:
        raise CatalogError(
            f"{path}: the JSON is nested too deeply to be a table of tracks. Export one object "
            "per track."
        ) from exc
    if file_format == "json" and isinstance(records, dict):
        records = _records_in(records)
    if not isinstance(records, list):
        raise CatalogError(
            f"{path}: JSON must be an array of track objects (or JSON Lines); found "
            f"{_json_kind(records)}. Export one object per track."
        )
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            jsonl = file_format == "jsonl"
            place = f"line {number + skipped_lines}" if jsonl else f"record {number}"
            raise CatalogError(
                f"{path}: {place} is {_json_kind(record)}, not a track object. JSON must be an "
                "array of track objects or JSON Lines (one object per line): fix or remove it "
                "and try again."
            )
    if not records:
        raise CatalogError(
            f"{path}: the JSON holds no tracks. Export at least one track and try again."
        )
    check_width(path, len(set().union(*records)))
    frame = pd.json_normalize(records)
    check_width(path, frame.shape[1])
    frame = _flatten_cells(frame)
    return RawTable(frame, np.arange(1, len(frame) + 1), file_format, encoding, notes=notes)


def _json_lines(
    path: Path, text: str, document_error: json.JSONDecodeError, skipped_lines: int
) -> list[object]:
    """The records of JSON Lines text. Text whose first line is not a JSON value on its own is
    a JSON document, and the document's own error is the one reported."""
    records: list[object] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError) as exc:
            if not records:
                raise _broken_json(path, text, document_error, skipped_lines) from document_error
            raise _broken_json(path, line, exc, skipped_lines + number - 1) from exc
    return records


def _broken_json(
    path: Path, text: str, exc: json.JSONDecodeError | RecursionError, lines_before: int
) -> CatalogError:
    if isinstance(exc, RecursionError):
        return CatalogError(
            f"{path}: line {lines_before + 1}: the JSON is nested too deeply to be a track. "
            "Export one object per track."
        )
    ending = text.rstrip()
    cut_short = "\n" not in ending[exc.pos :] and not ending.endswith(("}", "]"))
    why = "the text ends in the middle of a value: the file was cut short" if cut_short else exc.msg
    return CatalogError(
        f"{path}: line {lines_before + exc.lineno}, character {exc.colno}: not valid JSON "
        f"({why}). The file must be a JSON array of track objects or JSON Lines (one object per "
        "line); export it again, or fix that line."
    )


def _json_kind(value: object) -> str:
    """``an array``, ``a number``…: what a JSON value is, for messages."""
    kinds = {list: "an array", str: "a string", bool: "true/false", dict: "an object"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"a number ({value!r})"
    return kinds.get(type(value), type(value).__name__)


_TRACK_KEYS = ("tracks", "items", "songs", "data", "records", "results", "rows")


def _records_in(document: dict) -> object:
    """Find the list of tracks in a JSON object: ``{"tracks": [...]}`` (or another list of
    objects under a usual key, or the longest one), or a column-oriented table."""
    lists = {k: v for k, v in document.items() if isinstance(v, list) and v}
    objects = {k: v for k, v in lists.items() if all(isinstance(r, dict) for r in v)}
    for key in _TRACK_KEYS:
        if key in objects:
            return objects[key]
    if objects:
        return max(objects.values(), key=len)
    if document and all(isinstance(v, dict) for v in document.values()):
        return pd.DataFrame(document).to_dict("records")
    if document and all(isinstance(v, list) for v in document.values()):
        lengths = {len(v) for v in document.values()}
        if len(lengths) == 1:
            return pd.DataFrame(document).to_dict("records")
    return [document]


def _flatten_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Make every cell a scalar: lists of names stay lists, other nested values become JSON text."""
    frame.columns = unique_names([str(c) for c in frame.columns])
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
    """The delimiter whose field count is most consistent over the first lines (comma on a tie).

    Lines end at "\n" only, as for the parser: ``str.splitlines`` would also end them at
    form feeds, U+0085 or U+2028 inside names, and miscount every delimiter.
    """
    lines = [line for line in sample.split("\n")[:50] if line.strip()]
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]
    best, best_score = ",", (0.0, 0)
    with _long_fields():
        for delimiter in DELIMITERS:
            try:
                counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
            except csv.Error:
                continue
            if not counts or max(counts) < 2:
                continue
            header_count = counts[0]
            agreeing = sum(1 for c in counts if c == header_count) / len(counts)
            score = (agreeing, header_count)
            if score > best_score:
                best, best_score = delimiter, score
    return best


@contextlib.contextmanager
def _long_fields():
    """Let Python's csv module read very long cells (it refuses cells over 128 KiB)."""
    previous = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _preamble(text: str) -> tuple[int, str | None, str | None]:
    """Lines to skip before the header: ``#`` comments and Excel's ``sep=;`` line.

    Returns the number of lines, the delimiter a ``sep=`` line names, and a note.
    """
    skipped, delimiter = 0, None
    position = 0
    while position < len(text):
        end = text.find("\n", position)
        line = text[position : len(text) if end < 0 else end].strip()
        if line.startswith("#"):
            skipped += 1
        elif re.fullmatch(r"sep=.", line, re.IGNORECASE) and skipped == 0 and delimiter is None:
            delimiter = line[4]
            skipped += 1
        else:
            break
        if end < 0:
            break
        position = end + 1
    if not skipped:
        return 0, None, None
    what = f"{skipped} line(s) before the header were skipped"
    if delimiter:
        what += f" (an Excel 'sep={delimiter}' line says the delimiter)"
    return skipped, delimiter, what


def check_width(path: Path, columns: int) -> None:
    """Refuse a table wider than `MAX_COLUMNS`, before any of its rows is read."""
    if columns > MAX_COLUMNS:
        raise CatalogError(
            f"{path}: has {columns:,} columns, more than the {MAX_COLUMNS:,} SoundAtlas reads "
            "(a track table has tens). Keep only the columns of tracks and try again."
        )


def _header(path: Path, text: str, delimiter: str) -> tuple[list[str], int]:
    """Column names as written (blank ones named) and how many lines the header spans."""
    with _long_fields(), _parsing(path, delimiter):
        reader = csv.reader(_lines(text), delimiter=delimiter)
        first = next(reader, None)
        lines = reader.line_num
    check_width(path, len(first or ()))
    if not first or not any(cell.strip() for cell in first):
        raise CatalogError(
            f"{path}: the first line is blank; the first line must be a header naming the columns."
        )
    return [cell.strip() or f"unnamed_{position}" for position, cell in enumerate(first, 1)], lines


def _if_renamed(written: list[str], names: list[str]) -> tuple[str, ...]:
    """The names as written, kept only where a repeat was numbered."""
    return tuple(written) if written != names else ()


def unique_names(written: list[str]) -> list[str]:
    """Column names with repeats numbered (``energy``, ``energy.1``), so each names one column."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for name in written:
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _read_delimited(path: Path, text: str, encoding: str, notes: tuple[str, ...]) -> RawTable:
    skipped, named_delimiter, note = _preamble(text)
    if skipped:
        text = text.split("\n", skipped)[-1] if text.count("\n") >= skipped else ""
        notes = (*notes, note)
    first_line = text[: _nth_newline(text, 1)]
    widest = max(DELIMITERS, key=first_line.count)
    if first_line.count(widest) >= MAX_COLUMNS:
        # Refused before the sniffer splits the header (unquoted, it has as many fields as
        # delimiters and one; quoted, the csv module counts them).
        if '"' not in first_line:
            check_width(path, first_line.count(widest) + 1)
        _header(path, text, widest)
    head = text[:SNIFF_BYTES]
    if "\n" not in head[: SNIFF_BYTES - 1] or head.count("\n") < 3:
        # A very wide header: make sure the sample holds a few whole lines.
        head = text[: max(SNIFF_BYTES, _nth_newline(text, 3) + 1)]
    delimiter = named_delimiter or sniff_delimiter(head)
    written, header_lines = _header(path, text, delimiter)
    names = unique_names(written)
    header_end = _nth_newline(text, header_lines)
    if header_end >= len(text) or _NON_BLANK.search(text, header_end + 1) is None:
        raise CatalogError(
            f"{path}: has a header but no rows of tracks. Export the tracks too and try again."
        )
    table, ragged = _parse_records(path, text.encode("utf-8"), names, header_lines, delimiter)
    if table.num_rows == 0 and ragged:
        first = ragged[0]
        raise CatalogError(
            f"{path}: none of its {len(ragged):,} rows has the header's {first.expected} fields "
            f"when split at each {_DELIMITER_NAMES[delimiter]} (the first has {first.found}). "
            "Check the delimiter, and quote cells that contain it."
        )
    if table.num_rows == 0:
        raise CatalogError(
            f"{path}: has a header but no rows of tracks. Export the tracks too and try again."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
    physical_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if physical_lines == len(frame) + len(ragged) + header_lines:
        # One record per line: pyarrow's record numbers are line numbers.
        skipped_lines = [r.line for r in ragged if r.line is not None]
        lines = _line_numbers(len(frame), skipped_lines, first=header_lines + 1)
    else:
        # Blank lines or cells spanning lines: find where each record starts.
        lines, ragged = _record_start_lines(path, text, delimiter, len(names), len(frame), ragged)
    if skipped:
        lines = lines + skipped
        ragged = [
            RaggedRow(None if r.line is None else r.line + skipped, r.expected, r.found, r.text)
            for r in ragged
        ]
    return RawTable(
        frame, lines, "csv", encoding, delimiter, tuple(ragged), notes, _if_renamed(written, names)
    )


_NON_BLANK = re.compile(r"\S")

MAX_ROW_BYTES = 64 << 20
"""Longest row read (64 MiB, quoted line breaks included). The parser reads the file in blocks
and a row must fit in one, so a longer row is refused with this limit named."""


def _parse_records(
    path: Path, data: bytes, names: list[str], header_lines: int, delimiter: str
) -> tuple[pa.Table, list[RaggedRow]]:
    """Every record of ``data`` as text cells, and the records whose field count differs from
    the header's. Blocks start at 1 MiB (or four header lines) and grow while a row does not fit
    in one, up to `MAX_ROW_BYTES`."""
    block = max(1 << 20, 4 * data.find(b"\n"))
    while True:
        ragged: list[RaggedRow] = []

        def on_invalid(row: pacsv.InvalidRow, ragged: list[RaggedRow] = ragged) -> str:
            if row.actual_columns > 1 or row.text.strip():
                ragged.append(
                    RaggedRow(row.number, row.expected_columns, row.actual_columns, row.text[:200])
                )
            return "skip"

        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(
                    column_names=names, skip_rows=header_lines, use_threads=False, block_size=block
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            return table, ragged
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):
                raise _unparsable(path, delimiter, exc) from exc
            if block >= MAX_ROW_BYTES:
                raise CatalogError(
                    f"{path}: a row is longer than {MAX_ROW_BYTES >> 20} MiB, the longest "
                    "SoundAtlas reads in one row, or a quote opened in a cell is never closed. "
                    'Close the quote (double any quote inside a cell: "") or shorten the row.'
                ) from exc
            block = min(4 * block, MAX_ROW_BYTES)


def _unparsable(path: Path, delimiter: str, exc: Exception) -> CatalogError:
    return CatalogError(
        f"{path}: cannot be parsed as {_DELIMITER_NAMES[delimiter]}-separated text "
        f"({str(exc)[:200]}). Check for an unclosed quote, or export the file again."
    )


@contextlib.contextmanager
def _parsing(path: Path, delimiter: str) -> Iterator[None]:
    """Python's csv module's errors as the same message as pyarrow's."""
    try:
        yield
    except csv.Error as exc:
        raise _unparsable(path, delimiter, exc) from exc


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` (newline kept), sliced one at a time as they are asked for: the
    header's reader needs a few lines, not a copy of the whole file."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _nth_newline(text: str, count: int) -> int:
    """Position of the ``count``-th newline of ``text`` (``len(text)`` if it has fewer)."""
    position = -1
    for _ in range(count):
        found = text.find("\n", position + 1)
        if found < 0:
            return len(text)
        position = found
    return position


def _record_start_lines(
    path: Path, text: str, delimiter: str, width: int, n_rows: int, ragged: list[RaggedRow]
) -> tuple[np.ndarray, list[RaggedRow]]:
    """The line each kept record starts on, and ragged records with their real lines.

    Also catches a quote that is opened and never closed: the records after it are swallowed
    into one cell, which would silently lose them. Falls back to record numbers if Python's
    csv module splits the file differently from pyarrow (or cannot split it).
    """
    kept: list[int] = []
    odd: list[int] = []
    start = 1
    with _long_fields(), contextlib.suppress(csv.Error):
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        for number, row in enumerate(reader):
            end = reader.line_num
            if number and row and not (len(row) == 1 and not row[0].strip()):
                (kept if len(row) == width else odd).append(start)
                if end - start >= 2:
                    _refuse_swallowed_rows(path, row, start, end, delimiter, width)
            start = end + 1
    if len(kept) != n_rows or len(odd) != len(ragged):
        return np.arange(2, n_rows + 2, dtype=np.int64), ragged
    fixed = [
        RaggedRow(line, r.expected, r.found, r.text) for line, r in zip(odd, ragged, strict=True)
    ]
    return np.asarray(kept, dtype=np.int64), fixed


def _refuse_swallowed_rows(
    path: Path, row: list[str], start: int, end: int, delimiter: str, width: int
) -> None:
    """A cell spanning lines that look like whole rows means an unclosed quote."""
    for cell in row:
        inner = cell.split("\n")[1:]
        rowlike = sum(1 for line in inner if line.count(delimiter) >= max(2, width - 2))
        if rowlike >= 2:
            raise CatalogError(
                f"{path}: line {start}: a quote opened in this row is never closed, so lines "
                f"{start}-{end} ({end - start + 1} lines) were read as one cell. Close the quote "
                'or double any quote inside a cell ("") and try again.'
            )


def _line_numbers(n_rows: int, skipped: list[int], *, first: int = 2) -> np.ndarray:
    """Line of each kept row when every record is one line from ``first`` on, given the
    lines skipped as ragged."""
    every_line = np.arange(first, first + n_rows + len(skipped), dtype=np.int64)
    return np.setdiff1d(every_line, np.asarray(skipped, dtype=np.int64))[:n_rows]


@dataclass(frozen=True)
class TextLayout:
    """How a delimited text file is laid out, read from its first bytes: what an engine that
    splits the file between workers needs to read every part the same way."""

    encoding: str
    delimiter: str
    headers: list[str]
    """Column names as the local reader names them (blank ones named, repeats numbered)."""
    header_lines: int
    preamble_lines: int
    preamble_delimiter: bool
    """Whether the preamble is Excel's ``sep=`` line (not a comment)."""
    notes: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    """The names as the header writes them, where a repeat was numbered in ``headers``."""


def text_layout(path: str | Path) -> TextLayout:
    """The encoding, delimiter and header of a delimited text file, from its first bytes.

    Raises
    ------
    CatalogError
        If the file is empty, binary, or has no header line.
    """
    path = Path(path)
    with path.open("rb") as handle:
        data = handle.read(SNIFF_BYTES)
    if not data.strip():
        raise CatalogError(
            f"{path}: the file is empty. Export your tracks with a header row and try again."
        )
    cut = data.rfind(b"\n")
    if 0 < cut < len(data) - 1:
        data = data[: cut + 1]  # whole lines only, so no character is cut in half
    text, encoding, notes = _decode(path, data)
    if "\x00" in text:
        raise _nul_bytes(path, text)
    skipped, named_delimiter, note = _preamble(text)
    if skipped:
        text = text.split("\n", skipped)[-1] if text.count("\n") >= skipped else ""
        notes = (*notes, note)
    delimiter = named_delimiter or sniff_delimiter(text)
    written, header_lines = _header(path, text, delimiter)
    headers = unique_names(written)
    return TextLayout(
        encoding,
        delimiter,
        headers,
        header_lines,
        skipped,
        named_delimiter is not None,
        notes,
        _if_renamed(written, headers),
    )
