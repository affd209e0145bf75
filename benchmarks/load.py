"""Many users: concurrent browser sessions on one dashboard server at 95,837 songs.

Serves ``soundatlas dashboard ATLAS`` on 127.0.0.1 (loopback only), then for each session count
lets that many new visitors arrive at once in Debian's Chromium, each opening every section of
the navigation in turn (the first by loading the URL, the others by clicking the sidebar link,
as a visitor does). A page counts as drawn when Streamlit has finished its run, the page's title
and main content (metrics, charts, tables, forms) are on screen and nothing has changed for
`QUIET_MS` (the same rule as the browser tests, `tests/browser/driving.py`); "drawn" is the time
from the navigation to the page's last change, "answered" the server's time (see below). Errors
are Streamlit exception boxes, error alerts, browser console errors and pages not drawn within
`PAGE_TIMEOUT`. The server's process
tree, and the client's (this script, Playwright's driver, Chromium), are sampled with psutil
every `SAMPLE_EVERY` seconds (resident and proportional set size); CPU seconds of both are
counted from their process times.

One Chromium with one browser context per visitor: contexts share nothing (cookies, cache,
storage, websocket), so each is a new visitor to the server. Measured against one Chromium per
visitor, 5 visitors on a busy machine: the same client CPU (69 s) and wall time (50 s), 10%
less memory (2.8 against 3.0 GB PSS). Client and server share this machine's 2 cores, and the
browsers need far more CPU than the server (the table prints both): the times are those of a
server sharing its machine with all of its visitors' browsers, a pessimistic bound.
Because of that, "answered" is timed where the browsers' CPU queue does not reach: by
`ServerClock`, from Chromium's network service (over the DevTools protocol), as the time from
the page's request to run its script leaving on the websocket to the message that the run is
over arriving — what a visitor on their own computer would wait for the server. And the
server runs at niceness `SERVER_NICENESS` (every thread of its process tree), so that it gets
the CPU it asks for and the browsers, standing for the visitors' own computers, the rest:
without that, twenty-odd Chromium processes share the 2 cores equally with it and its answers
wait for the CPU, not for its work. (Lowering the browsers' priority instead does not work:
Chromium sets its processes' niceness itself.)

``--soak MINUTES`` keeps `SOAK_SESSIONS` sessions going round the sections for that long, each
round in a fresh browser context (a new visitor, so sessions are created and dropped all the
time), and prints the server's memory after the first round and at the end.

The atlas is the synthetic scale-up of `benchmarks/dashboard.py` (demo songs, not real data),
built once and cached under ``benchmarks/out/``, or any atlas given with ``--atlas``.

Usage::

    .venv/bin/python benchmarks/load.py                      # 1, 5, 10 and 20 sessions
    .venv/bin/python benchmarks/load.py --sessions 5 20 --atlas DIR
    .venv/bin/python benchmarks/load.py --soak 10            # 10 minutes at 5 sessions
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE.parent / "tests"))

from browser.driving import (  # noqa: E402  (tests/ is put on the path just above)
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    QUIET_MS,
    settle_async,
    start_dashboard,
    stop,
)
from dashboard import atlas_for  # noqa: E402  (benchmarks/dashboard.py, beside this file)

SONGS = 95_837
SESSIONS = (1, 5, 10, 20)
SOAK_SESSIONS = 5
PAGE_TIMEOUT = 60.0
"""Seconds a page may take to be drawn before it counts as an error."""
WALL_CAP = 30 * 60.0
"""Seconds the whole measurement may take (the soak adds its own minutes)."""
SAMPLE_EVERY = 0.5
VIEWPORT = {"width": 1280, "height": 800}
TARGET_P95 = 3.0
TARGET_MEMORY = 3 * 1024**3
TARGET_SOAK_GROWTH = 0.10
GB = 1024**3
SERVER_NICENESS = -10


@dataclass(frozen=True)
class Section:
    """A section of the navigation and what shows it is drawn: its title and, for each CSS
    selector, how many elements must match."""

    link: str
    path: str
    title: str
    content: tuple[tuple[str, int], ...]


CHART = '[data-testid="stPlotlyChart"] svg.main-svg:first-of-type'
TABLE = '[data-testid="stDataFrame"] canvas'
SECTIONS = (
    Section("Overview", "/", "Overview", (('[data-testid="stMetric"]', 4), (TABLE, 1))),
    Section("Cluster distribution", "/distribution", "Cluster distribution", ((CHART, 2),)),
    Section("Audio features", "/features", "Audio features", ((CHART, 4),)),
    Section(
        "Playlist generator",
        "/playlists",
        "Smart playlist generator",
        (('[data-testid="stFormSubmitButton"] button', 1),),
    ),
    Section(
        "Search & recommendations",
        "/search",
        "Search & recommendations",
        (('[data-testid="stTextInput"] input', 1),),
    ),
    Section("Export & reports", "/exports", "Export & reports", (('[data-testid="stButton"]', 1),)),
    Section(
        "Open a catalog",
        "/open_catalog",
        "Open a catalog",
        (('[data-testid="stFileUploaderDropzone"]', 1),),
    ),
)
DRAWN = """([title, content]) => {
    const heading = document.querySelector('[data-testid="stMain"] h1');
    if (!heading || !heading.textContent.trim().startsWith(title)) return false;
    return content.every(([selector, count]) => {
        const found = [...document.querySelectorAll(selector)].filter(
            e => e.getClientRects().length > 0);
        return found.length >= count;
    });
}"""
"""True when the section's title and main content are on screen."""
ANSWERED = f"""([title]) => {{
    const heading = document.querySelector('[data-testid="stMain"] h1');
    return Boolean(heading && heading.textContent.trim().startsWith(title) && ({IDLE})());
}}"""
"""True when the browser has the server's whole answer: the section's title is there and the
script run is over (everything the run sent arrives before the message that it ended)."""
PROBLEMS = """() => [
    ...[...document.querySelectorAll('[data-testid="stException"]')].map(
        e => 'exception: ' + e.innerText.slice(0, 200)),
    ...[...document.querySelectorAll('[data-testid="stAlertContentError"]')].map(
        e => 'error alert: ' + e.innerText.slice(0, 200)),
]"""


