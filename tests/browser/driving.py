"""Driving the dashboard in a real browser: serve ``soundatlas dashboard ATLAS`` on a free
loopback port, launch Debian's Chromium, and wait until Streamlit has drawn a page.

Shared by the browser tests (``tests/browser/conftest.py``) and the load benchmark
(``benchmarks/load.py``), so both mean the same thing by "the page is drawn".
"""

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
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--headless",
]
QUIET_MS = 400
"""How long the page must go without changes to count as drawn (`settle`)."""
PORT_ATTEMPTS = 5
START_TIMEOUT = 90.0
"""Seconds the server may take to answer its health check."""

IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.dataset.testConnectionState === 'CONNECTED'
        && app.dataset.testScriptState === 'notRunning';
}"""
"""True when the app is connected and no script run is going on (Streamlit marks both on its
root element)."""

QUIET = """([quiet, limit]) => new Promise(resolve => {
    const started = performance.now();
    let last = started;
    let timer = setTimeout(done, quiet);
    const observer = new MutationObserver(() => {
        last = performance.now();
        clearTimeout(timer);
        timer = setTimeout(done, quiet);
    });
    const give_up = setTimeout(done, limit);
    function done() {
        observer.disconnect();
        clearTimeout(timer);
        clearTimeout(give_up);
        requestAnimationFrame(() => requestAnimationFrame(
            () => resolve(performance.now() - last)));
    }
    observer.observe(document.body, {subtree: true, childList: true,
                                     attributes: true, characterData: true});
})"""
"""Resolves once the page has not changed for ``quiet`` ms (or after ``limit`` ms) and two
frames were painted; the value is how long the page had been unchanged by then (ms), so the
caller can tell when it was last changed."""


class ServerError(RuntimeError):
    """The dashboard server did not start (the message holds its log)."""


def settle(page, timeout: float = 60_000) -> float:
    """Wait until the app is connected, no script run is going on, and the page has stopped
    changing (Streamlit draws the last elements a little after a run ends, so the page must
    also be quiet for `QUIET_MS`). Returns how long, in ms, the page had been unchanged when
    this returned."""
    page.wait_for_function(IDLE, timeout=timeout)
    return float(page.evaluate(QUIET, [QUIET_MS, timeout]))


async def settle_async(page, timeout: float = 60_000) -> float:
    """`settle` for Playwright's async API."""
    await page.wait_for_function(IDLE, timeout=timeout)
    return float(await page.evaluate(QUIET, [QUIET_MS, timeout]))


def _stop_with_parent() -> None:
    """Ask Linux to send SIGTERM to the server if its parent dies without stopping it (a
    crash), so no dashboard outlives the run; `soundatlas dashboard` then stops Streamlit."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    """A port the system just said was free (another process may take it before the server
    binds it: `start_dashboard` then tries another)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Stop the server (SIGTERM, then SIGKILL after 15 s)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _start_once(atlas: Path, home: Path, log: Path) -> tuple[subprocess.Popen, str] | None:
    """Start ``soundatlas dashboard ATLAS`` on a free loopback port and wait until it answers;
    None if the port was taken in between."""
    port = free_port()
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
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if "already in use" in text:
            stop(process)  # Streamlit logs a taken port, then may linger
            return None
        if process.poll() is not None:
            raise ServerError(f"dashboard exited early:\n{text}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.25)
    stop(process)
    raise ServerError(
        f"dashboard did not answer in {START_TIMEOUT:.0f} s:\n{log.read_text(errors='replace')}"
    )


def start_dashboard(atlas: Path, *, home: Path, logs: Path) -> tuple[subprocess.Popen, str]:
    """``soundatlas dashboard ATLAS`` on 127.0.0.1 with ``SOUNDATLAS_HOME=home``, answering
    its health check; returns the process and its URL. Logs go to ``logs/dashboard-*.log``.

    Raises
    ------
    ServerError
        If it exits early, does not answer in `START_TIMEOUT`, or finds no free port.
    """
    for attempt in range(PORT_ATTEMPTS):
        started = _start_once(atlas, home, logs / f"dashboard-{attempt}.log")
        if started is not None:
            return started
    raise ServerError(f"no free port for the dashboard in {PORT_ATTEMPTS} attempts")
