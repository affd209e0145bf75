"""Files the dashboard hands out: the filtered songs as CSV or JSON (no Streamlit here).

Text cells a spreadsheet would run as a formula are neutralised (`soundatlas.exports`); the atlas
itself is never changed. Lists (artists, genres) become ``"a; b"`` in CSV and stay lists in JSON.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from soundatlas.atlas import Atlas
from soundatlas.exports import neutralise_formulas, track_table


def filtered_songs(atlas: Atlas, rows: np.ndarray) -> pd.DataFrame:
    """The clustered track table restricted to ``rows`` (positions)."""
    return track_table(atlas).iloc[rows].reset_index(drop=True)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV, formula-safe, lists joined with ``"; "``."""
    safe = neutralise_formulas(frame)
    for column in safe.columns:
        if safe[column].dtype == object and len(safe) and _has_lists(safe[column]):
            safe[column] = safe[column].map(
                lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else v
            )
    return safe.to_csv(index=False, na_rep="").encode("utf-8")


def json_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 JSON records, formula-safe."""
    safe = neutralise_formulas(frame)
    return safe.to_json(orient="records", force_ascii=False, indent=1).encode("utf-8")


def _has_lists(series: pd.Series) -> bool:
    head = series.head(50)
    return bool(head.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any())
