"""One visitor's upload is never visible to another: two browser contexts (two visitors, sharing
no cookies or storage) on one server. Visitor A uploads a catalog and builds its atlas; visitor B
neither finds it in the atlas picker nor opens it from A's link, nor finds its songs, while the
atlas is on the server's disk and A still sees it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser.driving import settle

pytestmark = pytest.mark.browser
PRIVATE_SONG = "Only In Session A"
PRIVATE_FILE = "private-mixtape.csv"
SONGS = 120
DESKTOP = {"width": 1280, "height": 800}


def _private_catalog(folder: Path) -> Path:
    from soundatlas.demo import generate_catalog

    frame = generate_catalog(SONGS, random_state=7)
    frame.loc[0, "name_song"] = PRIVATE_SONG
    path = folder / PRIVATE_FILE
    frame.to_csv(path, index=False)
    return path


def _songs_shown(page) -> int:
    text = page.locator('[data-testid="stSidebar"]').inner_text()
    found = re.search(r"([\d,]+) of ([\d,]+) songs", text)
    assert found, text
    return int(found[2].replace(",", ""))


def _go(page, section: str, path: str) -> None:
    """Open a section from the sidebar, as a visitor does (loading a URL instead would start a
    new session, which by design no longer sees the uploads of the old one), and wait until
    its title is drawn and the run is over."""
    if urlparse(page.url).path != path:
        page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=section).first.click()
        page.wait_for_url(lambda url: urlparse(url).path == path)
    page.locator('[data-testid="stMain"] h1').filter(has_text=section).wait_for()
    settle(page)


def _atlas_labels(page) -> list[str]:
    """The labels the "Atlas" picker of Open a catalog offers."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    _go(page, "Open a catalog", "/open_catalog")
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Atlas")
    options = page.get_by_role("option")
    for _ in range(3):  # a click landing as the picker is redrawn does not open it: again
        picker.get_by_role("combobox").click()
        try:
            options.first.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            settle(page)
    labels = options.all_inner_texts()
    page.keyboard.press("Escape")
    return labels


def _finds(page, text: str) -> bool:
    """Whether the Search page finds a song titled ``text`` in the session's atlas (as typed,
    not the closest name search offers when nothing matches)."""
    _go(page, "Search & recommendations", "/search")
    box = page.get_by_label("Search songs and artists")
    box.fill(text)
    box.press("Enter")
    page.get_by_role("tab").filter(has_text="Songs").wait_for()
    settle(page)
    if page.get_by_text("Did you mean").count():
        return False  # nothing matched as typed: the results are another name's
    return not page.get_by_role("tab").filter(has_text="Songs").inner_text().endswith("(0)")


def test_an_upload_is_private_to_its_session(chromium, server, tmp_path) -> None:
    catalog = _private_catalog(tmp_path)
    first = chromium.new_context(viewport=DESKTOP)
    second = chromium.new_context(viewport=DESKTOP)
    try:
        a, b = first.new_page(), second.new_page()
        a.set_default_timeout(60_000)
        b.set_default_timeout(60_000)
        b.goto(server + "/")
        b.get_by_text("The three methods compared").wait_for()
        startup_songs = _songs_shown(b)

        a.goto(server + "/open_catalog")
        a.get_by_text("Upload your catalog").wait_for()
        settle(a)
        a.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(catalog)
        a.get_by_role("button", name="Build the atlas").click()
        a.wait_for_url(re.compile(r"atlas=upload-[0-9a-f]{16}"), timeout=120_000)
        sidebar = a.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text(f"{SONGS} of {SONGS} songs").wait_for()
        settle(a)
        atlas_id = re.search(r"atlas=(upload-[0-9a-f]{16})", a.url)[1]
        link = a.url
        labels = _atlas_labels(a)
        assert any(PRIVATE_FILE in label and "your upload" in label for label in labels), labels
        assert _finds(a, PRIVATE_SONG)

        labels = _atlas_labels(b)
        assert labels and not any(PRIVATE_FILE in label or "upload" in label for label in labels)
        assert not _finds(b, PRIVATE_SONG)
        b.goto(link)
        b.get_by_text("cannot open").wait_for()
        settle(b)
        assert atlas_id not in b.url
        assert _songs_shown(b) == startup_songs != SONGS
        assert not _finds(b, PRIVATE_SONG)
        assert _atlas_labels(b) == labels
        assert not b.locator('[data-testid="stException"]').count()

        assert _finds(a, PRIVATE_SONG)  # A still sees it: B's view was not just broken
        assert _songs_shown(a) == SONGS
    finally:
        first.close()
        second.close()
