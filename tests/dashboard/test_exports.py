"""Export & reports: filtered songs as CSV/JSON (formula-safe), the one-click report."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
from dashboard.hostile import FORMULA_ARTIST, FORMULA_SONG, HOSTILE_SONG

from soundatlas.dashboard.downloads import csv_bytes, filtered_songs, json_bytes


def test_report_is_built_in_one_click_and_offered_as_html_and_markdown(app):
    at = app("exports")
    labels = [b.label for b in at.get("download_button")]
    assert labels[:2] == ["Download CSV", "Download JSON"]
    at.button(key="ex_build").click().run(timeout=180)
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Download report (HTML)" in labels and "Download report (Markdown)" in labels
    page, markdown = at.session_state["ex_report"][1:]
    page = page.decode()
    assert "data:image/png;base64," in page
    assert HOSTILE_SONG not in page and "<script" not in page
    assert "Mean ± standard deviation" in markdown.decode()


def test_filtered_songs_export_neutralises_formulas_but_keeps_numbers(hostile_atlas):
    atlas = hostile_atlas
    rows = np.arange(len(atlas.tracks))
    songs = pd.read_csv(io.BytesIO(csv_bytes(filtered_songs(atlas, rows))))
    assert "'" + FORMULA_SONG in songs["name"].tolist()
    assert any(str(a).startswith("'" + FORMULA_ARTIST) for a in songs["artists"])
    assert (songs["loudness"] < 0).any()
    assert songs["genres"].str.contains("; ").any()  # lists joined as text, as in `export`
    records = json.loads(json_bytes(filtered_songs(atlas, rows[:5])))
    assert len(records) == 5
    assert atlas.tracks["name"].isin([FORMULA_SONG]).any()  # the atlas itself is unchanged


def test_playlists_made_in_the_session_are_offered_for_download(app):
    at = app("playlists")
    at.button(key="FormSubmitter:pl_form-Generate playlist").click().run()
    at.switch_page("app_pages/exports.py").run()
    labels = [b.label for b in at.get("download_button")]
    assert any(label.startswith("Download 20 songs") for label in labels)


def test_filtered_report_matches_the_filters_it_was_built_for(app, hostile_atlas):
    at = app("exports", explicit="no")
    at.toggle(key="ex_report_filtered").set_value(True)
    at.button(key="ex_build").click().run(timeout=180)
    assert not at.exception
    page = at.session_state["ex_report"][1]
    clean = int((hostile_atlas.tracks["explicit"] == False).sum())  # noqa: E712
    assert f"{clean:,} of {len(hostile_atlas.tracks):,} songs (filtered)" in page.decode()
    assert "(filtered songs)" in page.decode()  # the charts say whose songs they draw
    assert "Download report (HTML)" in [b.label for b in at.get("download_button")]
    at.radio(key="explicit").set_value("yes").run()
    assert "Download report (HTML)" not in [b.label for b in at.get("download_button")]
    assert "build it again" in " ".join(c.value for c in at.caption)