@dataclass
class Load:
    """One page drawn (or not) in one session."""

    section: str
    seconds: float
    """From the navigation to the page's last change (drawn)."""
    answered: float = float("nan")
    """The server's answer: from the run asked for to the run over, at the network layer."""
    error: str = ""


def processes(pid: int, *, leave_out: int | None = None) -> list[psutil.Process]:
    """A process and its descendants, without the tree of ``leave_out``."""
    root = psutil.Process(pid)
    skip: set[int] = set()
    if leave_out is not None:
        skip = {p.pid for p in processes(leave_out)}
    return [p for p in [root, *root.children(recursive=True)] if p.pid not in skip]


@dataclass
class Memory:
    """Samples a process tree in a thread: resident and proportional set size, with peaks."""

    pid: int
    leave_out: int | None = None
    peak_rss: int = 0
    peak_pss: int = 0
    last: tuple[int, int] = (0, 0)
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> tuple[int, int]:
        """``(rss, pss)`` of the tree now, in bytes."""
        rss = pss = 0
        for process in processes(self.pid, leave_out=self.leave_out):
            try:
                info = process.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            pss += info.pss
        self.last = (rss, pss)
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)
        return rss, pss

    def reset(self) -> None:
        """Start a new peak from the current value."""
        self.peak_rss = self.peak_pss = 0
        self.sample()

    def run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            try:
                self.sample()
            except psutil.NoSuchProcess:
                return

    def __enter__(self) -> Memory:
        self.sample()
        threading.Thread(target=self.run, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


def cpu_seconds(pid: int, *, leave_out: int | None = None) -> float:
    """User + system CPU seconds used so far by a process tree (without ``leave_out``'s),
    counting processes that ended through their parents' children's times."""
    total = 0.0
    for process in processes(pid, leave_out=leave_out):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


class Watch:
    """The errors one visitor's page reports: console errors, page errors, failed requests."""

    PROBES = re.compile(r"/[^/]+/_stcore/(health|host-config)$")
    """Requests Streamlit's frontend makes, on a link to a section, to find the app's base path
    (a 404 before it tries the root): not errors."""

    def __init__(self, page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message) -> None:
        # Failed requests are reported by `_response`, with their address.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 400 and not self.PROBES.search(response.url):
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def take(self) -> list[str]:
        """The problems seen since the last call."""
        taken = list(self.problems)
        self.problems.clear()
        return taken


class ServerClock:
    """How long the server took to answer, as the browser's network layer saw it: from a
    request to run the page's script leaving on the websocket to the message that the run is
    over arriving. Timestamps come from Chromium's network service over the DevTools protocol,
    so they do not wait for the page's renderer, which on this machine queues for the CPU with
    every other visitor's browser."""

    SMALL = 4096
    """Only frames this short (base64 characters) are decoded: both messages are small."""

    def __init__(self) -> None:
        self.runs: list[float] = []
        self.ends: list[float] = []

    async def attach(self, page) -> None:
        session = await page.context.new_cdp_session(page)
        session.on("Network.webSocketFrameSent", self._sent)
        session.on("Network.webSocketFrameReceived", self._received)
        await session.send("Network.enable")

    @staticmethod
    def _message(params: dict, kind):
        frame = params["response"]
        if frame.get("opcode") != 2 or len(frame.get("payloadData", "")) > ServerClock.SMALL:
            return None
        message = kind()
        message.ParseFromString(base64.b64decode(frame["payloadData"]))
        return message.WhichOneof("type")

    def _sent(self, params: dict) -> None:
        if self._message(params, BackMsg) == "rerun_script":
            self.runs.append(params["timestamp"])

    def _received(self, params: dict) -> None:
        if self._message(params, ForwardMsg) == "script_finished":
            self.ends.append(params["timestamp"])

    def take(self) -> float:
        """Seconds from the first run asked for since the last call to the last run ended."""
        span = self.ends[-1] - self.runs[0] if self.runs and self.ends else float("nan")
        self.runs.clear()
        self.ends.clear()
        return span


async def _open(
    page, watch: Watch, server: ServerClock, url: str, section: Section, *, first: bool
) -> Load:
    """Open ``section`` (by URL if ``first``, else by its sidebar link) and time it."""
    from playwright.async_api import Error as PlaywrightError

    server.take()
    clock = time.monotonic()
    try:
        if first:
            await page.goto(url + section.path, timeout=PAGE_TIMEOUT * 1000)
        else:
            link = page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=section.link)
            await link.first.click(timeout=PAGE_TIMEOUT * 1000)
        await page.wait_for_function(ANSWERED, arg=[section.title], timeout=PAGE_TIMEOUT * 1000)
        seen = time.monotonic() - clock
        await page.wait_for_function(
            DRAWN,
            arg=[section.title, [list(c) for c in section.content]],
            timeout=PAGE_TIMEOUT * 1000,
        )
        quiet = await settle_async(page, PAGE_TIMEOUT * 1000)
    except PlaywrightError as exc:
        reason = str(exc).splitlines()[0][:160]
        problems = "; ".join([f"not drawn: {reason}", *watch.take()])
        return Load(section.link, time.monotonic() - clock, error=problems)
    seconds = max(time.monotonic() - clock - quiet / 1000, seen)
    shown = await page.evaluate(PROBLEMS)
    return Load(section.link, seconds, server.take(), "; ".join([*shown, *watch.take()]))


