"""Writing a demo catalog to a CSV or Parquet file, chunk by chunk and atomically.

Chunks are streamed through Arrow's writers, so a catalog of 10,000,000 songs is written with
bounded memory, into a temporary file that replaces the destination only once it is complete
(:func:`soundatlas.files.atomic_path`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from soundatlas.demo.generator import check_song_count, empty_frame, iter_catalog_chunks
from soundatlas.errors import ConfigError, OutputError
from soundatlas.files import atomic_path, fsync_folder

#: File types write_catalog can produce, chosen by the path's suffix (none: a folder of parts).
_SUFFIXES = (".csv", ".parquet")
#: Songs per Parquet part when the catalog is written as a folder of parts.
PART_SONGS = 500_000


class _TableWriter(Protocol):
    """What write_catalog needs of Arrow's CSV and Parquet writers."""

    def write_table(self, table: pa.Table) -> None: ...

    def close(self) -> None: ...


def _arrow_table(chunk: pd.DataFrame, schema: pa.Schema | None) -> pa.Table:
    """A chunk as an Arrow table; release_date becomes text ("1922", "2016-07-15")."""
    frame = chunk.assign(release_date=chunk["release_date"].astype(str))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table if schema is None else table.cast(schema)


def _open_writer(handle: BinaryIO, suffix: str, schema: pa.Schema) -> _TableWriter:
    """Streaming CSV or Parquet writer on an open binary file."""
    if suffix == ".parquet":
        return pq.ParquetWriter(handle, schema)
    # Arrow's CSV writer is ~7x faster than DataFrame.to_csv; it quotes every text value,
    # which any CSV reader parses to the same table.
    return pa_csv.CSVWriter(
        handle, schema, write_options=pa_csv.WriteOptions(quoting_style="needed")
    )


def _write_chunks(
    handle: BinaryIO, suffix: str, chunks: Iterator[pd.DataFrame], report: Callable[[int], None]
) -> None:
    """Write the chunks to an open binary file as CSV or Parquet, one after the other."""
    writer: _TableWriter | None = None
    schema: pa.Schema | None = None
    try:
        for chunk in chunks:
            table = _arrow_table(chunk, schema)
            if writer is None:
                schema = table.schema
                writer = _open_writer(handle, suffix, schema)
            writer.write_table(table)
            report(len(chunk))
    finally:
        if writer is not None:
            writer.close()


def write_catalog(
    path: str | os.PathLike[str],
    n_songs: int,
    *,
    random_state: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Generate a demo catalog and write it to ``path`` atomically, chunk by chunk.

    The file type follows the suffix: ``.csv`` (UTF-8, header, no index; ``release_date`` years
    and dates as written by pandas) or ``.parquet`` (``release_date`` as text). The catalog is
    written to a temporary file in the same folder, fsynced, then renamed over ``path``
    (:func:`soundatlas.files.atomic_path`), so readers never see a half-written catalog and an
    error or interruption leaves any old file intact and no temporary file behind.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its folder is created if missing.
    n_songs : int
        Number of songs; see :func:`generate_catalog`.
    random_state : int, default 0
        Seed; the file holds exactly ``generate_catalog(n_songs, random_state=random_state)``.
    progress : callable, optional
        Called as ``progress(done, total)`` with song counts: once with ``done=0`` and after
        each chunk, so a CLI can draw a progress bar.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ConfigError
        If the suffix is neither ``.csv`` nor ``.parquet`` or ``n_songs`` is invalid.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if not suffix:
        return _write_parts(target, check_song_count(n_songs), random_state, progress)
    if suffix not in _SUFFIXES:
        raise ConfigError(
            f"{target}: the demo catalog can be written as .csv or .parquet, or as a folder of "
            f"Parquet parts (a path without suffix), not {suffix!r}."
        )
    n_songs = check_song_count(n_songs)
    chunks = iter_catalog_chunks(n_songs, random_state=random_state)
    if n_songs == 0:
        chunks = iter([empty_frame()])
    done = 0

    def report(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done, n_songs)

    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        report(0)
        _write_chunks(handle, suffix, chunks, report)
    return target


def _write_parts(
    target: Path, n_songs: int, random_state: int, progress: Callable[[int, int], None] | None
) -> Path:
    """The catalog as ``part-00000.parquet``, … of `PART_SONGS` songs each in the folder
    ``target`` (what Spark users keep their tables as), swapped in once every part is written."""
    if target.exists() and (
        not target.is_dir() or any(not p.name.startswith("part-") for p in target.iterdir())
    ):
        raise OutputError(
            f"{target}: exists and is not a folder of catalog parts; choose another path so "
            "nothing of yours is overwritten."
        )
    temporary = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        temporary.mkdir(parents=True)
        done = 0
        if progress is not None:
            progress(0, n_songs)
        chunks = iter_catalog_chunks(n_songs, chunk_size=PART_SONGS, random_state=random_state)
        for number, chunk in enumerate(chunks):
            with (temporary / f"part-{number:05d}.parquet").open("wb") as handle:
                _write_chunks(handle, ".parquet", iter([chunk]), lambda rows: None)
                handle.flush()
                os.fsync(handle.fileno())
            done += len(chunk)
            if progress is not None:
                progress(done, n_songs)
        fsync_folder(temporary)
        if target.exists():
            shutil.rmtree(target)
        os.replace(temporary, target)
        fsync_folder(target.parent)
    except OSError as exc:
        raise OutputError(
            f"{target}: cannot be written ({exc.strerror}). Choose another location."
        ) from exc
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return target
