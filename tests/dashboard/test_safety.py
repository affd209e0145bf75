"""Hostile song, artist and genre names appear as text on every page and run nothing; error
messages that quote them (ambiguous seeds and artists, files that fail) are plain text too."""

from __future__ import annotations

import re

import pytest
from dashboard.hostile import (
    HOSTILE_ARTIST,
    HOSTILE_GENRE,
    HOSTILE_SONG,
    LINK_ARTISTS,
    LINK_SONG,
)

PAGES = ("overview", "distribution", "features", "playlists", "search", "exports", "open_catalog")
RAW = re.compile(r"(?<!\\)<(img|script)|(?<!\\)\]\((?:javascript|http)|(?<!\\)!\[")
"""Unescaped HTML tags, Markdown links to scripts or sites, Markdown images."""
SUBMIT = "FormSubmitter:pl_form-Generate playlist"


def _markup(at) -> list[str]:
    """Everything rendered as Markdown (where HTML or links could come alive)."""
    kinds = (
        "markdown",
        "caption",
        "title",
        "header",
        "subheader",
        "error",
        "warning",
        "info",
        "success",
        "toast",
    )
    return [str(e.value) for kind in kinds for e in at.get(kind)]


def _unescaped(text: str) -> str:
    """What Markdown shows for backslash-escaped text."""
    return re.sub(r"\\(.)", r"\1", text)


@pytest.mark.parametrize("page", PAGES)
def test_no_page_renders_user_text_as_markup(app, page):
    at = app(page, q="img")
    assert not at.get("html"), "no page may use st.html"
    for text in _markup(at):
        assert not RAW.search(text), text


def test_hostile_song_and_artist_show_as_plain_text_in_search(app):
    at = app("search", q="onerror")
    options = at.selectbox(key="se_song").options
    assert any(HOSTILE_SONG in option for option in options)
    at.selectbox(key="se_song").select_index(0).run()
    assert not at.exception
    for text in _markup(at):
        assert not RAW.search(text), text
    artist = app("search", q="script")
    names = artist.selectbox(key="se_artist").options
    assert HOSTILE_ARTIST in names
    artist.selectbox(key="se_artist").set_value(HOSTILE_ARTIST).run()
    assert not artist.exception
    assert any("\\<script\\>" in text for text in _markup(artist))


def test_hostile_genre_is_an_option_not_a_link(app):
    at = app()
    # The core reads list-like genre text; the name survives as one genre.
    genre = next(o for o in at.multiselect(key="genre").options if "javascript" in o)
    assert genre in HOSTILE_GENRE
    at.multiselect(key="genre").select(genre).run()
    assert not at.exception
    assert at.metric[0].value == "1"
    for text in _markup(at):
        assert not RAW.search(text), text


def test_an_ambiguous_seed_song_quotes_the_titles_as_plain_text(app):
    at = app("playlists")
    at.selectbox(key="pl_cluster").select_index(0)
    at.text_area(key="pl_seeds").input("javascript")
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    message = at.error[0].value
    assert "matches 3 different songs" in message
    assert LINK_SONG in _unescaped(message)  # quoted, and shown exactly as written
    assert not RAW.search(message), message
    options = at.selectbox(key="pl_pick_song").options  # the candidates, to pick one from
    assert len(options) == 3
    assert any(option.startswith(LINK_SONG) for option in options)  # plain text, as written


def test_an_ambiguous_seed_artist_quotes_the_names_as_plain_text(app):
    at = app("playlists")
    at.selectbox(key="pl_cluster").select_index(0)
    at.text_area(key="pl_seed_artists").input("javascript")
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    message = at.error[0].value
    assert "matches 2 artists" in message
    assert any(name in _unescaped(message) for name in LINK_ARTISTS)
    assert not RAW.search(message), message


def test_an_ambiguous_artist_profile_error_is_plain_text(hostile_atlas_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    def script(path: str) -> None:
        from soundatlas.atlas.model import load_atlas
        from soundatlas.dashboard.linked import show_artist

        show_artist(load_atlas(path), "javascript", "kmeans")

    at = AppTest.from_function(script, args=(str(hostile_atlas_path),), default_timeout=60)
    at.run()
    assert not at.exception
    message = at.error[0].value
    assert "matches 2 artists" in message and not RAW.search(message), message
    assert len(at.dataframe[0].value) == 2


def test_error_messages_keep_their_lines_and_lose_their_markup():
    from soundatlas.dashboard.text import plain_lines

    shown = plain_lines(f"first {LINK_SONG}\nsecond ![](http://tracker.invalid/p.png)")
    assert shown.count("  \n") == 1
    assert not RAW.search(shown)
    assert _unescaped(shown).replace("  \n", "\n").startswith("first " + LINK_SONG)


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("/srv/uploads/ab12/hits.csv: line 3 is ragged", "hits.csv: line 3 is ragged"),
        ("file '/tmp/x/y.csv' is empty", "file 'y.csv' is empty"),
        ("AC/DC 3/4 http://host/x", "AC/DC 3/4 http://host/x"),
    ],
)
def test_error_messages_name_files_without_the_servers_folders(message, shown):
    from soundatlas.dashboard.text import without_folders

    assert without_folders(message) == shown