async def _round(browser, url: str, until: float | None) -> list[Load]:
    """A new visitor (fresh browser context) opening every section in turn."""
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    watch = Watch(page)
    server = ServerClock()
    await server.attach(page)
    loads: list[Load] = []
    recover = True
    try:
        for section in SECTIONS:
            if until is not None and time.monotonic() >= until:
                break
            load = await _open(page, watch, server, url, section, first=recover)
            recover = load.error.startswith("not drawn")
            loads.append(load)
    finally:
        await context.close()
    return loads


async def visit(browser, url: str, *, until: float | None = None) -> list[Load]:
    """One visitor opening every section once (or, with ``until``, round after round until
    that `time.monotonic`, each round a new visitor)."""
    loads = await _round(browser, url, until)
    while until is not None and time.monotonic() < until:
        loads += await _round(browser, url, until)
    return loads


async def _level(browser, url: str, sessions: int, cap: float) -> list[Load]:
    visitors = [visit(browser, url) for _ in range(sessions)]
    results = await asyncio.wait_for(asyncio.gather(*visitors), timeout=cap)
    return [load for loads in results for load in loads]


async def _soak(browser, url: str, memory: Memory, minutes: float) -> dict:
    """`SOAK_SESSIONS` visitors going round the sections for ``minutes``; memory after the
    first round of every visitor, then each minute, and at the end."""
    first = await _level(browser, url, SOAK_SESSIONS, PAGE_TIMEOUT * len(SECTIONS) * 3)
    start = memory.sample()
    began = time.monotonic()
    until = began + minutes * 60
    trail: list[tuple[float, int, int]] = [(0.0, *start)]

    async def watch() -> None:
        while time.monotonic() < until:
            await asyncio.sleep(min(60.0, max(until - time.monotonic(), 0.0)))
            trail.append(((time.monotonic() - began) / 60, *memory.sample()))

    visitors = [visit(browser, url, until=until) for _ in range(SOAK_SESSIONS)]
    watcher = asyncio.create_task(watch())
    results = await asyncio.gather(*visitors)
    await watcher
    end = memory.sample()
    loads = first + [load for group in results for load in group]
    return {"loads": loads, "start": start, "end": end, "trail": trail}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _row(sessions: object, loads: list[Load], memory: Memory, cpu: tuple[float, float]) -> str:
    """A table row: pages, drawn p50/p95/max, answered p95, errors, memory, CPU, and the
    verdicts on the server's answer and on the drawn page (each with memory and errors)."""
    good = [load for load in loads if not load.error]
    drawn = [load.seconds for load in good]
    answered = [load.answered for load in good if not math.isnan(load.answered)]
    errors = len(loads) - len(good)
    p95 = _p95(drawn) if drawn else float("nan")
    served = _p95(answered) if answered else float("nan")
    healthy = memory.peak_rss <= TARGET_MEMORY and not errors
    cells = [
        str(sessions),
        str(len(loads)),
        _seconds(statistics.median(drawn) if drawn else None),
        _seconds(p95 if drawn else None),
        _seconds(max(drawn) if drawn else None),
        _seconds(served if answered else None),
        str(errors),
        f"{memory.peak_rss / GB:.2f} / {memory.peak_pss / GB:.2f} GB",
        f"{cpu[0]:.0f} s ({cpu[0] / max(len(loads), 1):.2f} s a page) / {cpu[1]:.0f} s",
        f"server {'pass' if healthy and served <= TARGET_P95 else 'FAIL'}, drawn "
        f"{'pass' if healthy and p95 <= TARGET_P95 else 'FAIL'}",
    ]
    return "| " + " | ".join(cells) + " |"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _errors(loads: list[Load]) -> None:
    for load in loads:
        if load.error:
            print(f"  error on {load.section}: {load.error}", flush=True)


