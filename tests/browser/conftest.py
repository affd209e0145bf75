"""Browser fixtures: a dashboard served by `soundatlas dashboard` and Debian's Chromium."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from dashboard.hostile import hostile_catalog

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--headless",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _require_chromium() -> None:
    if CHROMIUM.is_file():
        return
    reason = f"{CHROMIUM} is not installed (apt-get install chromium); browser journeys skipped"
    if os.environ.get("SOUNDATLAS_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " but SOUNDATLAS_REQUIRE_BROWSER=1")
    pytest.skip(reason)


def _stop_with_parent() -> None:
    """Ask Linux to send SIGTERM to the server if pytest dies without tearing down (a crash),
    so no dashboard outlives the test run; `soundatlas dashboard` then stops Streamlit."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def browser_atlas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small atlas of real songs with hostile names (400 rows of the chart-hits table)."""
    from soundatlas.atlas import build_atlas

    _require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    build_atlas(hostile_catalog(folder / "hits.csv", rows=400)).save(folder / "atlas")
    return folder / "atlas"


@pytest.fixture(scope="session")
def server(browser_atlas: Path, tmp_path_factory: pytest.TempPathFactory):
    """``soundatlas dashboard ATLAS --port N`` as a subprocess; yields its URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "dashboard.log"
    environment = {**os.environ, "SOUNDATLAS_HOME": str(tmp_path_factory.mktemp("home"))}
    command = [
        sys.executable,
        "-c",
        "from soundatlas.cli import main; main()",
        "dashboard",
        str(browser_atlas),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            preexec_fn=_stop_with_parent,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dashboard exited early:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.terminate()
        pytest.fail(f"dashboard did not answer in 90 s:\n{log.read_text(errors='replace')}")
    yield url
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


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
    dialogs: list[str] = field(default_factory=list)

    def open(self, path: str = "/") -> Page:
        """Go to a dashboard URL and wait until Streamlit has drawn the page."""
        self.page.goto(self.base_url + path)
        self.page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
        return self.page

    def shot(self, name: str) -> Path:
        """Save a screenshot of the whole page as a test artifact.

        Streamlit scrolls its main area inside the window, so the window is made as tall as the
        content for the picture, then put back.
        """
        path = ARTIFACTS / f"{self.device}-{name}.png"
        size = self.page.viewport_size
        height = self.page.evaluate(
            "document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
        )
        self.page.set_viewport_size({"width": size["width"], "height": min(height + 40, 9000)})
        self.page.wait_for_timeout(1200)
        self.page.screenshot(path=str(path))
        self.page.set_viewport_size(size)
        self.page.wait_for_timeout(300)
        return path

    def fits_width(self) -> bool:
        """No sideways scrolling of the page."""
        return bool(self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.fixture(params=list(VIEWPORTS))
def tab(request, chromium, server):
    """A fresh page at 1280×800 (desktop) or 390×844 (phone); alerts are recorded, not run."""
    phone = request.param == "phone"
    context = chromium.new_context(
        viewport=VIEWPORTS[request.param], accept_downloads=True, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    opened = Tab(page, server, request.param)
    page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    ARTIFACTS.mkdir(exist_ok=True)
    yield opened
    context.close()
