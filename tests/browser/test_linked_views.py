"""Linked views in Chromium at 1440×900 and 390×844: a click on a song — in the playlist, the
search results, a song's similar songs, an artist's songs, a card's own similar songs, or on the
PCA map — opens that song's card, and the card lists THAT song's most similar songs (checked
against the library). A box on the PCA map narrows the charts above it.

Streamlit draws tables on a canvas and keeps an accessible copy of the rows drawn as an HTML
table; the tests read the rows from it and click a row's selection box on the canvas.
"""

from __future__ import annotations

import re

import pytest

from soundatlas.atlas.model import load_atlas
from soundatlas.discovery import similar_tracks

pytestmark = pytest.mark.browser
ROW = 35
"""Height of a table's header and of each of its rows (px)."""
SELECT_X = 18
"""Where a row's selection box is, from the table's left edge (px)."""
ROWS_JS = """e => [...e.querySelectorAll('table tr')].map(
    r => [...r.children].map(c => c.textContent))"""


@pytest.fixture(scope="module")
def atlas(browser_atlas):
    return load_atlas(browser_atlas)


def _rows(grid) -> list[dict[str, str]]:
    """The rows a table has drawn, by column name."""
    header, *rows = grid.evaluate(ROWS_JS)
    return [dict(zip(header, row, strict=False)) for row in rows]


