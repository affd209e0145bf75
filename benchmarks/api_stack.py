"""What the HTTP stack costs a request of ``soundatlas serve``: server CPU per request, by ASGI
server, for a bare ASGI app, a trivial FastAPI route and each real endpoint.

Each stack serves the API (`soundatlas.api.create_app`) from one process on a free loopback
port, with two more routes mounted in front of it for this benchmark only:

- ``/bench/bare``: a plain ASGI callable answering ``{}`` (the server alone: parsing the
  request, writing the answer, the event loop);
- ``/bench/trivial``: a FastAPI route without parameters answering ``{}`` through the app's
  middleware (the server plus FastAPI's routing and the guard).

Every stack runs at once; for each route Debian's ``hey`` sends ``--requests`` requests to each
over 10 keep-alive connections (``hey -n N -c 10``; the real endpoints cycle through 10 of
`api_load.endpoint_urls`' varied URLs, ``N/10`` requests each, the stacks taking turns URL by
URL), and the server's CPU seconds (user + system of its process, threads included, from
psutil) before and after give its CPU per request. CPU time is what other work on the same
cores disturbs least; wall time is not reported.

Stacks (``--stacks``): ``h11`` (uvicorn with h11, what ``serve`` ran before), ``httptools``
(uvicorn with httptools), ``serve`` (uvicorn with `soundatlas.api.protocol`'s httptools
protocol, what ``serve`` runs), ``granian`` (Granian's Rust HTTP server, ASGI interface, one
runtime thread; ``pip install granian``), each on uvloop. ``NAME@OLD/src`` runs a stack on
another version of the code, to compare side by side (``git archive COMMIT src | tar -x -C
OLD``).

Usage::

    python benchmarks/api_stack.py ATLAS [--stacks h11,httptools,serve,granian] [--requests 2000]
    python benchmarks/api_stack.py ATLAS --stacks h11@/tmp/old/src,serve  # before, after
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from api_load import endpoint_urls, free_port

STACKS = ("h11", "httptools", "serve", "granian")
CONNECTIONS = 10
URLS = 10


def build_app(atlas: str):
    """The API app with the benchmark's two extra routes in front of it."""
    from fastapi import FastAPI
    from fastapi.responses import Response

    from soundatlas.api import create_app

    api = create_app(atlas, poll=0)

    async def bare(scope, receive, send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})

    trivial = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @trivial.get("/bench/trivial")
    async def nothing() -> Response:
        return Response(b"{}", media_type="application/json")

    guarded_trivial = api.user_middleware  # the same middleware stack as the API
    for middleware in reversed(guarded_trivial):
        trivial.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)

    async def app(scope, receive, send) -> None:
        path = scope.get("path", "")
        if path == "/bench/bare":
            await bare(scope, receive, send)
        elif path == "/bench/trivial":
            await trivial(scope, receive, send)
        else:
            await api(scope, receive, send)

    return app


def serve(stack: str, atlas: str, port: int) -> None:
    """Serve the app with ``stack`` on ``port`` in this process until killed."""
    from soundatlas.cli.serve_commands import one_blas_thread

    one_blas_thread()
    app = build_app(atlas)
    if stack == "granian":
        import uvloop
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings
        from granian.server.embed import Server

        server = Server(
            app,
            address="127.0.0.1",
            port=port,
            interface=Interfaces.ASGI,
            runtime_threads=1,
            http1_settings=HTTP1Settings(max_buffer_size=1 << 20),
            log_level="warning",
        )
        uvloop.run(server.serve())
        return
    import uvicorn

    options: dict = {"http": stack}
    if stack == "h11":
        options["h11_max_incomplete_event_size"] = 1 << 20
    elif stack == "serve":
        from soundatlas.api.protocol import SpotifyShapedHttpTools

        options["http"] = SpotifyShapedHttpTools
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop",
                log_level="warning", access_log=False, **options)  # fmt: skip


class Stack:
    """One stack serving in a child process, from this install or from the source tree
    ``source``."""

    def __init__(self, spec: str, atlas: Path) -> None:
        self.name, _, source = spec.partition("@")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **({"PYTHONPATH": source} if source else {})}
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(atlas), "--serve", self.name, "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,  # Granian's banner would mix with the JSON printed
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/bench/bare", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.3)
        raise SystemExit(f"{spec} did not start")

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


def cpu_per_request(
    stacks: list[Stack], paths: list[str], requests: int
) -> list[tuple[float, int]]:
    """Server CPU ms per request of each stack over ``requests`` requests cycling through
    ``paths``, and its number of answers that were not 200. The stacks take turns URL by URL,
    so that other work on the machine weighs on each alike."""
    per_url = max(CONNECTIONS, requests // len(paths))
    cpu = [0.0] * len(stacks)
    failed = [0] * len(stacks)
    for path in paths:
        for i, stack in enumerate(stacks):
            url = stack.url + path
            httpx.get(url, timeout=60)  # warm: first-call costs are not per request
            before = stack.cpu_seconds()
            out = subprocess.run(
                ["hey", "-n", str(per_url), "-c", str(CONNECTIONS), "-cpus", "1", "-o", "csv",
                 url], capture_output=True, text=True, check=True, timeout=600,
            ).stdout  # fmt: skip
            cpu[i] += stack.cpu_seconds() - before
            failed[i] += sum(1 for row in out.splitlines()[1:] if row.split(",")[6] != "200")
    return [(1000 * c / (per_url * len(paths)), f) for c, f in zip(cpu, failed, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("atlas", type=Path)
    parser.add_argument("--stacks", default=",".join(STACKS), help="NAME or NAME@SRC, commas")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--serve", choices=STACKS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, str(args.atlas), args.port)
        return
    specs = args.stacks.split(",")
    stacks: list[Stack] = []
    try:
        for spec in specs:
            stacks.append(Stack(spec, args.atlas))
        base = stacks[0].url
        paths = {"bare": ["/bench/bare"], "trivial": ["/bench/trivial"]}
        paths |= {k: [u.removeprefix(base) for u in v[:URLS]]
                  for k, v in endpoint_urls(base).items()}  # fmt: skip
        results = {spec: {} for spec in specs}
        for endpoint, variants in paths.items():
            found = cpu_per_request(stacks, variants, args.requests)
            for spec, (cpu, failed) in zip(specs, found, strict=True):
                results[spec][endpoint] = round(cpu, 3)
                if failed:
                    results[spec][f"{endpoint} failed"] = failed
                print(f"  {spec} {endpoint}: {cpu:.3f} ms", file=sys.stderr)
    finally:
        for stack in stacks:
            stack.stop()
    print(f"load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
