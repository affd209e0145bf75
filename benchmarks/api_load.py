"""Load on ``soundatlas serve`` over loopback: steady offered rate, saturation, soak, memory.

The server runs ``soundatlas serve ATLAS`` on 127.0.0.1 (a free port); the load client is
Debian's ``hey`` (``apt-get install hey``): a protocol-level Go client whose workers each send
``-q`` requests a second (an open rate while a request takes less than its period) and which
writes every request's time with ``-o csv`` (percentiles here are computed from those rows,
not hey's histogram). It runs on the same 2 cores as the server, as any client on this machine
must.

Endpoints, each with `URLS_PER_ENDPOINT` different URLs drawn from the atlas's songs (other
seeds, targets, ids, queries, songs: no figure comes from asking the same thing again):

- ``recommendations``: two seed tracks, ``target_energy``, ``min_tempo``, ``limit=20``;
- ``audio-features``: 100 ids;
- ``search``: a word of a title, ``type=track,artist&limit=20``;
- ``similar``: ``/soundatlas/v1/tracks/ID/similar?limit=10``;
- ``mix``: the four together in the shares `MIX`.

Three ways of offering 100 requests/s (``--steady``, ``--seconds`` each):

- *phase-locked*: ``hey -c 50 -q 2`` on one URL (per endpoint of the mix). hey's 50 workers tick
  together, so requests arrive in bursts of 50 every half second: the last of a burst waits for
  the 49 before it (on 2 cores at c ms of CPU a request, about 25·c ms).
- *spread*: 50 ``hey -c 1 -q 2`` processes, each on its own URL, started 10 ms apart, so a
  request arrives every 10 ms on average, as from many independent clients.
- *random phases*: the same 50 processes, each started at a random point of its half-second
  period (seeded): independent clients whose requests sometimes coincide.

Before them, each endpoint 200 times one request at a time (the cost of a request with no
queue). ``--saturation``: spread arrivals at each rate of `RATES` (``--seconds`` each) until
p95 exceeds 100 ms, a request fails, or fewer than 90% of the offered requests are answered;
the table gives the highest rate that held. ``--soak MINUTES``: the mix at 100 requests/s
(spread) for that long, the server's PSS (all, and anonymous only) at the start and every
minute. ``--memory``: RSS and
PSS of the server's process tree with 1 and with 4 workers (``--memory-workers 1,2``: others),
after every worker has answered requests, and the seconds from starting ``serve`` to its first
answer. ``--breakdown``: in one process, where an endpoint's time goes (library call,
formatting the Spotify objects, JSON encoding), over varied requests.

Usage::

    soundatlas demo --size 95837 -o /tmp/demo95k
    python benchmarks/api_load.py /tmp/demo95k --steady --saturation --seconds 10
    python benchmarks/api_load.py /tmp/demo95k --soak 10
    git archive OLD src | tar -x -C /tmp/old  # the same load on an older version
    python benchmarks/api_load.py /tmp/demo95k --steady --source /tmp/old/src
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import psutil

CLI = (sys.executable, "-c", "from soundatlas.cli import main; main()")
MIX = {"recommendations": 0.4, "audio-features": 0.2, "search": 0.2, "similar": 0.2}
RATES = (100, 200, 300, 400, 500, 600, 800, 1000)
WORKERS = 50
STEADY_RATE = 100
URLS_PER_ENDPOINT = 50
P95_LIMIT_MS = 100.0
IDLE_SECONDS = 3.0
"""How long `one_at_a_time` watches the server idle, for its idle CPU a second."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``soundatlas serve`` on a free port, from this install or from the source tree
    ``source`` (a ``src`` folder: another version of the code, to compare)."""

    def __init__(self, atlas: Path, workers: int = 1, source: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*CLI, "serve", str(atlas), "--port", str(self.port), "--workers", str(workers)],
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(source)} if source else None,
        )
        started = time.monotonic()
        deadline = started + 900  # a sampled 10,000,000-song atlas without saved sort orders
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=2)
                self.ready_seconds = time.monotonic() - started
                # memory when ready, before any request for data (`soak` grows from here too)
                self.ready = {"PSS MiB": self.memory_mib()[1],
                              "anonymous PSS MiB": self.anonymous_pss_mib()}  # fmt: skip
                return
            except httpx.TransportError:
                time.sleep(0.3)
        raise SystemExit("server did not start")

    def memory_mib(self) -> tuple[float, float, int]:
        """RSS and PSS (MiB) summed over the server's process tree, and its process count."""
        root = psutil.Process(self.process.pid)
        rss = pss = 0
        processes = [root, *root.children(recursive=True)]
        for process in processes:
            info = process.memory_full_info()
            rss += info.rss
            pss += info.pss
        return rss / 2**20, pss / 2**20, len(processes)

    def anonymous_pss_mib(self) -> float:
        """PSS of the tree's anonymous memory (``Pss_Anon`` of /proc/PID/smaps_rollup): its
        heap and arrays, without the pages of shared libraries and files, whose share of PSS
        changes whenever other processes on the machine map or unmap the same libraries."""
        root = psutil.Process(self.process.pid)
        total = 0
        for process in (root, *root.children(recursive=True)):
            with open(f"/proc/{process.pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss_Anon:"):
                        total += int(line.split()[1])
        return total / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the server's process tree."""
        root = psutil.Process(self.process.pid)
        times = [p.cpu_times() for p in (root, *root.children(recursive=True))]
        return sum(t.user + t.system for t in times)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def endpoint_urls(
    url: str, count: int = URLS_PER_ENDPOINT, client: httpx.Client | None = None
) -> dict[str, list[str]]:
    """``count`` different URLs per endpoint, from songs of the atlas the server answers with:
    other seeds, targets, ids, queries and songs in each (a fixed random draw), so no figure
    comes from asking the same thing again. ``client``: one to ask instead of ``url`` (an
    in-process test client; the URLs still start with ``url``)."""
    rng = np.random.default_rng(0)
    items: list[dict] = []
    opened = contextlib.nullcontext(client) if client else httpx.Client(base_url=url, timeout=60)
    with opened as client:
        for letter in "aeiou":
            for offset in (0, 50, 100):
                found = client.get(
                    "/v1/search",
                    params={"q": letter, "type": "track", "limit": 50, "offset": offset},
                ).json()
                items += found["tracks"]["items"]
    ids = list(dict.fromkeys(item["id"] for item in items))
    words = sorted(
        {
            word.lower()
            for item in items
            for word in item["name"].split()
            if len(word) >= 4 and word.isalpha()
        }
    )
    if len(ids) < 2 * count or len(words) < count:
        raise SystemExit(f"the atlas gave {len(ids)} ids and {len(words)} title words: too few")
    seeds = rng.choice(ids, size=(count, 2), replace=False)
    energy = rng.uniform(0.3, 0.9, count)
    tempo = rng.integers(70, 130, count)
    return {
        "recommendations": [
            f"{url}/v1/recommendations?seed_tracks={a},{b}&target_energy={e:.2f}"
            f"&min_tempo={t}&limit=20"
            for (a, b), e, t in zip(seeds, energy, tempo, strict=True)
        ],
        "audio-features": [
            f"{url}/v1/audio-features?ids={','.join(rng.choice(ids, 100, replace=False))}"
            for _ in range(count)
        ],
        "search": [
            f"{url}/v1/search?q={quote(word)}&type=track,artist&limit=20"
            for word in rng.choice(words, count, replace=False)
        ],
        "similar": [
            f"{url}/soundatlas/v1/tracks/{track}/similar?limit=10"
            for track in rng.choice(ids, count, replace=False)
        ],
    }


