"""Where the shared real track tables are, for tests that need them."""

from __future__ import annotations

import os
from pathlib import Path

from required import skip_unless_required

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SOUNDATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
GENRES_11K = "tracks_11k_genres.csv"
TOPHITS = "tophits_2k.csv"
SEED_SAMPLE = "seed_schema_sample.csv"
SHARED_FILES = (GENRES_11K, TOPHITS, SEED_SAMPLE)


def shared_file(name: str) -> Path:
    """Path of a shared real table; skips when the folder is absent (fails if CI requires it)."""
    path = SHARED_DATA / name
    if not path.is_file():
        skip_unless_required(
            "SOUNDATLAS_REQUIRE_DATA",
            f"real track table {path} not found (the shared data folder is absent)",
        )
    return path
