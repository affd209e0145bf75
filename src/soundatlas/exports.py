"""Tables users take away: their own file with our columns, or the clustered track table.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) are prefixed with ``'`` in CSV and JSON exports (OWASP's advice);
numbers such as a loudness of ``-5.4`` are left alone. The atlas itself is never changed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from soundatlas.atlas import PCA_COLUMNS, Atlas
from soundatlas.catalog import LINE_COLUMN, STATUS_COLUMN, TRACK_COLUMN
from soundatlas.clustering.result import LABEL_COLUMNS, PERSONA_COLUMNS
from soundatlas.errors import ConfigError
from soundatlas.files import atomic_path

EXPORT_FORMATS: tuple[str, ...] = ("seed-csv", "csv", "parquet", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^\s*[-+]?(\d+[.,]?\d*|[.,]\d+)([eE][-+]?\d+)?\s*$")
"""A number as text, with a decimal point or (European exports) a decimal comma."""
_FORMULA_PATTERN = "^[" + re.escape("".join(_FORMULA_START)) + "]"


def neutralise_cell(value: object) -> object:
    """``'=cmd'`` -> ``"'=cmd"``; numbers, and text that cannot start a formula, unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as spreadsheet formulas.

    Only the risky cells are touched (found with vectorised string matching), so this stays
    fast on a million rows.
    """
    out = frame.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = [neutralise_cell(c) for c in series.cat.categories]
            if len(set(categories)) == len(categories):
                out.isetitem(position, series.cat.rename_categories(categories))
            else:
                out.isetitem(position, series.astype(object).map(neutralise_cell))
            continue
        if series.dtype == np.dtype(object) and series.head(100).map(_is_list).any():
            out.isetitem(position, series.map(_neutralise_nested, na_action="ignore"))
            continue
        text = series.astype("string")
        risky = (text.str.match(_FORMULA_PATTERN) & ~text.str.match(_NUMBER.pattern)).fillna(False)
        if risky.any():
            fixed = series.astype(object).copy()
            fixed[risky.to_numpy()] = ("'" + text[risky]).to_numpy()
            out.isetitem(position, fixed)
    return out


def _neutralise_nested(value: object) -> object:
    if _is_list(value):
        return [neutralise_cell(v) for v in value]
    return neutralise_cell(value)


def flatten_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists (artists, genres) become ``"a; b"`` text, for CSV."""
    out = frame.copy()
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if series.dtype == np.dtype(object) and series.map(_is_list).any():
            out.isetitem(
                position,
                series.map(
                    lambda v: "; ".join(map(str, v)) if _is_list(v) else v, na_action="ignore"
                ),
            )
    return out


def seed_table(atlas: Atlas) -> pd.DataFrame:
    """Every input row with its original columns unchanged, plus each method's ``cluster*``
    and ``persona*`` columns (blank for rows left out of clustering)."""
    original = atlas.original
    mine = [c for c in original.columns if c not in (LINE_COLUMN, TRACK_COLUMN, STATUS_COLUMN)]
    out = original[mine].copy()
    track = original[TRACK_COLUMN].to_numpy()
    kept = track >= 0
    for method in atlas.methods:
        labels = atlas.tracks[LABEL_COLUMNS[method]].to_numpy()
        values = pd.array(np.zeros(len(out), dtype=np.int64), dtype="Int64")
        values[kept] = labels[track[kept]]
        values[~kept] = pd.NA
        out[_free_name(out, LABEL_COLUMNS[method])] = values
    for method in atlas.methods:
        names = atlas.tracks[PERSONA_COLUMNS[method]].astype(object).to_numpy()
        column = np.full(len(out), None, dtype=object)
        column[kept] = names[track[kept]]
        out[_free_name(out, PERSONA_COLUMNS[method])] = column
    return out


def _free_name(frame: pd.DataFrame, name: str) -> str:
    """``name``, or ``name_soundatlas`` if the user's file already has a column of that name."""
    return name if name not in frame.columns else f"{name}_soundatlas"


def track_table(atlas: Atlas) -> pd.DataFrame:
    """The clustered track table: canonical columns, labels, personas, PCA coordinates."""
    columns = [c for c in atlas.tracks.columns if c != "source_row"]
    ordered = [c for c in columns if c not in PCA_COLUMNS] + [
        c for c in PCA_COLUMNS if c in columns
    ]
    return atlas.tracks[ordered]


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
    if file_format != "parquet" and not raw:
        frame = neutralise_formulas(frame)
    with atomic_path(path) as temporary:
        if file_format == "csv":
            flatten_lists(frame).to_csv(temporary, index=False, na_rep="")
        elif file_format == "parquet":
            frame.to_parquet(temporary, index=False)
        else:
            records = _json_ready(frame)
            temporary.write_text(
                json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8"
            )
    return path


def export_atlas(
    atlas: Atlas, path: str | Path, file_format: str = "seed-csv", *, raw: bool = False
) -> Path:
    """Export an atlas: ``seed-csv`` (the user's rows plus our columns) or the track table as
    ``csv``, ``parquet`` or ``json``."""
    if file_format not in EXPORT_FORMATS:
        raise ConfigError(f"format '{file_format}': use one of {', '.join(EXPORT_FORMATS)}.")
    if file_format == "seed-csv":
        return write_table(seed_table(atlas), path, "csv", raw=raw)
    return write_table(track_table(atlas), path, file_format, raw=raw)


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _json_ready(frame: pd.DataFrame) -> list[dict]:
    text = frame.to_json(orient="records", force_ascii=False, date_format="iso")
    return json.loads(text)