def _by_section(loads: list[Load]) -> str:
    """Median drawn / answered seconds per section."""
    groups: dict[str, list[Load]] = {}
    for load in loads:
        if not load.error:
            groups.setdefault(load.section, []).append(load)
    return ", ".join(
        f"{name} "
        + "/".join(
            f"{statistics.median(getattr(x, part) for x in group):.2f}"
            for part in ("seconds", "answered")
        )
        for name, group in groups.items()
    )


def _cpu(server: int, since: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
    """CPU seconds of the server, and of the client (this script, Playwright's driver and
    Chromium), since ``since``."""
    return (
        cpu_seconds(server) - since[0],
        cpu_seconds(os.getpid(), leave_out=server) - since[1],
    )


HEADER = (
    "| sessions | pages loaded | drawn p50 | drawn p95 | drawn max | server answered p95 | errors "
    "| server peak RSS / PSS | CPU: server / client | target |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


async def _levels(browser, url: str, memory: Memory, client: Memory, levels: list[int]) -> int:
    """Each session count in turn: a table row and the medians per section; failures."""
    failures = 0
    deadline = time.monotonic() + WALL_CAP
    print("\n" + HEADER, flush=True)
    for sessions in levels:
        memory.reset()
        client.reset()
        before = _cpu(memory.pid)
        try:
            loads = await _level(browser, url, sessions, max(deadline - time.monotonic(), 1.0))
        except TimeoutError:
            print(f"| {sessions} | wall cap of {WALL_CAP / 60:.0f} min reached |", flush=True)
            return failures + 1
        row = _row(sessions, loads, memory, _cpu(memory.pid, since=before))
        failures += "server FAIL" in row
        print(row, flush=True)
        print(
            f"  median drawn/answered s: {_by_section(loads)}; client peak PSS "
            f"{client.peak_pss / GB:.2f} GB",
            flush=True,
        )
        _errors(loads)
    return failures


async def _soak_report(browser, url: str, memory: Memory, minutes: float) -> int:
    """The soak, its row and the server's memory growth; 1 if it grew too much."""
    memory.reset()
    before = _cpu(memory.pid)
    result = await _soak(browser, url, memory, minutes)
    loads = result["loads"]
    start, end = result["start"], result["end"]
    growth = (end[1] - start[1]) / start[1]
    print("\n" + HEADER)
    print(_row(f"{SOAK_SESSIONS} (soak)", loads, memory, _cpu(memory.pid, since=before)))
    _errors(loads)
    print(
        f"\nsoak: {minutes:g} min at {SOAK_SESSIONS} sessions, {len(loads)} pages; server PSS "
        f"{start[1] / GB:.3f} GB after the first round -> {end[1] / GB:.3f} GB at the end "
        f"({growth:+.1%}; RSS {start[0] / GB:.3f} -> {end[0] / GB:.3f} GB); target <= "
        f"{TARGET_SOAK_GROWTH:.0%}: {'pass' if growth <= TARGET_SOAK_GROWTH else 'FAIL'}"
    )
    print(
        "  server PSS (GB) by minute: "
        + ", ".join(f"{m:.0f}: {pss / GB:.3f}" for m, _, pss in result["trail"])
    )
    return int(growth > TARGET_SOAK_GROWTH)


async def measure(url: str, server_pid: int, levels: list[int], soak: float | None) -> int:
    """Warm the server with one visit, then run each session count, or the soak; prints the
    results and returns how many targets failed."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        with (
            Memory(server_pid) as memory,
            Memory(os.getpid(), leave_out=server_pid) as client,
        ):
            idle = memory.last
            warm = await _level(browser, url, 1, PAGE_TIMEOUT * len(SECTIONS))
            print(
                f"server at rest: {idle[0] / GB:.2f} GB RSS; first visit after start (loads the "
                f"atlas for everyone): {warm[0].seconds:.1f} s, then "
                f"{statistics.median(w.seconds for w in warm[1:]):.2f} s per page",
                flush=True,
            )
            _errors(warm)
            if soak:
                failures = await _soak_report(browser, url, memory, soak)
            else:
                failures = await _levels(browser, url, memory, client, levels)
        await browser.close()
    return failures


def prioritise(pid: int) -> str:
    """Set every thread of the server's process tree to `SERVER_NICENESS` (threads it starts
    later inherit it); how the server runs, for the report."""
    try:
        for process in processes(pid):
            for task in Path(f"/proc/{process.pid}/task").iterdir():
                os.setpriority(os.PRIO_PROCESS, int(task.name), SERVER_NICENESS)
    except PermissionError:
        return "the server at normal priority (raising its priority needs root)"
    return f"the server at niceness {SERVER_NICENESS}"


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the atlas, serve it, run the sessions, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--atlas", type=Path, help="Atlas folder [default: 95,837 synthetic].")
    parser.add_argument("--sessions", type=int, nargs="+", default=list(SESSIONS))
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="Soak at 5 sessions.")
    args = parser.parse_args(argv)
    if any(not 1 <= n <= 50 for n in args.sessions):
        parser.error("--sessions: each count must be from 1 to 50")
    if args.soak is not None and not 0 < args.soak <= 60:
        parser.error("--soak: from 0 to 60 minutes")
    atlas = args.atlas or atlas_for(SONGS)
    load = os.getloadavg()
    print(
        f"atlas: {atlas}\nclient and server share this machine ({os.cpu_count()} cores, "
        f"load average {load[0]:.2f} at start); one Chromium, one context per "
        f"session; a page "
        f"is drawn when the run is over, its content is on screen and it stays unchanged for "
        f"{QUIET_MS} ms (not counted); per-page timeout {PAGE_TIMEOUT:.0f} s.",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="soundatlas-load-") as scratch:
        home = Path(scratch)
        process, url = start_dashboard(atlas, home=home, logs=home)
        print(f"{prioritise(process.pid)}.", flush=True)
        try:
            failures = asyncio.run(measure(url, process.pid, args.sessions, args.soak))
        finally:
            stop(process)
    print(
        f"\nTargets: at 20 sessions p95 <= {TARGET_P95:.0f} s per page, server peak RSS <= "
        f"{TARGET_MEMORY / GB:.0f} GB, no error; soak memory growth <= {TARGET_SOAK_GROWTH:.0%}. "
        f"Load average at the end: {os.getloadavg()[0]:.2f} (this run's own processes included)."
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