def _click_row(tab, grid, position: int) -> str:
    """Click the selection box of row ``position`` of a table; returns the song's name."""
    grid.scroll_into_view_if_needed()
    tab.settle()
    name = _rows(grid)[position]["name"]
    grid.click(position={"x": SELECT_X, "y": ROW * (position + 1) + ROW // 2})
    tab.settle()
    return name


def _table(page, key: str):
    """The song table ``key`` (its widget key is ``key_<digest of its rows>``)."""
    grid = page.locator(f'[class*="st-key-{key}_"] [data-testid="stDataFrame"]').first
    grid.wait_for(timeout=60_000)
    return grid


def _card(tab, atlas, key: str, name: str):
    """The card of the view ``key``: it names the song ``name`` and lists that song's most
    similar songs, as the library finds them. Returns the card."""
    card = tab.page.locator(f".st-key-card_{key}")
    card.wait_for(timeout=60_000)
    tab.settle()
    title = card.locator('[data-testid="stMarkdown"]').first.inner_text().strip()
    assert title.startswith(f"{name} — "), (title, name)
    artists = title[len(name) + 3 :]
    tracks = atlas.tracks
    rows = [
        r
        for r in range(len(tracks))
        if tracks["name"].iat[r] == name and ", ".join(tracks["artists"].iat[r]) == artists
    ]
    assert rows, title
    grid = card.locator('[data-testid="stDataFrame"]').first
    shown = [row["name"] for row in _rows(grid)]
    assert len(shown) >= 5, shown
    expected = [similar_tracks(atlas, r, n=10)["name"].tolist()[: len(shown)] for r in rows]
    assert shown in expected, (name, shown, expected)
    card.get_by_text(f"Artist: {tracks['artists'].iat[rows[0]][0]}").wait_for()
    return card


def test_a_playlist_song_opens_its_similar_songs_and_a_card_song_its_own(checked_tab, atlas):
    page = checked_tab.open("/playlists")
    page.get_by_role("button", name="Generate playlist").click()
    page.get_by_role("button", name="Download playlist (CSV)").wait_for(timeout=60_000)
    name = _click_row(checked_tab, _table(page, "pl_table"), 2)
    card = _card(checked_tab, atlas, "pl_table", name)
    checked_tab.shot("linked-playlist")
    # A song of the card opens its own card in the same place.
    inner = card.locator('[data-testid="stDataFrame"]').first
    other = _click_row(checked_tab, inner, 3)
    assert other != name
    _card(checked_tab, atlas, "pl_table", other)
    checked_tab.shot("linked-playlist-card-song")
    assert checked_tab.fits_width()


def test_a_search_result_opens_its_similar_songs(checked_tab, atlas):
    page = checked_tab.open("/search?q=radio")
    name = _click_row(checked_tab, _table(page, "se_table"), 1)
    _card(checked_tab, atlas, "se_table", name)
    checked_tab.shot("linked-search")
    assert checked_tab.fits_width()


def test_a_similar_song_of_the_picked_song_opens_its_similar_songs(checked_tab, atlas):
    page = checked_tab.open("/search?q=radio")
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Pick a song")
    picker.wait_for()
    checked_tab.settle()
    picker.click()
    page.get_by_role("option").first.click()
    page.get_by_text(re.compile(r"\d+ most similar songs")).wait_for(timeout=60_000)
    name = _click_row(checked_tab, _table(page, "se_similar"), 1)
    _card(checked_tab, atlas, "se_similar", name)
    checked_tab.shot("linked-similar")
    assert checked_tab.fits_width()


def test_an_artist_song_opens_its_similar_songs(checked_tab, atlas):
    artist = str(atlas.tracks["artists"].iat[20][0])
    page = checked_tab.open("/search?q=" + artist.split(" · ")[-1].replace(" ", "+"))
    page.get_by_role("tab", name=re.compile("^Artists")).click()
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Pick an artist")
    picker.wait_for()
    checked_tab.settle()
    picker.click()
    page.get_by_role("option", name=artist).click()
    page.get_by_text("Most popular songs").wait_for(timeout=60_000)
    name = _click_row(checked_tab, _table(page, "se_profile_songs"), 0)
    _card(checked_tab, atlas, "se_profile_songs", name)
    checked_tab.shot("linked-artist")
    assert checked_tab.fits_width()


POINT_JS = """box => {
    const gd = box.querySelector('.js-plotly-plot');
    const layout = gd._fullLayout;
    let best = null;
    for (const trace of gd._fullData) {
        for (let i = 0; i < trace.x.length; i++) {
            const far = Math.abs(trace.x[i]) + Math.abs(trace.y[i]);
            if (!best || far > best.far) best = {far, x: trace.x[i], y: trace.y[i],
                                                 row: trace.customdata[i]};
        }
    }
    const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
    return {x: r.left + layout.xaxis.l2p(best.x), y: r.top + layout.yaxis.l2p(best.y),
            row: best.row};
}"""
"""Where on the page the song farthest from the map's centre is drawn (alone there, so a click
on it picks it), and its row."""


def _map(page):
    chart = page.locator(".st-key-fx_pca")
    chart.locator(".nsewdrag").first.wait_for(timeout=60_000)
    return chart


def test_a_song_clicked_on_the_map_opens_its_similar_songs(checked_tab, atlas):
    page = checked_tab.open("/features")
    chart = _map(page)
    chart.scroll_into_view_if_needed()
    checked_tab.settle()
    point = chart.evaluate(POINT_JS)
    # Plotly picks the song under the pointer from its hover: hover first, as a hand would.
    page.mouse.move(point["x"] - 30, point["y"] - 30)
    page.mouse.move(point["x"], point["y"], steps=5)
    chart.locator(".hoverlayer .hovertext").first.wait_for()
    page.mouse.click(point["x"], point["y"])
    _card(checked_tab, atlas, "fx_pca", str(atlas.tracks["name"].iat[int(point["row"])]))
    checked_tab.shot("linked-map-click")


def test_a_box_on_the_map_narrows_the_charts_above(checked_tab):
    page = checked_tab.open("/features")
    chart = _map(page)
    page.get_by_text("Drag a box", exact=True).click()
    checked_tab.settle()
    chart.scroll_into_view_if_needed()
    checked_tab.settle()
    area = chart.locator(".nsewdrag").first.bounding_box()
    left, top = area["x"] + area["width"] * 0.3, area["y"] + area["height"] * 0.3
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move(left + area["width"] * 0.2, top + area["height"] * 0.2, steps=8)
    page.mouse.move(left + area["width"] * 0.4, top + area["height"] * 0.4, steps=8)
    page.mouse.up()
    narrowed = page.get_by_text(re.compile(r"Charts show the [\d,]+ songs selected on the map"))
    narrowed.wait_for(timeout=60_000)
    checked_tab.settle()
    checked_tab.shot("linked-map-box")


def test_an_ambiguous_seed_is_picked_from_a_list(checked_tab, atlas):
    page = checked_tab.open("/playlists")
    seeds = page.get_by_label(re.compile("^Seed songs"))
    seeds.fill("radio")
    page.get_by_role("button", name="Generate playlist").click()
    page.get_by_text("pick the one you mean").wait_for(timeout=60_000)
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Seed song")
    picker.wait_for()
    checked_tab.settle()
    picker.click()
    # A tap can focus the box without opening its list (near the bottom of a phone's screen);
    # the arrow key opens it, as on a keyboard.
    page.keyboard.press("ArrowDown")
    page.get_by_role("option").nth(1).click()
    checked_tab.settle()
    page.get_by_role("button", name="Use this song").click()
    checked_tab.settle()
    chosen = seeds.input_value()
    assert chosen in set(atlas.tracks["track_id"].astype(str)), chosen
    checked_tab.shot("linked-seed-picked")
    page.get_by_role("button", name="Generate playlist").click()
    page.get_by_role("button", name="Download playlist (CSV)").wait_for(timeout=60_000)
    assert not page.locator('[data-testid="stAlertContentError"]').count()
    assert checked_tab.fits_width()