@dataclass(frozen=True)
class Job:
    """One hey process: ``workers`` connections each sending ``rate`` requests a second."""

    endpoint: str
    url: str
    workers: int
    rate: float


def run_hey(jobs: list[Job], seconds: float, starts: list[float]) -> dict[str, dict]:
    """Run every job's hey, the i-th started ``starts[i]`` seconds after the first; statistics
    per endpoint and over all (``"all"``) from hey's per-request CSV rows."""
    processes: list[tuple[Job, subprocess.Popen]] = []
    start = time.monotonic()
    for number in sorted(range(len(jobs)), key=starts.__getitem__):
        job = jobs[number]
        delay = start + starts[number] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        command = ["hey", "-z", f"{seconds}s", "-c", str(job.workers), "-q", f"{job.rate:g}",
                   "-cpus", "1", "-o", "csv", job.url]  # fmt: skip
        processes.append((job, subprocess.Popen(command, stdout=subprocess.PIPE,
                                                stderr=subprocess.DEVNULL, text=True)))  # fmt: skip
    times: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    offered: dict[str, float] = {}
    for job, process in processes:
        out, _ = process.communicate(timeout=seconds + 120)
        offered[job.endpoint] = offered.get(job.endpoint, 0.0) + job.workers * job.rate
        for row in csv.DictReader(io.StringIO(out)):
            times.setdefault(job.endpoint, []).append(float(row["response-time"]) * 1000)
            errors[job.endpoint] = errors.get(job.endpoint, 0) + (row["status-code"] != "200")
    names = list(offered)
    stats = {name: _stats(times.get(name, []), errors.get(name, 0), offered[name], seconds)
             for name in names}  # fmt: skip
    every = [t for name in names for t in times.get(name, [])]
    stats["all"] = _stats(every, sum(errors.values()), sum(offered.values()), seconds)
    return stats


