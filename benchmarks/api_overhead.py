"""Where a request's server CPU goes between the socket and the route: the route itself, the
ASGI app around it (middleware, routing, dependencies, the response) and the HTTP server.

In one process, with one BLAS thread as ``serve`` runs, the API (`soundatlas.api.create_app`)
answers each endpoint's varied URLs (`api_load.endpoint_urls`: the same as the load test's) by
calling the ASGI app directly on uvloop, no socket: CPU per request (``time.process_time``)

- ``route``: inside the route function (the library, the Spotify objects, JSON encoding), timed
  around FastAPI's ``run_endpoint_function``;
- ``app``: the whole ASGI app (the guard, FastAPI's middleware, routing, the query and context
  dependencies, the response's messages);
- ``framework`` = ``app`` − ``route``.

``--server``: also ``soundatlas serve`` (``--workers``) on loopback, each URL sent ``--per``
times on one connection (``hey -n PER -c 1``, one request at a time, as ``api_load.py
--steady``'s first table), the server process tree's CPU per request (psutil, user and system)
beside it: ``HTTP`` = ``server`` − ``app`` is the server's share (parsing, writing, the event
loop's wake-up for each request, the connection's setup over ``PER`` requests).

Usage::

    python benchmarks/api_overhead.py ATLAS [--server] [--workers 2] [--per 4] [--rounds 4]
"""

from __future__ import annotations

import argparse
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
        rows.append({"endpoint": name, "route": route_ms, "app": app_ms,
                     "framework": app_ms - route_ms})  # fmt: skip
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


async def _answer_all(app, urls: list[str], spent: list[float]) -> tuple[float, float]:
    """Median CPU ms per request inside the routes and in the whole app, over ``urls``."""
    route, whole = [], []
    for url in [urls[0], *urls]:  # the first once more, untimed: a warm start
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


def over_http(atlas: Path, urls: dict[str, list[str]], workers: int, per: int) -> dict:
    """Server CPU ms per request (user, system) of ``serve`` on loopback, one at a time."""
    server = Server(atlas, workers)
    found = {}
    try:
        for name, variants in urls.items():
            variants = [server.url + v.removeprefix(BASE) for v in variants]
            before = _times(server)
            for url in variants:
                subprocess.run(["hey", "-n", str(per), "-c", "1", url],
                               capture_output=True, check=True, timeout=600)  # fmt: skip
            after = _times(server)
            count = per * len(variants)
            found[name] = [1000 * (a - b) / count for a, b in zip(after, before, strict=True)]
    finally:
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
    options = parser.parse_args()
    urls, rows = in_process(options.atlas, options.rounds)
    if options.server:
        served = over_http(options.atlas, urls, options.workers, options.per)
        for row in rows:
            user, system = served[row["endpoint"]]
            row.update({"server user": user, "server system": system,
                        "server": user + system, "HTTP": user + system - row["app"]})  # fmt: skip
    shown = [{k: f"{v:.2f}" if isinstance(v, float) else v for k, v in row.items()} for row in rows]
    table(shown, "CPU ms per request (median in process; server: mean over the run)")


if __name__ == "__main__":
    main()
