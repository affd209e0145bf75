"""No table in the dashboard shows "None", "nan" or "<NA>": a value that does not apply or is not
known (a song without genres too) shows "—", and the header of its column says why (the tooltip
Streamlit shows on hover).

The atlas here is the hostile catalog with metadata missing on some songs (`gaps_catalog`), so
popularity, release years, genres and explicit flags are missing where real tables miss them;
DBSCAN and Ward have no stability score.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from dashboard.hostile import gaps_catalog

from soundatlas.dashboard.ui import MISSING
from soundatlas.discovery.save import save_atlas

LITERALS = {"None", "none", "nan", "NaN", "<NA>", "NaT", "null"}
PAGES = ("overview", "distribution", "features", "playlists", "search", "exports", "open_catalog")


@pytest.fixture(scope="module")
def hostile_atlas_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `app` fixture's atlas, for this module: the hostile catalog with metadata gaps."""
    from soundatlas.atlas.build import build_atlas

    folder = tmp_path_factory.mktemp("gaps")
    save_atlas(build_atlas(gaps_catalog(folder / "gaps.csv")), folder / "atlas")
    return folder / "atlas"


@pytest.fixture(scope="module")
def gap_song(hostile_atlas_path: Path) -> pd.Series:
    """A song with no popularity, release year or genres, and the name of its artist."""
    from soundatlas.atlas.model import load_atlas

    tracks = load_atlas(hostile_atlas_path).tracks
    song = tracks[tracks["popularity"].isna() & tracks["release_year"].isna()].iloc[0]
    assert len(song["genres"]) == 0
    return song


def check_tables(at, seen: set[str]) -> None:
    """Every table of the run shows missing values as `MISSING`, no cell is a missing value
    written out as text, and each column with a missing value says why in its help; the
    columns with missing values are added to ``seen``."""
    assert not at.exception, [e.value for e in at.exception]
    for table in at.dataframe:
        frame = table.value
        assert table.proto.placeholder == MISSING
        config = json.loads(table.proto.columns or "{}")
        for column in frame.columns:
            cells = frame[column]
            written = cells[cells.notna()].map(lambda v: str(v).strip())
            assert not written.isin(LITERALS | {"[]", ""}).any(), (column, written.tolist())
            if cells.isna().any():
                help_text = (config.get(column) or {}).get("help") or ""
                assert MISSING in help_text, (column, config.get(column))
                seen.add(str(column))


def test_every_page_and_method(app) -> None:
    seen: set[str] = set()
    for method in ("kmeans", "dbscan", "hierarchical"):
        for page in PAGES:
            check_tables(app(page, method=method), seen)
    assert {"silhouette", "davies_bouldin", "stability_ari"} <= seen


def test_search_similar_songs_and_artist_profile(app, gap_song) -> None:
    seen: set[str] = set()
    at = app("search", q=gap_song["name"])
    check_tables(at, seen)
    assert "popularity" in seen
    at.selectbox(key="se_song").select_index(0).run()
    assert at.get("subheader")[0].value.endswith("most similar songs")
    check_tables(at, seen)
    at = app("search", q=gap_song["artists"][0])
    at.selectbox(key="se_artist").select_index(0).run()
    check_tables(at, seen)
    assert {"release_year", "genres"} <= seen


def test_playlist(app) -> None:
    seen: set[str] = set()
    at = app("playlists")
    at.button[0].click().run()
    assert at.button[0].label == "Generate playlist"
    check_tables(at, seen)
    assert len(at.dataframe) >= 1
