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


BROWSER_SONGS = 600
"""Synthetic songs in the browser tests' atlas (plus the hostile rows)."""
PORT_ATTEMPTS = 5
QUIET_MS = 400
"""How long the page must go without changes to count as drawn (`Tab.settle`)."""


def _free_port() -> int:
    """A port the system just said was free (another process may take it before the server
    binds it: `server` then starts again on another)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def browser_atlas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small atlas of synthetic songs with hostile names (no real data needed)."""
    from soundatlas.atlas import build_atlas

    _require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    source = hostile_catalog(folder / "hits.csv", songs=BROWSER_SONGS)
    build_atlas(source).save(folder / "atlas")
    return folder / "atlas"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _start(atlas: Path, home: Path, log: Path) -> tuple[subprocess.Popen, str] | None:
    """Start ``soundatlas dashboard ATLAS`` on a free port and wait until it answers; None if
    the port was taken in between (by the time the server bound it)."""
    port = _free_port()
    environment = {**os.environ, "SOUNDATLAS_HOME": str(home)}
    command = [
        sys.executable,
        "-c",
        "from soundatlas.cli import main; main()",
        "dashboard",
        str(atlas),
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
            text = log.read_text(errors="replace")
            if "already in use" in text:
                return None
            pytest.fail(f"dashboard exited early:\n{text}")
        if "already in use" in log.read_text(errors="replace"):
            _stop(process)  # Streamlit logs a taken port, then may linger
            return None
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.25)
    _stop(process)
    pytest.fail(f"dashboard did not answer in 90 s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def server(browser_atlas: Path, tmp_path_factory: pytest.TempPathFactory):
    """``soundatlas dashboard ATLAS --port N`` as a subprocess; yields its URL."""
    home = tmp_path_factory.mktemp("home")
    logs = tmp_path_factory.mktemp("server")
    for attempt in range(PORT_ATTEMPTS):
        started = _start(browser_atlas, home, logs / f"dashboard-{attempt}.log")
        if started is not None:
            break
    else:
        pytest.fail(f"no free port for the dashboard in {PORT_ATTEMPTS} attempts")
    process, url = started
    yield url
    _stop(process)


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
        self.settle()
        return self.page

    def settle(self, timeout: float = 60_000) -> None:
        """Wait until the app is connected, no script run is going on, and the page has stopped
        changing (Streamlit marks the run state on its root element but draws the last elements
        a little after a run ends, so the page must also be quiet for `QUIET_MS`)."""
        self.page.wait_for_function(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                return app && app.dataset.testConnectionState === 'CONNECTED'
                    && app.dataset.testScriptState === 'notRunning';
            }""",
            timeout=timeout,
        )
        self.page.evaluate(
            """([quiet, limit]) => new Promise(resolve => {
                let timer = setTimeout(done, quiet);
                const observer = new MutationObserver(() => {
                    clearTimeout(timer);
                    timer = setTimeout(done, quiet);
                });
                const give_up = setTimeout(done, limit);
                function done() {
                    observer.disconnect();
                    clearTimeout(timer);
                    clearTimeout(give_up);
                    requestAnimationFrame(() => requestAnimationFrame(resolve));
                }
                observer.observe(document.body, {subtree: true, childList: true,
                                                 attributes: true, characterData: true});
            })""",
            [QUIET_MS, timeout],
        )

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
