"""Parse the cell formats real track tables use: name lists, flags, years and numbers.

Each parser works on a whole column and parses every distinct text once, because real catalogs
repeat the same genre list or year on thousands of rows.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_QUOTED = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""")
_NO_VALUE = {"", "[]", "set()", "{}", "()", "none", "null", "nan", "n/a", "na", "-"}
_TRUE = {"1", "1.0", "true", "t", "yes", "y"}
_FALSE = {"0", "0.0", "false", "f", "no", "n"}
_YEAR = re.compile(r"(?<!\d)(1[0-9]\d\d|20\d\d|2100)(?!\d)")
_COMPACT_DATE = re.compile(r"^\s*(1[0-9]\d\d|20\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\s*$")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")


def _per_distinct(series: pd.Series, parse) -> pd.Series:
    """Apply ``parse`` once per distinct cell and spread the results back to every row."""
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    parsed = [parse(value) for value in uniques]
    parsed.append(parse(None))
    table = np.empty(len(parsed), dtype=object)
    table[:] = parsed
    return pd.Series(table[codes], index=series.index, dtype=object)


def split_names(cell: object, *, split_commas: bool) -> list[str]:
    """Names in one cell: a Python/JSON list literal, a delimited string, or a single name.

    ``split_commas`` is for genre cells (``"hip hop, pop"``); artist names keep their commas
    (``"Tyler, The Creator"``) and split only on semicolons.
    """
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    if isinstance(cell, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in cell if str(v).strip()]
    text = str(cell).strip()
    if text.lower() in _NO_VALUE:
        return []
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1].strip()
    if text[0] in "[({" or text.startswith("set("):
        names = [
            (single if single is not None and single != "" else double).replace("\\'", "'")
            for single, double in _QUOTED.findall(text)
        ]
        names = [n.strip() for n in names if n.strip()]
        if names:
            return _unique(names)
        text = text.strip("[](){}").removeprefix("set(").strip()
        if not text:
            return []
    pattern = r"[;|,]" if split_commas else r"[;|]"
    parts = (part.strip().strip("'\"").strip() for part in re.split(pattern, text))
    return _unique(part for part in parts if part and part.lower() not in _NO_VALUE)


def _unique(names) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name, None)
    return list(seen)


def parse_name_lists(series: pd.Series, *, split_commas: bool, lower: bool = False) -> pd.Series:
    """Column of name cells -> column of ``list[str]``; empty, ``[]`` and ``set()`` give ``[]``."""

    def parse(cell: object) -> list[str]:
        names = split_names(cell, split_commas=split_commas)
        return _unique(n.lower() for n in names) if lower else names

    return _per_distinct(series, parse)


def parse_flags(series: pd.Series) -> pd.Series:
    """0/1/true/false/yes/no in any case -> nullable boolean; anything else -> missing."""

    def parse(cell: object) -> object:
        if cell is None or isinstance(cell, bool):
            return cell
        text = str(cell).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        return None

    return _per_distinct(series, parse).astype("boolean")


def parse_years(series: pd.Series) -> pd.Series:
    """A year, a full date or a year-month -> the year as a nullable integer."""
    if pd.api.types.is_numeric_dtype(series):
        numbers = pd.to_numeric(series, errors="coerce")
        return numbers.where((numbers >= 1000) & (numbers <= 2100)).round().astype("Int64")

    def parse(cell: object) -> object:
        if cell is None:
            return None
        if hasattr(cell, "year"):
            return int(cell.year)
        text = str(cell)
        match = _COMPACT_DATE.match(text) or _YEAR.search(text)
        return int(match.group(1)) if match else None

    return _per_distinct(series, parse).astype("Int64")


def uses_decimal_comma(series: pd.Series, *, comma_is_free: bool) -> bool:
    """Whether a text column writes decimals with a comma (``0,563``), as European exports do.

    ``comma_is_free``: the file does not use commas between cells (semicolon-, tab- or
    pipe-separated), so a single ``0,5`` is enough; otherwise most cells must look like it.
    """
    if pd.api.types.is_numeric_dtype(series):
        return False
    text = series.dropna().astype("string")
    if comma_is_free:
        return bool(text.str.match(_DECIMAL_COMMA).fillna(False).any())
    sample = text[text.str.strip() != ""].head(1000)
    if sample.empty:
        return False
    return float(sample.str.match(_DECIMAL_COMMA).mean()) > 0.5


def to_numbers(series: pd.Series, *, decimal_comma: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse a column to float64.

    Returns
    -------
    values, not_numeric
        The parsed numbers (NaN where empty or unparseable) and a mask of the cells that held
        text that is not a number (as opposed to being empty).
    """
    if pd.api.types.is_bool_dtype(series):
        values = series.astype("float64")
        return values, pd.Series(False, index=series.index)
    if pd.api.types.is_numeric_dtype(series):
        values = pd.to_numeric(series, errors="coerce").astype("float64")
        return values, pd.Series(False, index=series.index)
    text = series.astype("string").str.strip()
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    empty = text.isna() | text.str.lower().isin(["", "nan", "null", "none", "na", "n/a"])
    not_numeric = values.isna() & ~empty
    return values, not_numeric.fillna(False).astype(bool)
