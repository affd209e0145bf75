"""Files the dashboard hands out: the filtered songs as CSV or JSON (no Streamlit here).

Text cells a spreadsheet would run as a formula are neutralised and lists (artists, genres)
become ``"a; b"`` in CSV, both by `soundatlas.formulas` (the rules of ``soundatlas export``);
lists stay lists in JSON. The atlas itself is never changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from soundatlas.atlas.model import Atlas
from soundatlas.formulas import csv_text, neutralise_formulas
from soundatlas.reports.exports import track_table


def filtered_songs(atlas: Atlas, rows: np.ndarray) -> pd.DataFrame:
    """The clustered track table restricted to ``rows`` (positions)."""
    return track_table(atlas).iloc[rows].reset_index(drop=True)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV, formula-safe, lists joined with ``"; "``."""
    return csv_text(neutralise_formulas(frame)).encode("utf-8")


def json_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 JSON records, formula-safe."""
    safe = neutralise_formulas(frame)
    return safe.to_json(orient="records", force_ascii=False, indent=1).encode("utf-8")
