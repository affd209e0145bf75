"""A small synthetic catalog with hostile names, shared by the dashboard and browser tests.

The songs come from `soundatlas.demo.generate_catalog` (fixed size and seed, no files needed), so
these tests run on a fresh clone; a few rows are added with names an attacker might choose, and
one exact duplicate row so the ingestion report has something to say. Tests about real data
use `realdata` instead.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SONGS = 1_500
"""Synthetic songs before the hostile rows are added."""
SEED = 0
HOSTILE_SONG = "<img src=x onerror=alert(1)>"
HOSTILE_ARTIST = "<script>alert('artist')</script>"
HOSTILE_GENRE = "[click me](javascript:alert(1))"
FORMULA_SONG = '=HYPERLINK("http://example.invalid","x")'
FORMULA_ARTIST = "@SUM(A1:A9)"
LINK_SONG = "[x](javascript:alert(1))"
"""A title that is a Markdown link; two songs carry it, so a seed naming it is ambiguous."""
TRACKER_SONG = "![](http://tracker.invalid/pixel.png)"
"""A title that is a Markdown image (a tracking pixel if rendered)."""
LINK_ARTISTS = ("The [Band](javascript:alert('a'))", "![Trio](javascript:alert('b'))")
"""Two artists whose names are Markdown links; both contain 'javascript'."""
APP = Path(__file__).resolve().parents[2] / "src" / "soundatlas" / "dashboard" / "app.py"


def hostile_frame(songs: int = SONGS, *, seed: int = SEED) -> pd.DataFrame:
    """``songs`` synthetic demo songs plus the hostile rows and one duplicate, as text."""
    from soundatlas.demo import generate_catalog

    frame = generate_catalog(songs, random_state=seed).astype(str)
    extra = frame.iloc[[0, 1, 2, 3, 4, 5]].copy()
    changes = [
        {"name_song": HOSTILE_SONG, "name_artists": HOSTILE_ARTIST},
        {"genres": repr([HOSTILE_GENRE])},
        {"name_song": FORMULA_SONG, "name_artists": FORMULA_ARTIST},
        {"name_song": LINK_SONG, "name_artists": LINK_ARTISTS[0]},
        {"name_song": LINK_SONG, "name_artists": LINK_ARTISTS[1]},
        {"name_song": TRACKER_SONG, "name_artists": LINK_ARTISTS[1]},
    ]
    for position, change in enumerate(changes):
        for column, value in change.items():
            extra.iloc[position, extra.columns.get_loc(column)] = value
        extra.iloc[position, extra.columns.get_loc("id_songs")] = f"hostile{position:016d}"
        extra.iloc[position, extra.columns.get_loc("id_artists")] = f"hostileartist{position:09d}"
    duplicate = frame.iloc[[7]]
    return pd.concat([frame, extra, duplicate], ignore_index=True)


def hostile_catalog(target: Path, *, songs: int = SONGS, seed: int = SEED) -> Path:
    """`hostile_frame` written as CSV at ``target``."""
    hostile_frame(songs, seed=seed).to_csv(target, index=False)
    return target


def gaps_catalog(target: Path, *, songs: int = 300, seed: int = SEED) -> Path:
    """`hostile_frame` with metadata missing where real tables miss it: no popularity for every
    7th song, no release date for every 5th, no genres for every 11th, no explicit flag for
    every 13th (the audio features are all there, so every song is clustered). Written as CSV
    at ``target``."""
    frame = hostile_frame(songs, seed=seed)
    for column, every, blank in (
        ("popularity_songs", 7, ""),
        ("release_date", 5, ""),
        ("genres", 11, "[]"),
        ("explicit", 13, ""),
    ):
        frame.loc[frame.index % every == 0, column] = blank
    frame.to_csv(target, index=False)
    return target


FILTERS = {"explicit": "no", "pop": ["40", "100"], "energy": ["0.5", "1"]}
"""Sidebar filters (as URL values) that leave out about two songs in three."""


def outside_filters(atlas, shown) -> list[str]:
    """The songs of ``shown`` (name and artists, as a dashboard table shows them) that are not
    inside `FILTERS`; a song matches every atlas row with its name and artists."""
    tracks = atlas.tracks
    keys = tracks["name"] + " — " + tracks["artists"].map(", ".join)
    inside = (
        ~tracks["explicit"].astype(bool)
        & tracks["popularity"].between(40, 100)
        & tracks["energy"].between(0.5, 1.0)
    )
    outside = []
    for song in shown["name"] + " — " + shown["artists"].map(artists_text):
        matches = inside[keys == song]
        if matches.empty or not matches.all():
            outside.append(song)
    return outside


def artists_text(cell) -> str:
    """A shown ``artists`` cell (a list or its text) as 'a, b'."""
    return cell if isinstance(cell, str) else ", ".join(cell)
