"""Text cells a spreadsheet would run as formulas, made inert in every file the product writes.

Cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return get a leading ``'``
(OWASP ASVS 5.0 V1.2.10); numbers written as text, such as a loudness of ``-5.4``, are left
alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from soundatlas.files import write_text_atomic

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
        if series.dtype == np.dtype(object) and series.head(100).map(is_list).any():
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
    if is_list(value):
        return [neutralise_cell(v) for v in value]
    return neutralise_cell(value)


def flatten_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists (artists, genres) become ``"a; b"`` text, for CSV."""
    out = frame.copy()
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if series.dtype == np.dtype(object) and series.map(is_list).any():
            out.isetitem(
                position,
                series.map(
                    lambda v: "; ".join(map(str, v)) if is_list(v) else v, na_action="ignore"
                ),
            )
    return out


def is_list(value: object) -> bool:
    """Whether a cell holds a list of values (artists, genres) rather than one value."""
    return isinstance(value, (list, tuple, np.ndarray))


def neutralise_json(value: object) -> object:
    """A JSON-ready value (dicts, lists, text, numbers) with every text, keys included, that
    could run as a formula neutralised: the one rule for every JSON file SoundAtlas writes
    (exports, playlists, artist profiles, genre lenses), as for CSV."""
    if isinstance(value, str):
        return neutralise_cell(value)
    if isinstance(value, dict):
        return {neutralise_cell(str(k)): neutralise_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [neutralise_json(v) for v in value]
    return value


def write_json(data: object, path: str | Path, *, raw: bool = False) -> Path:
    """Write JSON-ready ``data`` atomically, formula-like text neutralised unless ``raw``."""
    text = json.dumps(data if raw else neutralise_json(data), ensure_ascii=False, indent=1)
    return write_text_atomic(path, text)


def csv_text(frame: pd.DataFrame, *, header: bool = True) -> str:
    """``frame`` as CSV text (lists as ``"a; b"``), every CSV SoundAtlas writes. Lines end with
    CRLF (RFC 4180): the csv module quotes a cell holding a CR only when the line end has one,
    so a CR inside a name goes out quoted, as it came in."""
    return flatten_lists(frame).to_csv(index=False, na_rep="", header=header, lineterminator="\r\n")