def _stats(times: list[float], errors: int, offered: float, seconds: float) -> dict:
    found = np.asarray(times)

    def percentile(q: float) -> float:
        return float(np.percentile(found, q)) if len(found) else float("nan")

    return {"offered/s": offered, "answered/s": len(found) / seconds, "p50": percentile(50),
            "p95": percentile(95), "p99": percentile(99), "errors": errors,
            "requests": len(found)}  # fmt: skip


def one_at_a_time(server: Server, urls: dict[str, list[str]], count: int = 200) -> list[dict]:
    """Each endpoint ``count`` times, one request after another, cycling through its URLs
    (``hey -n 4 -c 1`` per URL): the latency of a request with no queue in front of it, and the
    server's CPU time per request (its process tree's user + system time over the run), which
    a busy machine changes far less than it changes latency.

    That CPU time includes what the server spends idle meanwhile (each worker's event loop
    wakes 10 times a second, its atlas watcher once; measured over `IDLE_SECONDS` first and
    given as ``of which idle µs``), and each request meets a process that was asleep: the same
    code then costs more CPU than back to back (``benchmarks/api_overhead.py``)."""
    before, clock = server.cpu_seconds(), time.monotonic()
    time.sleep(IDLE_SECONDS)
    idle_rate = (server.cpu_seconds() - before) / (time.monotonic() - clock)
    rows = []
    for name, variants in urls.items():
        found: list[float] = []
        before, clock = server.cpu_seconds(), time.monotonic()
        for url in (variants * count)[: count // 4]:
            out = subprocess.run(
                ["hey", "-n", "4", "-c", "1", "-o", "csv", url],
                capture_output=True, text=True, check=True, timeout=600,
            ).stdout  # fmt: skip
            found += [float(r["response-time"]) * 1000 for r in csv.DictReader(io.StringIO(out))]
        cpu = 1000 * (server.cpu_seconds() - before) / len(found)
        idle = 1e6 * idle_rate * (time.monotonic() - clock) / len(found)
        rows.append({"endpoint": name, "p50": float(np.percentile(found, 50)),
                     "p95": float(np.percentile(found, 95)), "server CPU ms": cpu,
                     "of which idle µs": idle})  # fmt: skip
    return rows


def split(workers: int) -> dict[str, int]:
    return {name: max(1, round(share * workers)) for name, share in MIX.items()}


def phase_locked(urls: dict[str, list[str]], name: str, rate: float) -> list[Job]:
    """``hey -c 50 -q rate/50`` on one URL per endpoint: the 50 workers tick together, so the
    requests arrive in bursts of 50."""
    if name != "mix":
        return [Job(name, urls[name][0], WORKERS, rate / WORKERS)]
    return [Job(n, urls[n][0], k, rate / WORKERS) for n, k in split(WORKERS).items()]


def spread(urls: dict[str, list[str]], name: str, rate: float) -> list[Job]:
    """50 ``hey -c 1 -q rate/50``, each on its own URL; started 1/rate seconds apart, so
    together they send one request every 1/rate seconds."""
    if name != "mix":
        return [Job(name, url, 1, rate / WORKERS) for url in urls[name][:WORKERS]]
    return [Job(n, url, 1, rate / WORKERS) for n, k in split(WORKERS).items()
            for url in urls[n][:k]]  # fmt: skip


def evenly(jobs: list[Job], rate: float) -> list[float]:
    """Start times 1/rate seconds apart: together the jobs send one request every 1/rate s."""
    return [number / rate for number in range(len(jobs))]


def random_phases(jobs: list[Job], seed: int) -> list[float]:
    """Start times drawn uniformly within each job's period (1/its rate), as independent
    clients' would be: some requests arrive together, some apart (seeded, so runs compare)."""
    draw = np.random.default_rng(seed)
    return [float(draw.uniform(0, 1 / job.rate)) for job in jobs]


ARRIVALS = {
    "phase-locked": "hey -c 50 -q 2",
    "spread": "50 x hey -c 1 -q 2, 10 ms apart",
    "random phases": "50 x hey -c 1 -q 2, each started at a random point of its 0.5 s period",
}


def steady(urls: dict[str, list[str]], seconds: float, arrivals: str) -> list[dict]:
    """100 requests/s for ``seconds`` on each endpoint and on the mix (with the mix's rows
    per endpoint), ``arrivals`` one of `ARRIVALS`."""
    rows = []
    for number, name in enumerate([*urls, "mix"]):
        if arrivals == "phase-locked":
            jobs = phase_locked(urls, name, STEADY_RATE)
            found = run_hey(jobs, seconds, [0.0] * len(jobs))
        else:
            jobs = spread(urls, name, STEADY_RATE)
            starts = (
                evenly(jobs, STEADY_RATE) if arrivals == "spread" else random_phases(jobs, number)
            )
            found = run_hey(jobs, seconds, starts)
        rows.append({"endpoint": name, **found["all"]})
        if name == "mix":
            rows += [{"endpoint": f"  mix: {n}", **found[n]} for n in urls]
    return rows


def saturation(urls: dict[str, list[str]], seconds: float) -> list[dict]:
    """The highest rate of `RATES` (spread arrivals) with p95 ≤ 100 ms, no error and ≥ 90% of
    the offered requests answered, per endpoint and for the mix."""
    rows = []
    for name in [*urls, "mix"]:
        best = None
        for rate in RATES:
            jobs = spread(urls, name, rate)
            found = run_hey(jobs, seconds, evenly(jobs, rate))["all"]
            held = (
                found["p95"] <= P95_LIMIT_MS
                and found["errors"] == 0
                and found["answered/s"] >= 0.9 * found["offered/s"]
            )
            print(f"  {name} at {rate}/s: p95 {found['p95']:.1f} ms, "
                  f"{found['answered/s']:.0f}/s answered, {found['errors']} errors",
                  file=sys.stderr)  # fmt: skip
            if not held:
                break
            best = {"endpoint": name, "sustained/s": rate, **found}
        rows.append(best or {"endpoint": name, "sustained/s": 0})
    return rows


def soak(server: Server, urls: dict[str, list[str]], minutes: float) -> list[dict]:
    """The mix at 100 requests/s (spread arrivals) for ``minutes``; the server's PSS when it is
    ready (`Server.ready`: before any request for data), at the start
    (every URL answered once) and every minute, and the latency over the whole run. Growth is
    given from both: from ready it includes what the first requests build or copy."""

    def memory(minute: float | str) -> dict:
        return {"minute": minute, "PSS MiB": server.memory_mib()[1],
                "anonymous PSS MiB": server.anonymous_pss_mib()}  # fmt: skip

    ready = {"minute": "ready", **server.ready}
    with httpx.Client(timeout=60) as client:
        for variants in urls.values():
            for url in variants:
                client.get(url)
    rows = [ready, memory(0.0)]
    jobs = spread(urls, "mix", STEADY_RATE)
    found: dict[str, dict] = {}
    load = threading.Thread(
        target=lambda: found.update(run_hey(jobs, minutes * 60, evenly(jobs, STEADY_RATE)))
    )
    started = time.monotonic()
    load.start()
    while load.is_alive():
        load.join(timeout=60)
        rows.append(memory((time.monotonic() - started) / 60))
    for key in ("PSS MiB", "anonymous PSS MiB"):
        for start, when in ((rows[1], "every URL answered once"), (rows[0], "ready")):
            growth = 100 * (rows[-1][key] / start[key] - 1)
            print(f"\nsoak: {key.removesuffix(' MiB')} {start[key]:.0f} -> {rows[-1][key]:.0f} "
                  f"MiB ({growth:+.1f}%) from {when}")  # fmt: skip
    table([{"endpoint": name, **values} for name, values in found.items()], "Soak latency")
    return rows


def breakdown(atlas_dir: Path, repeats: int = URLS_PER_ENDPOINT) -> list[dict]:
    """Median milliseconds per step of each endpoint in one process (no HTTP), each of
    ``repeats`` calls with other seeds, ids, queries or songs: the library calls the routes
    make, formatting the objects, and JSON encoding."""
    import orjson
    from threadpoolctl import threadpool_limits

    from soundatlas import load_atlas
    from soundatlas.api.holder import warmed
    from soundatlas.api.native import column_records
    from soundatlas.api.objects import AUDIO_FEATURE_FIELDS, audio_features_of, track_object
    from soundatlas.discovery import (
        PlaylistRequest,
        playlist_rows,
        search_page,
        seed_pools,
        similar_columns,
        song_values,
    )
    from soundatlas.discovery.index import discovery_index

    threadpool_limits(limits=1)  # as the server runs
    atlas = warmed(load_atlas(atlas_dir))
    index = discovery_index(atlas)
    rng = np.random.default_rng(0)
    rows_ = rng.choice(index.size, size=(repeats, 100), replace=False)
    ids = [[str(index.ids[r]) for r in drawn] for drawn in rows_]
    words = [str(index.names[r]).split()[0].lower() for r in rows_[:, 0]]
    base = "http://127.0.0.1"

    def timed(step) -> tuple[float, list]:
        samples, results = [], []
        for number in range(repeats):
            clock = time.perf_counter()
            results.append(step(number))
            samples.append(time.perf_counter() - clock)
        return 1000 * float(np.median(samples)), results

    def request(number: int) -> PlaylistRequest:
        return PlaylistRequest(method=None, seeds=tuple(ids[number][:2]),
                               target={"energy": 0.7}, minimum={"tempo": 90})  # fmt: skip

    found = []
    chosen, lists = timed(lambda n: playlist_rows(atlas, request(n)))
    pools, _ = timed(lambda n: seed_pools(atlas, request(n)))
    shaping, objects = timed(lambda n: [track_object(base, s) for s in index.songs(lists[n])])
    encoding, _ = timed(lambda n: orjson.dumps({"tracks": objects[n]}))
    found.append({"endpoint": "recommendations", "library": chosen + pools,
                  "objects": shaping, "json": encoding})  # fmt: skip
    library, values = timed(lambda n: song_values(atlas, ids[n], AUDIO_FEATURE_FIELDS))
    pairs = [list(zip(ids[n], values[n], strict=True)) for n in range(repeats)]
    shaping, objects = timed(lambda n: [audio_features_of(base, t, v) for t, v in pairs[n]])
    encoding, _ = timed(lambda n: orjson.dumps(objects[n]))
    found.append({"endpoint": "audio-features", "library": library, "objects": shaping,
                  "json": encoding})  # fmt: skip
    library, pages = timed(lambda n: search_page(atlas, words[n], limit=20))
    shaping, objects = timed(lambda n: [track_object(base, s) for s in pages[n].songs])
    encoding, _ = timed(lambda n: orjson.dumps(objects[n]))
    found.append({"endpoint": "search", "library": library, "objects": shaping,
                  "json": encoding})  # fmt: skip
    library, tables = timed(lambda n: similar_columns(atlas, [int(rows_[n, 0])], n=10))
    shaping, objects = timed(lambda n: column_records(tables[n]))
    encoding, _ = timed(lambda n: orjson.dumps({"items": objects[n]}))
    found.append({"endpoint": "similar", "library": library, "objects": shaping,
                  "json": encoding})  # fmt: skip
    return found


def table(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    if not rows:
        return
    keys = list(dict.fromkeys(k for row in rows for k in row))
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        cells = [
            f"{v:.1f}" if isinstance(v, float) else str(v) for v in (row.get(k, "") for k in keys)
        ]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("atlas", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--steady", action="store_true")
    parser.add_argument("--saturation", action="store_true")
    parser.add_argument("--soak", type=float, default=0.0, metavar="MINUTES")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="server workers under load")
    parser.add_argument(
        "--memory-workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 4],
        help="worker counts --memory measures (comma-separated)",
    )
    parser.add_argument(
        "--source", type=Path, help="serve from this src folder (e.g. an older commit's)"
    )
    options = parser.parse_args()
    loaded = options.steady or options.saturation or options.soak > 0
    if loaded and shutil.which("hey") is None:
        raise SystemExit("needs Debian's hey: apt-get install hey")
    print(f"atlas {options.atlas}; {os.cpu_count()} cores; load average {os.getloadavg()}")
    if loaded:
        server = Server(options.atlas, options.workers, options.source)
        print(f"server: {options.workers} worker(s), ready in {server.ready_seconds:.1f} s")
        try:
            urls = endpoint_urls(server.url)
            if options.steady:
                table(one_at_a_time(server, urls), "One request at a time (ms)")
                for arrivals, how in ARRIVALS.items():
                    rows = steady(urls, options.seconds, arrivals)
                    table(rows, f"Steady, {arrivals}: {how} (100 requests/s)")
            if options.saturation:
                rows = saturation(urls, options.seconds)
                table(rows, "Saturation (spread): p95 <= 100 ms, 0 errors")
            if options.soak > 0:
                table(soak(server, urls, options.soak), "Soak: server PSS")
            rss, pss, count = server.memory_mib()
            print(f"\nserver after the load: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB")
            print(f"load average at the end {os.getloadavg()}")
        finally:
            server.stop()
    if options.memory:
        rows = []
        for workers in options.memory_workers:
            server = Server(options.atlas, workers)
            try:
                urls = endpoint_urls(server.url)
                with httpx.Client() as client:
                    for number in range(20 * workers):  # spread over the workers
                        for variants in urls.values():
                            client.get(variants[number % len(variants)], timeout=60,
                                       headers={"Connection": "close"})  # fmt: skip
                rss, pss, count = server.memory_mib()
                rows.append({"workers": workers, "processes": count, "RSS MiB": rss,
                             "PSS MiB": pss, "ready s": server.ready_seconds})  # fmt: skip
            finally:
                server.stop()
        table(rows, "Memory of the server's process tree")
    if options.breakdown:
        table(breakdown(options.atlas), "Where the time goes (median ms, in one process)")


if __name__ == "__main__":
    main()
