"""Start-up benchmark: the whole-process times a new user meets in the first minute.

Run from the repository root::

    .venv/bin/python benchmarks/startup.py                          # every row
    .venv/bin/python benchmarks/startup.py --only help,query
    .venv/bin/python benchmarks/startup.py --soundatlas /tmp/fresh/bin/soundatlas  # another install

Rows (wall seconds of the whole process, as a shell would time it):

- ``help``: ``soundatlas --help`` and ``soundatlas similar --help``; median of 5 runs after one
  warm-up.
- ``query``: ``soundatlas similar ATLAS TRACK_ID`` and ``soundatlas search ATLAS love`` on a
  95,837-song synthetic atlas (``soundatlas demo --size 95837``, built once under
  ``benchmarks/out/``); median of 5 after one warm-up (the atlas's files in the OS file cache),
  and median of 5 "cold" runs, each after the atlas's files were dropped from the file cache
  (``posix_fadvise(DONTNEED)``; Python's own files stay cached, as they would after any
  earlier command).
- ``build``: the first build after a fresh install, i.e. with an empty numba cache (a new
  ``SOUNDATLAS_HOME``, so a new ``$SOUNDATLAS_HOME/numba``), then the second build with the cache
  the first left; for ``tophits_2k.csv`` (../shared/data) and the 20,000-song demo atlas;
  median of 3 such pairs.
- ``dashboard``: the README's first Quick start command, ``soundatlas dashboard``, with a new
  ``SOUNDATLAS_HOME`` (the demo atlas to build, an empty numba cache): from starting it until
  Chromium (headless, Debian's) shows the Overview's metrics; one run.

``--soundatlas`` times another installation's command (a non-editable install in a new venv,
say); it defaults to the command beside this interpreter.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
SHARED = Path(os.environ.get("SOUNDATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
QUERY_SONGS = 95_837
OVERVIEW_DRAWN = """() => {
    const heading = document.querySelector('[data-testid="stMain"] h1');
    const metrics = [...document.querySelectorAll('[data-testid="stMetric"]')].filter(
        e => e.getClientRects().length > 0);
    const titled = Boolean(heading && heading.textContent.trim().startsWith('Overview'));
    return titled && metrics.length >= 4;
}"""
"""True once the Overview's title and its four headline metrics are on screen."""
ROWS = ("help", "query", "build", "dashboard")


def user_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) as a user's shell has it: without
    ``PYTHONDONTWRITEBYTECODE``, which some sandboxes set. With it every run compiles the
    checkout's modules again (+0.1 s), where an installed package, and an editable one after
    its first run, imports compiled bytecode."""
    return {k: v for k, v in (env or os.environ).items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one run of ``command``; a failure stops the benchmark with its output."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=user_environment(env))
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def median_of(runs: int, run: Callable[[], float], *, warmup: int = 1) -> tuple[float, str]:
    """The median of ``runs`` timings after ``warmup`` uncounted ones, and the range as text."""
    for _ in range(warmup):
        run()
    times = [run() for _ in range(runs)]
    return statistics.median(times), f"{min(times):.2f}–{max(times):.2f}"


def fresh_home() -> dict[str, str]:
    """An environment whose SoundAtlas home, and so numba cache, is new and empty."""
    home = tempfile.mkdtemp(prefix="soundatlas-startup-")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    return env | {"SOUNDATLAS_HOME": home}


def help_rows(soundatlas: str) -> list[tuple[str, float, str]]:
    rows = []
    for args in (["--help"], ["similar", "--help"]):
        median, spread = median_of(5, lambda a=args: timed([soundatlas, *a]))
        rows.append((f"soundatlas {' '.join(args)}", median, spread))
    return rows


def query_rows(soundatlas: str) -> list[tuple[str, float, str]]:
    import pyarrow.parquet as pq

    atlas = OUT / f"startup-atlas-{QUERY_SONGS}"
    if not (atlas / "manifest.json").is_file():
        print(f"building the {QUERY_SONGS:,}-song demo atlas in {atlas} …", file=sys.stderr)
        timed([soundatlas, "demo", "--size", str(QUERY_SONGS), "-o", str(atlas), "-q"])
    track = pq.read_table(atlas / "tracks.parquet", columns=["track_id"])["track_id"][0].as_py()
    rows = []
    for args in (["similar", str(atlas), track], ["search", str(atlas), "love"]):
        median, spread = median_of(5, lambda a=args: timed([soundatlas, *a]))
        shown = ["ATLAS" if a == str(atlas) else a for a in args]
        rows.append((f"soundatlas {' '.join(shown)} ({QUERY_SONGS:,} songs)", median, spread))
        cold, spread = median_of(
            5, lambda a=args: _evicted(atlas) + timed([soundatlas, *a]), warmup=0
        )
        rows.append(("… the same, atlas files not in the file cache", cold, spread))
    return rows


def _evicted(folder: Path) -> float:
    """Drop the files of ``folder`` from the OS file cache (no privileges needed); 0 seconds,
    so it can be added to a timing."""
    for path in folder.iterdir():
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)
    return 0.0


def build_rows(soundatlas: str) -> list[tuple[str, float, str]]:
    builds = {
        "tophits_2k.csv": lambda out: [
            soundatlas,
            "build",
            str(SHARED / "tophits_2k.csv"),
            "-o",
            out,
            "-q",
        ],
        "demo atlas (20,000 songs)": lambda out: [soundatlas, "demo", "-o", out, "-q"],
    }
    rows = []
    for name, command in builds.items():
        first, second = [], []
        for _ in range(3):
            env = fresh_home()
            folder = Path(env["SOUNDATLAS_HOME"])
            first.append(timed(command(str(folder / "first")), env))
            second.append(timed(command(str(folder / "second")), env))
        for label, times in (("first build, empty numba cache", first), ("second build", second)):
            spread = f"{min(times):.2f}–{max(times):.2f}"
            rows.append((f"{name}: {label}", statistics.median(times), spread))
    return rows


def dashboard_rows(soundatlas: str) -> list[tuple[str, float, str]]:
    from playwright.sync_api import Error, sync_playwright

    sys.path.append(str(ROOT / "tests"))
    from browser.driving import CHROMIUM, CHROMIUM_ARGS  # the tests' Chromium, as load.py

    env = user_environment(fresh_home())
    port = _free_port()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page()
        started = time.perf_counter()
        server = subprocess.Popen(
            [soundatlas, "dashboard", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"soundatlas dashboard stopped ({server.returncode})")
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=5_000)
                    break
                except Error:
                    time.sleep(0.2)
            page.wait_for_function(OVERVIEW_DRAWN, timeout=300_000, polling=100)
            seconds = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
            browser.close()
    return [("soundatlas dashboard (new home): Overview on screen", seconds, "one run")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(ROWS), help=f"Comma-separated: {ROWS}.")
    parser.add_argument(
        "--soundatlas",
        default=str(Path(sys.executable).with_name("soundatlas")),
        help="The soundatlas command to time.",
    )
    args = parser.parse_args()
    wanted = [row.strip() for row in args.only.split(",") if row.strip()]
    makers = {"help": help_rows, "query": query_rows, "build": build_rows}
    makers["dashboard"] = dashboard_rows
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    print("| command | wall s (median) | min–max |\n| --- | --- | --- |")
    for row in wanted:
        for label, seconds, spread in makers[row](args.soundatlas):
            print(f"| {label} | {seconds:.2f} | {spread} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
