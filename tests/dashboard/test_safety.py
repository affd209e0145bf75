"""Hostile song, artist and genre names appear as text on every page and run nothing."""

from __future__ import annotations

import re

import pytest
from dashboard.hostile import HOSTILE_ARTIST, HOSTILE_GENRE, HOSTILE_SONG

pytestmark = pytest.mark.realdata

PAGES = ("overview", "distribution", "features", "playlists", "search", "exports", "open_catalog")
RAW = re.compile(r"(?<!\\)<(img|script)|(?<!\\)\]\(javascript")


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
    )
    return [str(e.value) for kind in kinds for e in at.get(kind)]


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
    # The core reads list-like genre text, so the stored name lost its outer brackets.
    genre = next(o for o in at.multiselect(key="genre").options if "javascript" in o)
    assert genre in HOSTILE_GENRE
    at.multiselect(key="genre").select(genre).run()
    assert not at.exception
    assert at.metric[0].value == "1"
    for text in _markup(at):
        assert not RAW.search(text), text
