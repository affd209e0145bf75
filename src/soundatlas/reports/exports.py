"""Tables users take away: their own file with our columns, or the clustered track table.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) are prefixed with ``'`` in CSV and JSON exports (OWASP's advice);
numbers such as a loudness of ``-5.4`` are left alone. The atlas itself is never changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from soundatlas.atlas.model import PCA_COLUMNS, Atlas
from soundatlas.clustering.result import LABEL_COLUMNS, PERSONA_COLUMNS
from soundatlas.config import EXPORT_FORMATS
from soundatlas.errors import ConfigError
from soundatlas.files import atomic_path
from soundatlas.formulas import csv_text, neutralise_formulas, write_json
from soundatlas.ingest.catalog import INTERNAL_COLUMNS, TRACK_COLUMN, TRACK_LINE_COLUMN


def seed_table(atlas: Atlas) -> pd.DataFrame:
    """Every input row with its original columns unchanged, plus each method's ``cluster*``
    and ``persona*`` columns (blank for rows left out of clustering)."""
    original = atlas.original
    return _with_clusters(original, original[TRACK_COLUMN].to_numpy(), atlas.tracks, atlas.methods)


def _with_clusters(
    original: pd.DataFrame, track: np.ndarray, tracks: pd.DataFrame, methods: Iterable[str]
) -> pd.DataFrame:
    """The user's columns of ``original`` plus the clusters and personas of the track each row
    stands for (``track``: its row in ``tracks``, -1 for rows left out)."""
    methods = list(methods)
    mine = [c for c in original.columns if c not in INTERNAL_COLUMNS]
    out = original[mine].copy()
    kept = track >= 0
    for method in methods:
        labels = tracks[LABEL_COLUMNS[method]].to_numpy()
        values = pd.array(np.zeros(len(out), dtype=np.int64), dtype="Int64")
        values[kept] = labels[track[kept]]
        values[~kept] = pd.NA
        out[_free_name(out, LABEL_COLUMNS[method])] = values
    for method in methods:
        names = tracks[PERSONA_COLUMNS[method]].astype(object).to_numpy()
        column = np.full(len(out), None, dtype=object)
        column[kept] = names[track[kept]]
        out[_free_name(out, PERSONA_COLUMNS[method])] = column
    return out


def _free_name(frame: pd.DataFrame, name: str) -> str:
    """``name``, or ``name_soundatlas`` if the user's file already has a column of that name."""
    return name if name not in frame.columns else f"{name}_soundatlas"


def track_table(atlas: Atlas) -> pd.DataFrame:
    """The clustered track table: canonical columns, labels, personas, PCA coordinates."""
    return _track_columns(atlas.tracks)


_POSITION_COLUMNS = ("source_row", "source_line")
"""Where a track came from in the original rows: kept in the atlas, not exported."""


def _track_columns(tracks: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in tracks.columns if c not in _POSITION_COLUMNS]
    ordered = [c for c in columns if c not in PCA_COLUMNS] + [
        c for c in PCA_COLUMNS if c in columns
    ]
    return tracks[ordered]


def write_table(
    frame: pd.DataFrame, path: str | Path, file_format: str, *, raw: bool = False
) -> Path:
    """Write a table as CSV, Parquet or JSON, atomically.

    Parameters
    ----------
    raw
        Keep text cells exactly as they are, even ones a spreadsheet would run as a formula.
    """
    if file_format not in ("csv", "parquet", "json"):
        raise ConfigError(f"format '{file_format}': use csv, parquet or json.")
    path = Path(path)
    if file_format == "json":
        return write_json(_json_ready(frame), path, raw=raw)
    with atomic_path(path) as temporary:
        if file_format == "csv":
            out = frame if raw else neutralise_formulas(frame)
            temporary.write_text(csv_text(out), encoding="utf-8", newline="")
        else:
            frame.to_parquet(temporary, index=False)
    return path


