"""Browser journeys at 1280×800 and 390×844: load, filter, playlist + download, search + similar
songs, the dendrogram, open a catalog, export the report. Screenshots go to
$SOUNDATLAS_SCREENSHOTS, else pytest's temporary folder.

No fixed sleeps: each step waits for what it expects to see, then for the app to be idle
(`Tab.settle`)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from dashboard.hostile import HOSTILE_SONG

pytestmark = pytest.mark.browser
COUNT = re.compile(r"([\d,]+) of ([\d,]+) songs")


def _count(page) -> tuple[int, int]:
    text = page.locator('[data-testid="stSidebar"]').inner_text()
    found = COUNT.search(text)
    assert found, text
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


def _open_sidebar(tab) -> None:
    if tab.device != "phone":
        return
    tab.page.locator(
        '[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button'
    ).first.click()
    tab.page.locator('[data-testid="stSidebar"]').wait_for(state="visible")


def test_load_shows_overview(tab):
    page = tab.open("/")
    page.get_by_text("The three methods compared").wait_for()
    page.get_by_text("What was dropped at ingestion").wait_for()
    page.locator('[data-testid="stMetric"]').nth(3).wait_for()
    assert page.locator('[data-testid="stMetric"]').count() == 4
    assert not page.locator('[data-testid="stException"]').count()
    tab.shot("overview")
    assert tab.fits_width()


def test_filter_lives_in_the_url(tab):
    page = tab.open("/?explicit=no&pop=50&pop=100")
    page.get_by_text("The three methods compared").wait_for()
    shown, total = _count(page)
    assert 0 < shown < total
    _open_sidebar(tab)
    page.locator('[data-testid="stSidebar"] [data-testid="stRadio"] label').filter(
        has_text="yes"
    ).click()
    page.wait_for_function("() => location.search.includes('explicit=yes')")
    tab.settle()
    tab.shot("filtered")
    url = page.url
    page.goto(url)
    page.get_by_text("The three methods compared").wait_for()
    assert "explicit=yes" in page.url and "pop=50" in page.url
    again, _ = _count(page)
    assert again < total
    assert tab.fits_width()


def test_playlist_and_download(tab):
    page = tab.open("/playlists")
    page.get_by_role("button", name="Generate playlist").click()
    download_button = page.get_by_role("button", name="Download playlist (CSV)")
    download_button.wait_for(timeout=60_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    tab.shot("playlist")
    with page.expect_download() as download:
        download_button.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    header = text.splitlines()[0]
    assert "name" in header and "similarity" in header
    assert len(text.splitlines()) >= 2
    assert tab.fits_width()


def _pick_first_song(tab, text: str | None = None) -> None:
    """Open the song picker and choose a song (the first, or the first showing ``text``)."""
    page = tab.page
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Pick a song")
    picker.wait_for()
    tab.settle()  # the run that drew it is over: the list will not be redrawn under the click
    picker.click()
    options = page.get_by_role("option")
    if text is not None:
        options = options.filter(has_text=text)
    options.first.wait_for()
    options.first.click()


def test_search_and_similar_songs(tab):
    page = tab.open("/search?q=radio")
    _pick_first_song(tab)
    page.get_by_text(re.compile(r"\d+ most similar songs")).wait_for(timeout=60_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    tab.shot("similar")
    assert tab.fits_width()


def test_hostile_song_name_is_text_and_runs_nothing(tab):
    page = tab.open("/search?q=onerror")
    _pick_first_song(tab, HOSTILE_SONG)
    page.get_by_text(re.compile(r"\d+ most similar songs")).wait_for(timeout=60_000)
    assert page.locator('img[src="x"]').count() == 0
    tab.open("/features")
    page.locator('[data-testid="stPlotlyChart"]').nth(3).locator(".main-svg").first.wait_for()
    tab.settle()
    assert page.locator('img[src="x"]').count() == 0
    assert tab.dialogs == []
    tab.shot("features")
    assert tab.fits_width()


def test_export_report(tab):
    page = tab.open("/exports")
    page.get_by_role("button", name="Build the report").click()
    page.get_by_text("The report is ready.").wait_for(timeout=120_000)
    tab.shot("exports")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download report (HTML)").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert report.startswith("<!doctype html>") and "data:image/png;base64," in report
    assert HOSTILE_SONG not in report
    assert tab.fits_width()


def test_filters_that_match_nothing_offer_a_way_out(tab):
    page = tab.open("/?pop=99&pop=100&energy=0&energy=0.01")
    page.get_by_text("No songs match these filters").wait_for()
    tab.shot("no-match")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("button", name="Reset filters").click()
    page.get_by_text("The three methods compared").wait_for()
    shown, total = _count(page)
    assert shown == total
    assert tab.fits_width()


def test_the_view_survives_moving_between_sections(tab):
    page = tab.open("/?explicit=no")
    page.get_by_text("The three methods compared").wait_for()
    _open_sidebar(tab)
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Audio features").click()
    page.get_by_text("Map of the songs (PCA)").wait_for()
    page.wait_for_function(
        "() => location.pathname.endsWith('/features') && location.search.includes('explicit=no')",
        timeout=10_000,
    )
    shown, total = _count(page)
    assert shown < total


def test_audio_features_with_the_dendrogram(tab):
    page = tab.open("/features?method=hierarchical")
    page.get_by_text("Dendrogram (hierarchical)").wait_for()
    tree = page.locator('[data-testid="stPlotlyChart"]').nth(4)
    tree.locator(".main-svg").first.wait_for()
    page.get_by_text("how many songs it holds").wait_for()
    tab.settle()
    assert not page.locator('[data-testid="stException"]').count()
    tab.shot("features-hierarchical")
    assert tab.fits_width()


def test_open_a_catalog_page(tab):
    page = tab.open("/open_catalog")
    page.get_by_text("Upload your catalog").wait_for()
    page.get_by_text("private to this browser session").wait_for()
    assert not page.locator('[data-testid="stException"]').count()
    tab.shot("open-catalog")
    assert tab.fits_width()


def test_no_request_leaves_the_server(tab):
    """Every section loads from the dashboard's own server: nothing is fetched from elsewhere
    (a page icon named ':material/…:' made Streamlit fetch it from fonts.gstatic.com)."""
    elsewhere: list[str] = []
    server = urlparse(tab.base_url).netloc
    tab.page.on(
        "request",
        lambda request: (
            elsewhere.append(request.url)
            if urlparse(request.url).scheme in ("http", "https")
            and urlparse(request.url).netloc != server
            else None
        ),
    )
    for path in ("/", "/distribution", "/features", "/playlists", "/search", "/exports"):
        tab.open(path + "?method=hierarchical")
    assert elsewhere == []
