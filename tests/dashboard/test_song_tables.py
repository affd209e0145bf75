"""Linked views: a click on a song in any song table opens its card — that song's most similar
songs and its artist — and a click on a song of the card opens that song's card."""

from __future__ import annotations

import numpy as np
from dashboard.test_playlists import SUBMIT

from soundatlas.dashboard.linked import table_key
from soundatlas.discovery import artist_profile, search, similar_tracks

WORD = "radio"
"""A word in many of the synthetic titles."""


def _click(at, key: str, rows, position: int) -> int:
    """What the browser sends when row ``position`` of the song table ``key`` (showing the
    songs at ``rows``) is clicked; runs the page and returns the song's atlas row."""
    rows = np.asarray(rows, dtype=np.int64)
    at.session_state[table_key(key, rows)] = {"selection": {"rows": [position], "columns": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return int(rows[position])


def _similar_names(atlas, row: int) -> list[str]:
    return similar_tracks(atlas, row, n=10)["name"].astype(str).tolist()


def _shows_card_of(at, atlas, row: int) -> bool:
    """The page shows the card of the song at ``row``: its similar songs and its artist."""
    wanted = _similar_names(atlas, row)
    tables = [t.value for t in at.dataframe]
    similar = any(
        {"similarity", "name"} <= set(t) and t["name"].astype(str).tolist() == wanted
        for t in tables
    )
    artist = str(atlas.tracks["artists"].iat[row][0])
    return similar and any(e.label == f"Artist: {artist}" for e in at.expander)


def _plain_song(atlas, rows, start: int = 0) -> int:
    """Position in ``rows`` of the first song (from ``start``) that is not one of the hostile
    rows (whose names the page shows escaped) and has an artist."""
    for position in range(start, len(rows)):
        song = atlas.tracks.iloc[int(rows[position])]
        if not str(song["track_id"]).startswith("hostile") and song["artists"] is not None:
            return position
    raise AssertionError("no plain song in the table")


def test_a_search_result_opens_its_card(app, hostile_atlas):
    at = app("search")
    at.text_input(key="q").input(WORD).run()
    rows = search(hostile_atlas, WORD, limit=50).songs["row"].to_numpy()
    position = _plain_song(hostile_atlas, rows, 2)
    row = _click(at, "se_table", rows, position)
    assert _shows_card_of(at, hostile_atlas, row)


def test_a_song_of_the_card_opens_its_own_card(app, hostile_atlas):
    at = app("search")
    at.text_input(key="q").input(WORD).run()
    rows = search(hostile_atlas, WORD, limit=50).songs["row"].to_numpy()
    first = _click(at, "se_table", rows, _plain_song(hostile_atlas, rows))
    similar = similar_tracks(hostile_atlas, first, n=10)["row"].to_numpy()
    second = _click(at, "se_table_similar", similar, _plain_song(hostile_atlas, similar, 3))
    assert second != first
    assert _shows_card_of(at, hostile_atlas, second)
    assert not _shows_card_of(at, hostile_atlas, first)


def test_a_similar_song_of_the_picked_song_opens_its_card(app, hostile_atlas):
    at = app("search")
    at.text_input(key="q").input(WORD).run()
    at.selectbox(key="se_song").select_index(0).run()
    picked = int(at.selectbox(key="se_song").value)
    by = at.radio(key="se_by").value
    similar = similar_tracks(hostile_atlas, picked, n=10, similarity=by)["row"].to_numpy()
    row = _click(at, "se_similar", similar, _plain_song(hostile_atlas, similar, 1))
    assert _shows_card_of(at, hostile_atlas, row)


def test_a_song_of_an_artist_profile_opens_its_card(app, hostile_atlas):
    artist = str(hostile_atlas.tracks["artists"].iat[20][0])
    at = app("search")
    at.text_input(key="q").input(artist).run()
    at.selectbox(key="se_artist").set_value(artist).run()
    assert not at.exception
    top = artist_profile(hostile_atlas, artist).top_songs["row"].to_numpy()
    row = _click(at, "se_profile_songs", top, 0)
    assert _shows_card_of(at, hostile_atlas, row)


def test_a_playlist_song_opens_its_card(app, hostile_atlas):
    at = app("playlists")
    at.slider(key="pl_threshold").set_value(0.75)
    at.button(key=SUBMIT).click().run()
    rows = at.session_state["pl_result"][1].tracks["row"].to_numpy()
    position = _plain_song(hostile_atlas, rows, 4)
    row = _click(at, "pl_table", rows, position)
    assert _shows_card_of(at, hostile_atlas, row)


def test_clearing_the_selection_closes_the_card(app, hostile_atlas):
    at = app("playlists")
    at.button(key=SUBMIT).click().run()
    rows = at.session_state["pl_result"][1].tracks["row"].to_numpy()
    row = _click(at, "pl_table", rows, _plain_song(hostile_atlas, rows))
    assert _shows_card_of(at, hostile_atlas, row)
    at.session_state[table_key("pl_table", rows)] = {"selection": {"rows": [], "columns": []}}
    at.run()
    assert not _shows_card_of(at, hostile_atlas, row)
    assert not any(e.label.startswith("Artist: ") for e in at.expander)


def test_new_rows_start_with_nothing_selected():
    rows = np.arange(10)
    assert table_key("pl_table", rows) == table_key("pl_table", rows.copy())
    assert table_key("pl_table", rows) != table_key("pl_table", rows[::-1])
    assert table_key("pl_table", rows).startswith("pl_table_")
