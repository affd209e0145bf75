"""A real catalog with hostile names, shared by the dashboard and browser tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from realdata import TOPHITS, shared_file

HOSTILE_SONG = "<img src=x onerror=alert(1)>"
HOSTILE_ARTIST = "<script>alert('artist')</script>"
HOSTILE_GENRE = "[click me](javascript:alert(1))"
FORMULA_SONG = '=HYPERLINK("http://example.invalid","x")'
FORMULA_ARTIST = "@SUM(A1:A9)"
APP = Path(__file__).resolve().parents[2] / "src" / "soundatlas" / "dashboard" / "app.py"


def hostile_catalog(target: Path, *, rows: int | None = None) -> Path:
    """The real chart-hits table (its first ``rows`` rows) with a few names an attacker might
    choose, written as CSV."""
    frame = pd.read_csv(shared_file(TOPHITS), dtype=str, keep_default_na=False)
    if rows is not None:
        frame = frame.head(rows).copy()
    frame.loc[0, "song"] = HOSTILE_SONG
    frame.loc[0, "artist"] = HOSTILE_ARTIST
    frame.loc[1, "genre"] = HOSTILE_GENRE
    frame.loc[2, "song"] = FORMULA_SONG
    frame.loc[2, "artist"] = FORMULA_ARTIST
    frame.to_csv(target, index=False)
    return target
