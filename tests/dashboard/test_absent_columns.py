"""A catalog without artist, genre, popularity or explicit columns: the dashboard says so once
and shows no control or count that needs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from soundatlas.discovery.save import save_atlas

FEATURES = ("danceability", "energy", "speechiness", "acousticness", "valence", "liveness")


@pytest.fixture(scope="module")
def hostile_atlas_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `app` fixture's atlas, for this module: titles and audio features only."""
    from soundatlas.atlas.build import build_atlas

    rng = np.random.default_rng(7)
    frame = pd.DataFrame({f: rng.uniform(0, 1, 300) for f in FEATURES})
    frame["name"] = [f"Song {i}" for i in range(300)]
    frame["instrumentalness"] = rng.uniform(0, 0.2, 300)
    frame["loudness"] = rng.uniform(-20, -3, 300)
    frame["tempo"] = rng.uniform(70, 170, 300)
    folder = tmp_path_factory.mktemp("bare")
    frame.to_csv(folder / "bare.csv", index=False)
    save_atlas(build_atlas(folder / "bare.csv"), folder / "atlas")
    return folder / "atlas"


def test_absent_columns_are_named_once_and_their_controls_hidden(app, text_of):
    at = app()
    sidebar = [c.value for c in at.sidebar.caption]
    note = (
        "This catalog has no artist, genre, popularity, duration, explicit columns: the "
        "filters that need them are hidden."
    )
    assert sidebar.count(note) == 1, sidebar
    assert text_of(at).count("no artist") == 1  # said once, in the sidebar
    keys = {w.key for w in [*at.text_input, *at.multiselect, *at.radio, *at.slider]}
    assert not {"artist", "genre", "explicit", "pop"} & keys
    labels = {m.label for m in at.metric}
    assert "Unique artists" not in labels and "Genres" not in labels
    assert {"Songs", "Active clusters"} <= labels
