"""Text cells a spreadsheet would run as formulas, made inert in every file the product writes.

Cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return get a leading ``'``
(OWASP ASVS 5.0 V1.2.10); numbers written as text, such as a loudness of ``-5.4``, are left
alone.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

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
