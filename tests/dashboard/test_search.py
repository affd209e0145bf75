"""Search & recommendations: search, pick a song for its 10 most similar, pick an artist."""

from __future__ import annotations

import re

import numpy as np
from dashboard.hostile import FILTERS, outside_filters

from soundatlas.discovery.index import discovery_index

WORD = "radio"
"""A word in many of the synthetic titles."""


def test_search_then_pick_a_song_shows_ten_similar_songs_with_reasons(app, text_of):
    at = app("search")
    at.text_input(key="q").input(WORD).run()
    assert not at.exception
    song = at.selectbox(key="se_song")
    assert len(song.options) > 1
    song.select_index(0).run()
    assert not at.exception
    similar = at.dataframe[0].value
    assert len(similar) == 10
    assert list(similar["rank"]) == list(range(1, 11))
    assert similar["similarity"].between(-1, 1).all()
    assert similar["similarity"].is_monotonic_decreasing
    assert similar["closest"].str.len().min() > 0 and similar["differs"].str.len().min() > 0
    assert "10 most similar songs" in text_of(at)


def test_similar_songs_by_sound_or_by_sound_and_context(app, text_of, hostile_atlas):
    from soundatlas.discovery import similar_tracks

    at = app("search")
    at.text_input(key="q").input(WORD).run()
    at.selectbox(key="se_song").select_index(0).run()
    picked = int(at.selectbox(key="se_song").value)
    assert at.radio(key="se_by").value == "sound+context"
    with_context = at.dataframe[0].value
    expected = similar_tracks(hostile_atlas, picked, n=10, similarity="sound+context")
    assert list(with_context["name"]) == list(expected["name"])
    assert "with a bonus for shared genres" in text_of(at)
    at.radio(key="se_by").set_value("sound").run()
    assert not at.exception
    by_sound = at.dataframe[0].value
    expected = similar_tracks(hostile_atlas, picked, n=10, similarity="sound")
    assert list(by_sound["name"]) == list(expected["name"])
    assert "Similarity is the cosine of the songs' scaled audio features" in text_of(at)


def test_results_page_and_say_how_many(app, text_of, hostile_atlas):
    from soundatlas.discovery import search

    total = search(hostile_atlas, WORD).total_songs
    assert total > 50
    at = app("search")
    at.text_input(key="q").input(WORD).run()
    assert f"1-50 of {total} songs" in text_of(at).replace("\\", "")
    assert at.tabs[0].label == f"Songs ({total:,})"
    at.number_input(key="se_page").set_value(2).run()
    assert not at.exception
    assert f"51-{total} of {total} songs" in text_of(at).replace("\\", "")
    assert (
        at.selectbox(key="se_song")
        .options[0]
        .startswith(search(hostile_atlas, WORD, limit=50, offset=50).songs["name"].iat[0])
    )
    at.text_input(key="q").input("savage").run()  # a new search starts on its first page
    assert not at.exception
    assert re.search(r"(?<![\d,])1-\d+ of \d+ songs", text_of(at).replace("\\", ""))


def test_a_typo_says_did_you_mean(app, text_of):
    at = app("search")
    at.text_input(key="q").input("savage brohters").run()
    assert not at.exception
    assert "Did you mean Demo Artist · The Savage Brothers?" in at.info[0].value.replace("\\", "")


def test_similar_songs_respect_the_sidebar_filters(app, hostile_atlas):
    at = app("search", **FILTERS)
    at.text_input(key="q").input(WORD).run()
    at.selectbox(key="se_song").select_index(0).run()
    # By sound alone: context (popularity among it) would keep even unfiltered neighbours
    # inside these popularity limits, and the check below must fail for some list.
    at.radio(key="se_by").set_value("sound").run()
    assert not at.exception
    similar = at.dataframe[0].value
    assert len(similar) == 10
    assert outside_filters(hostile_atlas, similar) == []
    # Without the filters the same song's similar songs include some outside them, so the
    # check above is not true of any list.
    at.toggle(key="se_filtered").set_value(False).run()
    unfiltered = at.dataframe[0].value
    assert outside_filters(hostile_atlas, unfiltered) != []


def test_pick_an_artist_shows_their_profile(app, text_of, hostile_atlas):
    busiest = hostile_atlas.tracks["artists"].explode().value_counts()
    name, count = str(busiest.index[0]), int(busiest.iloc[0])
    at = app("search", q=name.split("·")[-1].strip())
    artist = at.selectbox(key="se_artist")
    assert name in artist.options
    artist.set_value(name).run()
    assert not at.exception
    assert at.metric[0].label == "Songs" and int(at.metric[0].value) == count
    assert "Most popular songs" in text_of(at)
    assert len(at.get("plotly_chart")) == 2


def test_nothing_found_says_so(app, text_of):
    at = app("search", q="zzzqqqxxx no such song")
    assert "No song matches" in text_of(at)
    assert "No artist matches" in text_of(at)


def test_search_lists_each_recording_once_with_its_releases(app, hostile_atlas):
    index = discovery_index(hostile_atlas)
    row = int(np.flatnonzero(index.releases[index.recording] > 1)[0])
    title = str(hostile_atlas.tracks["name"].iat[row])
    at = app("search", q=title)
    songs = at.dataframe[0].value
    listed = songs[songs["name"] == title]
    assert len(listed) == 1
    assert listed["releases"].iat[0] == index.releases[index.recording[row]] > 1
    assert {"releases", "other_titles"} <= set(songs)


def labels_start(selectbox, name: str) -> bool:
    return str(selectbox.format_func(selectbox.value)).startswith(name)
