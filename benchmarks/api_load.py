"""Load on ``soundatlas serve`` over loopback: steady offered rate, saturation, memory.

The server runs ``soundatlas serve ATLAS`` on 127.0.0.1 (a free port); the load client is
Debian's ``hey`` (``apt-get install hey``): a protocol-level Go client that keeps an *open* rate
per worker (``-q`` requests a second each, ``-c`` workers), so latency is measured at a fixed
offered rate instead of being connections ÷ throughput, and writes every request's time with
``-o csv`` (percentiles here are computed from those rows, not hey's histogram). It runs on the
same 2 cores as the server, as any client on this machine must.

Endpoints (each one URL, the same every request):

- ``recommendations``: two seed tracks, ``target_energy``, ``min_tempo``, ``limit=20``;
- ``audio-features``: 100 ids;
- ``search``: ``q=love&type=track,artist&limit=20``;
- ``similar``: ``/soundatlas/v1/tracks/ID/similar?limit=10``;
- ``mix``: the four at once in the shares `MIX` (one hey per endpoint, workers split).

``--steady``: first each endpoint 200 times one request at a time (the cost of a request with
no queue), then 50 workers × 2 requests a second (100 requests/s offered) for ``--seconds``.
``--saturation``: the offered rate rises through `RATES` (``--seconds`` each) until p95 exceeds
100 ms, a request fails, or fewer than 90% of the offered requests are answered; the table
gives the highest rate that held. ``--memory``: RSS and PSS of the server's process tree with 1
and with 4 workers, after every worker has answered requests. ``--breakdown``: in one process,
where an endpoint's time goes (library call, formatting the Spotify objects, JSON encoding).

Usage::

    soundatlas demo --size 95837 -o /tmp/demo95k
    python benchmarks/api_load.py /tmp/demo95k --steady --saturation --memory --seconds 10
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

CLI = (sys.executable, "-c", "from soundatlas.cli import main; main()")
MIX = {"recommendations": 0.4, "audio-features": 0.2, "search": 0.2, "similar": 0.2}
RATES = (100, 200, 300, 400, 500, 600, 800)
WORKERS = 50
P95_LIMIT_MS = 100.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, atlas: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*CLI, "serve", str(atlas), "--port", str(self.port), "--workers", str(workers)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=2)
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

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def endpoint_urls(url: str) -> dict[str, str]:
    """One URL per endpoint, from the atlas the server answers with."""
    found = httpx.get(f"{url}/v1/search", params={"q": "a", "type": "track", "limit": 50}).json()
    ids = [t["id"] for t in found["tracks"]["items"]]
    more = httpx.get(
        f"{url}/v1/search", params={"q": "e", "type": "track", "limit": 50, "offset": 50}
    ).json()
    ids += [t["id"] for t in more["tracks"]["items"]]
    ids = (ids * 3)[:100]
    return {
        "recommendations": f"{url}/v1/recommendations?seed_tracks={ids[0]},{ids[1]}"
        "&target_energy=0.7&min_tempo=90&limit=20",
        "audio-features": f"{url}/v1/audio-features?ids={','.join(ids)}",
        "search": f"{url}/v1/search?q=love&type=track,artist&limit=20",
        "similar": f"{url}/soundatlas/v1/tracks/{ids[2]}/similar?limit=10",
    }


def hey(urls: dict[str, tuple[str, int]], rate_each: float, seconds: float) -> dict:
    """Run one hey per endpoint at once (``workers`` each, ``rate_each`` requests a second per
    worker); per-request times and statuses from their CSV output."""
    processes = {
        name: subprocess.Popen(
            ["hey", "-z", f"{seconds}s", "-c", str(workers), "-q", f"{rate_each:g}",
             "-o", "csv", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for name, (url, workers) in urls.items()
    }  # fmt: skip
    times, statuses = [], []
    for process in processes.values():
        out, _ = process.communicate(timeout=seconds + 120)
        for row in csv.DictReader(io.StringIO(out)):
            times.append(float(row["response-time"]) * 1000)
            statuses.append(int(row["status-code"]))
    offered = sum(w for _, w in urls.values()) * rate_each * seconds
    times_ms = np.asarray(times)
    errors = sum(1 for s in statuses if s != 200)
    return {
        "offered/s": offered / seconds,
        "answered/s": len(times) / seconds,
        "p50": float(np.percentile(times_ms, 50)) if len(times) else float("nan"),
        "p95": float(np.percentile(times_ms, 95)) if len(times) else float("nan"),
        "p99": float(np.percentile(times_ms, 99)) if len(times) else float("nan"),
        "errors": errors,
        "requests": len(times),
    }


def one_at_a_time(urls: dict[str, str], count: int = 200) -> list[dict]:
    """Each endpoint ``count`` times, one request after another (hey -n COUNT -c 1): the cost
    of a request with no queue in front of it."""
    rows = []
    for name, url in urls.items():
        out = subprocess.run(
            ["hey", "-n", str(count), "-c", "1", "-o", "csv", url],
            capture_output=True, text=True, check=True, timeout=600,
        ).stdout  # fmt: skip
        found = [float(r["response-time"]) * 1000 for r in csv.DictReader(io.StringIO(out))]
        rows.append({"endpoint": name, "p50": float(np.percentile(found, 50)),
                     "p95": float(np.percentile(found, 95))})  # fmt: skip
    return rows


def split(workers: int) -> dict[str, int]:
    return {name: max(1, round(share * workers)) for name, share in MIX.items()}


def steady(urls: dict[str, str], seconds: float) -> list[dict]:
    rows = []
    for name, url in urls.items():
        rows.append({"endpoint": name, **hey({name: (url, WORKERS)}, 2, seconds)})
    mix = {name: (urls[name], n) for name, n in split(WORKERS).items()}
    rows.append({"endpoint": "mix", **hey(mix, 2, seconds)})
    return rows


def saturation(urls: dict[str, str], seconds: float) -> list[dict]:
    rows = []
    for name in [*urls, "mix"]:
        best = None
        for rate in RATES:
            each = rate / WORKERS
            targets = (
                {name: (urls[name], WORKERS)}
                if name != "mix"
                else {n: (urls[n], k) for n, k in split(WORKERS).items()}
            )
            found = hey(targets, each, seconds)
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


def breakdown(atlas_dir: Path, repeats: int = 50) -> list[dict]:
    """Median milliseconds per step of each endpoint, in one process (no HTTP)."""
    from threadpoolctl import threadpool_limits

    from soundatlas import load_atlas
    from soundatlas.api.objects import audio_features_object, track_object
    from soundatlas.discovery import (
        PlaylistRequest,
        find_songs,
        generate_playlist,
        search,
        seed_pools,
        similar_tracks,
    )
    from soundatlas.discovery.index import discovery_index

    threadpool_limits(limits=1)  # as the server runs
    atlas = load_atlas(atlas_dir)
    index = discovery_index(atlas)
    ids = [str(i) for i in index.ids[:100]]
    base = "http://127.0.0.1"

    def timed(step) -> tuple[float, object]:
        samples, result = [], None
        for _ in range(repeats):
            clock = time.perf_counter()
            result = step()
            samples.append(time.perf_counter() - clock)
        return 1000 * float(np.median(samples)), result

    rows = []
    request = PlaylistRequest(
        method=None, seeds=tuple(ids[:2]), target={"energy": 0.7}, minimum={"tempo": 90}
    )
    library, playlist = timed(
        lambda: (generate_playlist(atlas, request), seed_pools(atlas, request))
    )
    rows_ = playlist[0].tracks["row"].tolist()
    shaping, objects = timed(lambda: [track_object(base, index.song(r)) for r in rows_])
    encoding, _ = timed(lambda: json.dumps({"tracks": objects}))
    rows.append({"endpoint": "recommendations", "library": library, "objects": shaping,
                 "json": encoding})  # fmt: skip
    library, songs = timed(lambda: find_songs(atlas, ids))
    shaping, objects = timed(lambda: [audio_features_object(base, s) for s in songs])
    encoding, _ = timed(lambda: json.dumps(objects))
    rows.append({"endpoint": "audio-features", "library": library, "objects": shaping,
                 "json": encoding})  # fmt: skip
    library, found = timed(lambda: search(atlas, "love", limit=20))
    songs = find_songs(atlas, found.songs["track_id"].tolist())
    shaping, objects = timed(lambda: [track_object(base, s) for s in songs])
    encoding, _ = timed(lambda: json.dumps(objects))
    rows.append({"endpoint": "search", "library": library, "objects": shaping, "json": encoding})
    library, similar = timed(lambda: similar_tracks(atlas, 2, n=10))
    shaping, _ = timed(lambda: similar.to_json(orient="records"))
    rows.append({"endpoint": "similar", "library": library, "objects": shaping, "json": 0.0})
    return rows


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
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="server workers under load")
    options = parser.parse_args()
    if (options.steady or options.saturation) and shutil.which("hey") is None:
        raise SystemExit("needs Debian's hey: apt-get install hey")
    print(f"atlas {options.atlas}; {os.cpu_count()} cores; load average {os.getloadavg()}")
    if options.steady or options.saturation:
        server = Server(options.atlas, options.workers)
        print(f"server: {options.workers} worker(s)")
        try:
            urls = endpoint_urls(server.url)
            if options.steady:
                table(one_at_a_time(urls), "One request at a time (ms)")
                table(steady(urls, options.seconds), "Steady: 50 workers x 2 requests/s")
            if options.saturation:
                table(saturation(urls, options.seconds), "Saturation: p95 <= 100 ms, 0 errors")
            rss, pss, count = server.memory_mib()
            print(f"\nserver after the load: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB")
        finally:
            server.stop()
    if options.memory:
        rows = []
        for workers in (1, 4):
            server = Server(options.atlas, workers)
            try:
                urls = endpoint_urls(server.url)
                with httpx.Client() as client:
                    for _ in range(20 * workers):  # spread over the workers
                        for url in urls.values():
                            client.get(url, timeout=60, headers={"Connection": "close"})
                rss, pss, count = server.memory_mib()
                rows.append({"workers": workers, "processes": count, "RSS MiB": rss,
                             "PSS MiB": pss})  # fmt: skip
            finally:
                server.stop()
        table(rows, "Memory of the server's process tree")
    if options.breakdown:
        table(breakdown(options.atlas), "Where the time goes (median ms, in one process)")


if __name__ == "__main__":
    main()
