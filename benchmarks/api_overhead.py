"""Where a request's server CPU goes between the socket and the route: the route itself, the
ASGI app around it (middleware, routing, dependencies, the response) and the HTTP server.

In one process, with one BLAS thread as ``serve`` runs, the API (`soundatlas.api.create_app`)
answers each endpoint's varied URLs (`api_load.endpoint_urls`: the same as the load test's) by
calling the ASGI app directly on uvloop, no socket: CPU per request (``time.process_time``)

- ``route``: inside the route function (the library, the Spotify objects, JSON encoding), timed
  around FastAPI's ``run_endpoint_function``;
- ``app``: the whole ASGI app (the guard, FastAPI's middleware, routing, the query and context
  dependencies, the response's messages);
- ``framework`` = ``app`` − ``route``;
- ``app after idle``: the whole app again, each request after `IDLE` seconds asleep (as a
  request one at a time finds the process: it waited in the event loop, other processes ran
  meanwhile). The same code costs more CPU then; measured here without any socket, so that
  share of the one-at-a-time server figure is not the HTTP server's.

``--server``: also ``soundatlas serve`` (``--workers``) on loopback, each URL sent ``--per``
times on one connection (``hey -n PER -c 1``, one request at a time, as ``api_load.py
--steady``'s first table), the server process tree's CPU per request (psutil, user and system)
beside it: ``HTTP`` = ``server`` − ``app`` holds the HTTP server's share (parsing, writing, a
new connection every ``PER`` requests), idle workers' wake-ups over the run, and what a request
costs more in a process woken from sleep (compare ``app after idle``): on this 2-core machine
the last was most of it; back to back on one keep-alive connection (``--per 40``) ``HTTP``
was within the noise of zero.

Usage::

    python benchmarks/api_overhead.py ATLAS [--server] [--workers 2] [--per 4] [--rounds 4]
    git archive OLD src | tar -x -C /tmp/old  # beside an older version, on the same load
    python benchmarks/api_overhead.py ATLAS --server --compare /tmp/old/src
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from api_load import Server, endpoint_urls, table

BASE = "http://127.0.0.1:8000"
IDLE = 0.005
"""Seconds asleep before each request of ``app after idle``: a gap between requests at
100 requests/s over two workers is 20 ms, one at a time with hey 2-10 ms."""


def in_process(atlas: Path, rounds: int) -> tuple[dict[str, list[str]], list[dict]]:
    """The endpoints' URLs and, per endpoint, the median ``route`` and ``app`` CPU ms."""
    import fastapi.routing
    from starlette.testclient import TestClient
    from threadpoolctl import threadpool_limits

    from soundatlas.api import create_app
    from soundatlas.cli.serve_commands import one_blas_thread

    one_blas_thread()
    threadpool_limits(limits=1)
    app = create_app(atlas, poll=0)
    spent = [0.0]
    # FastAPI calls every endpoint through this module-level function (looked up per call)
    fastapi.routing.run_endpoint_function = _timed(fastapi.routing.run_endpoint_function, spent)
    with TestClient(app, base_url=BASE) as client:
        urls = endpoint_urls(BASE, client=client)
    import uvloop

    rows = []
    for name, variants in urls.items():
        route_ms, app_ms = uvloop.run(_answer_all(app, variants * rounds, spent))
        _, idle_ms = uvloop.run(_answer_all(app, variants, spent, idle=IDLE))
        rows.append({"endpoint": name, "route": route_ms, "app": app_ms,
                     "framework": app_ms - route_ms, "app after idle": idle_ms})  # fmt: skip
    return urls, rows


def _timed(call, spent: list[float]):
    @functools.wraps(call)
    async def timed(**values):
        start = time.process_time()
        try:
            return await call(**values)
        finally:
            spent[0] += time.process_time() - start

    return timed


async def _answer_all(
    app, urls: list[str], spent: list[float], idle: float = 0.0
) -> tuple[float, float]:
    """Median CPU ms per request inside the routes and in the whole app, over ``urls``, each
    after ``idle`` seconds asleep."""
    route, whole = [], []
    for url in [urls[0], *urls]:  # the first once more, untimed: a warm start
        if idle:
            await asyncio.sleep(idle)
        parts = urlsplit(url)
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": parts.path,
                 "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
                 "root_path": "", "headers": [(b"host", parts.netloc.encode())],
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}  # fmt: skip
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message, sent=sent):
            sent.append(message)

        spent[0] = 0.0
        start = time.process_time()
        await app(scope, receive, send)
        whole.append(time.process_time() - start)
        route.append(spent[0])
        if sent[0]["status"] != 200:
            raise SystemExit(f"{url}: status {sent[0]['status']}")
    return 1000 * float(np.median(route[1:])), 1000 * float(np.median(whole[1:]))


def over_http(
    atlas: Path, urls: dict[str, list[str]], workers: int, per: int, sources: list[Path | None]
) -> list[dict[str, tuple[float, float]]]:
    """Server CPU ms per request (user, system) of ``serve`` on loopback, one at a time, for
    each of ``sources`` (a ``src`` folder of another version; None: this one): every server
    runs at once and each URL is sent to each in turn, so they meet the same load from other
    work."""
    servers = [Server(atlas, workers, source) for source in sources]
    found: list[dict[str, tuple[float, float]]] = [{} for _ in servers]
    try:
        for name, variants in urls.items():
            before = [_times(server) for server in servers]
            for variant in variants:
                for server in servers:
                    subprocess.run(["hey", "-n", str(per), "-c", "1",
                                    server.url + variant.removeprefix(BASE)],
                                   capture_output=True, check=True, timeout=600)  # fmt: skip
            count = per * len(variants)
            for number, server in enumerate(servers):
                (user, system), (user0, system0) = _times(server), before[number]
                found[number][name] = (1000 * (user - user0) / count,
                                       1000 * (system - system0) / count)  # fmt: skip
    finally:
        for server in servers:
            server.stop()
    return found


def _times(server: Server) -> tuple[float, float]:
    import psutil

    root = psutil.Process(server.process.pid)
    times = [p.cpu_times() for p in (root, *root.children(recursive=True))]
    return sum(t.user for t in times), sum(t.system for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("atlas", type=Path)
    parser.add_argument("--rounds", type=int, default=4, help="times each URL is answered")
    parser.add_argument("--server", action="store_true", help="also over HTTP (needs hey)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--per", type=int, default=4, help="requests per connection")
    parser.add_argument(
        "--compare", type=Path, help="with --server: also serve from this src folder (e.g. an "
        "older commit's), each URL sent to both in turn"
    )  # fmt: skip
    options = parser.parse_args()
    urls, rows = in_process(options.atlas, options.rounds)
    if options.server:
        sources = [None, options.compare] if options.compare else [None]
        served = over_http(options.atlas, urls, options.workers, options.per, sources)
        for row in rows:
            user, system = served[0][row["endpoint"]]
            row.update({"server user": user, "server system": system,
                        "server": user + system, "HTTP": user + system - row["app"]})  # fmt: skip
            if options.compare:
                user, system = served[1][row["endpoint"]]
                row.update({"compared: server user": user, "compared: server system": system,
                            "compared: server": user + system})  # fmt: skip
    shown = [{k: f"{v:.2f}" if isinstance(v, float) else v for k, v in row.items()} for row in rows]
    table(shown, "CPU ms per request (median in process; server: mean over the run)")


if __name__ == "__main__":
    main()
