"""Browser fixtures: a dashboard served by `soundatlas dashboard` and Debian's Chromium."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser.driving import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ServerError,
    settle,
    start_dashboard,
    stop,
)
from dashboard.hostile import hostile_catalog
from required import skip_unless_required

from soundatlas.discovery.save import save_atlas

if TYPE_CHECKING:
    from playwright.sync_api import Page

SCREENSHOTS_VARIABLE = "SOUNDATLAS_SCREENSHOTS"
"""Folder for the browser journeys' screenshots (for CI to keep); pytest's temporary folder when
unset."""
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CHECK_VIEWPORTS = {
    "wide": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
}
"""Where the linked views are checked (issue 15: every item at 1440×900 and 390×844)."""
BROWSER_SONGS = 600
"""Synthetic songs in the browser tests' atlas (plus the hostile rows)."""


def _require_chromium() -> None:
    if CHROMIUM.is_file():
        return
    reason = f"{CHROMIUM} is not installed (apt-get install chromium); browser journeys skipped"
    skip_unless_required("SOUNDATLAS_REQUIRE_BROWSER", reason)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$SOUNDATLAS_SCREENSHOTS``, else pytest's temporary folder (never
    the checkout)."""
    chosen = os.environ.get(SCREENSHOTS_VARIABLE)
    if not chosen:
        return tmp_path_factory.mktemp("screenshots")
    folder = Path(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser_atlas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small atlas of synthetic songs with hostile names (no real data needed)."""
    from soundatlas.atlas.build import build_atlas

    _require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    source = hostile_catalog(folder / "hits.csv", songs=BROWSER_SONGS)
    save_atlas(build_atlas(source), folder / "atlas")
    return folder / "atlas"


@pytest.fixture(scope="session")
def server(browser_atlas: Path, tmp_path_factory: pytest.TempPathFactory):
    """``soundatlas dashboard ATLAS --port N`` as a subprocess; yields its URL."""
    home = tmp_path_factory.mktemp("home")
    try:
        process, url = start_dashboard(
            browser_atlas, home=home, logs=tmp_path_factory.mktemp("server")
        )
    except ServerError as exc:
        pytest.fail(str(exc))
    yield url
    stop(process)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (no downloaded browser builds)."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@dataclass
class Tab:
    """A browser page on the dashboard, at one viewport, recording any alert it raises."""

    page: Page
    base_url: str
    device: str
    screenshots: Path
    dialogs: list[str] = field(default_factory=list)

    def open(self, path: str = "/") -> Page:
        """Go to a dashboard URL and wait until Streamlit has drawn the page."""
        self.page.goto(self.base_url + path)
        self.page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
        self.settle()
        return self.page

    def settle(self, timeout: float = 60_000) -> None:
        """Wait until Streamlit has drawn the page (see `browser.driving.settle`)."""
        settle(self.page, timeout)

    def shot(self, name: str) -> Path:
        """Save a screenshot of the whole page as a test artifact.

        Streamlit scrolls its main area inside the window, so the window is made as tall as the
        content for the picture, then put back.
        """
        path = self.screenshots / f"{self.device}-{name}.png"
        size = self.page.viewport_size
        height = self.page.evaluate(
            "document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
        )
        self.page.set_viewport_size({"width": size["width"], "height": min(height + 40, 9000)})
        self._charts_redrawn()
        self.page.screenshot(path=str(path))
        self.page.set_viewport_size(size)
        self._charts_redrawn()
        return path

    def _charts_redrawn(self) -> None:
        """After a resize: wait until every Plotly chart is as wide as its box again (Plotly
        redraws on resize after a short debounce) and the app is idle."""
        self.page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(
                box => {
                    const svg = box.querySelector('.main-svg');
                    if (!svg) return false;
                    const want = box.getBoundingClientRect().width;
                    return Math.abs(svg.getBoundingClientRect().width - want) < 2;
                })""",
            timeout=15_000,
        )
        self.settle()

    def fits_width(self) -> bool:
        """No sideways scrolling of the page."""
        return bool(self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@contextmanager
def _tab_at(chromium, server: str, screenshots: Path, device: str, viewport: dict):
    """A fresh page at ``viewport`` (a phone when ``device`` is "phone"); alerts are recorded,
    not run."""
    phone = device == "phone"
    context = chromium.new_context(
        viewport=viewport, accept_downloads=True, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    opened = Tab(page, server, device, screenshots)
    page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(params=list(VIEWPORTS))
def tab(request, chromium, server, screenshots):
    """A fresh page at 1280×800 (desktop) or 390×844 (phone)."""
    with _tab_at(chromium, server, screenshots, request.param, VIEWPORTS[request.param]) as page:
        yield page


@pytest.fixture(params=list(CHECK_VIEWPORTS))
def checked_tab(request, chromium, server, screenshots):
    """A fresh page at the sizes the issue checks every item at: 1440×900 or 390×844."""
    viewport = CHECK_VIEWPORTS[request.param]
    with _tab_at(chromium, server, screenshots, request.param, viewport) as page:
        yield page