def export_atlas(
    atlas: Atlas, path: str | Path, file_format: str = "seed-csv", *, raw: bool = False
) -> Path:
    """Export an atlas: ``seed-csv`` (the user's rows plus our columns) or the track table as
    ``csv``, ``parquet`` or ``json``.

    An atlas written as Parquet parts (the spark engine's) is exported part by part, batch by
    batch, so every song is exported without loading them all.
    """
    if file_format not in EXPORT_FORMATS:
        raise ConfigError(f"format '{file_format}': use one of {', '.join(EXPORT_FORMATS)}.")
    if atlas.manifest.get("parts"):
        return _export_parts(atlas, Path(path), file_format, raw=raw)
    if file_format == "seed-csv":
        return write_table(seed_table(atlas), path, "csv", raw=raw)
    return write_table(track_table(atlas), path, file_format, raw=raw)


EXPORT_BATCH = 65_536
"""Rows read, converted and written at a time when exporting Parquet parts."""


def _export_parts(atlas: Atlas, path: Path, file_format: str, *, raw: bool) -> Path:
    folder = Path(atlas.manifest["path"])
    parts = atlas.manifest["parts"]
    if file_format == "seed-csv":
        lookup = _track_lookup(folder, parts["tracks"], atlas.methods)
        lines = pd.Index(lookup.pop("source_line").to_numpy())

        def convert(batch: pd.DataFrame) -> pd.DataFrame:
            track_line = batch[TRACK_LINE_COLUMN].to_numpy(dtype=np.float64, na_value=np.nan)
            track = np.full(len(batch), -1, dtype=np.int64)
            known = ~np.isnan(track_line)
            track[known] = lines.get_indexer(track_line[known].astype(np.int64))
            return _with_clusters(batch, track, lookup, atlas.methods)

        names, target_format = parts["original"], "csv"
    else:
        names, target_format, convert = parts["tracks"], file_format, _track_columns
    if target_format == "parquet":
        return _copy_parquet_parts(folder, names, path)
    with atomic_path(path) as temporary, _BatchWriter(temporary, target_format) as writer:
        for name in names:
            for batch in pq.ParquetFile(folder / name).iter_batches(EXPORT_BATCH):
                frame = convert(batch.to_pandas())
                writer.write(frame if raw else neutralise_formulas(frame))
    return path


def _copy_parquet_parts(folder: Path, names: list[str], path: Path) -> Path:
    """The track parts as one Parquet file, batch by batch, in the track table's column order."""
    schema = pq.read_schema(folder / names[0])
    columns = list(_track_columns(schema.empty_table().to_pandas()).columns)
    with atomic_path(path) as temporary, temporary.open("wb") as handle:
        writer = pq.ParquetWriter(handle, schema.empty_table().select(columns).schema)
        try:
            for name in names:
                for batch in pq.ParquetFile(folder / name).iter_batches(
                    EXPORT_BATCH, columns=columns
                ):
                    writer.write_batch(batch)
        finally:
            writer.close()
    return path


def _track_lookup(folder: Path, names: list[str], methods: Iterable[str]) -> pd.DataFrame:
    """Every track's source line, clusters and personas (the few columns a seed export needs)."""
    columns = ["source_line"]
    for method in methods:
        columns += [LABEL_COLUMNS[method], PERSONA_COLUMNS[method]]
    tables = [pq.read_table(folder / name, columns=columns) for name in names]
    return pa.concat_tables(tables).to_pandas()


class _BatchWriter:
    """Appends frames to one CSV or JSON file (a JSON array of records)."""

    def __init__(self, target: Path, file_format: str) -> None:
        self.file_format = file_format
        self.handle = target.open("wb")
        self.rows = 0

    def __enter__(self) -> _BatchWriter:
        if self.file_format == "json":
            self.handle.write(b"[")
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if self.file_format == "csv":
            text = csv_text(frame, header=self.rows == 0)
            self.handle.write(text.encode("utf-8"))
        else:
            records = frame.to_json(orient="records", force_ascii=False, date_format="iso")
            if records != "[]":
                self.handle.write((b"," if self.rows else b"") + records[1:-1].encode("utf-8"))
        self.rows += len(frame)

    def __exit__(self, *exc: object) -> None:
        if self.file_format == "json":
            self.handle.write(b"]")
        self.handle.close()


def _json_ready(frame: pd.DataFrame) -> list[dict]:
    text = frame.to_json(orient="records", force_ascii=False, date_format="iso")
    return json.loads(text)
