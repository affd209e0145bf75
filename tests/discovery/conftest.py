"""Small hand-made atlases the discovery tests share."""

from __future__ import annotations

import pandas as pd
import pytest

from soundatlas.atlas.build import build_atlas
from soundatlas.config import BuildConfig
from soundatlas.ingest.catalog import load_catalog


@pytest.fixture(scope="module")
def three_artists():
    """30 songs by three artists. Only loudness varies: t29 is far quieter than t00-t28, which
    puts all of them above the catalog mean, so their cosine similarity to each other is 1
    (and -1 to t29) and only the artist cap can bind. One title would run as a spreadsheet
    formula. Songs t00-t09 are "jazz", the others "rock"; every fourth song is explicit."""
    rows = []
    for i in range(30):
        rows.append(
            {
                "track_id": f"t{i:02d}",
                "name": '=HYPERLINK("http://x")' if i == 5 else f"Tune {i}",
                "artists": ["Ana", "Bo", "Cy"][i % 3],
                "genres": "jazz" if i < 10 else "rock",
                "danceability": 0.6,
                "energy": 0.5,
                "loudness": -60.0 if i == 29 else -7.0 + 0.1 * i,
                "speechiness": 0.05,
                "acousticness": 0.2,
                "instrumentalness": 0.0,
                "liveness": 0.1,
                "valence": 0.5,
                "tempo": 100.0,
                "popularity": i,
                "duration_ms": 200_000,
                "explicit": i % 4 == 0,
            }
        )
    frame = pd.DataFrame(rows)
    return build_atlas(load_catalog(frame), BuildConfig(methods=("kmeans",), k=2))
