"""``soundatlas serve``: the HTTP API over an atlas (see `soundatlas.api`)."""

from __future__ import annotations

import ipaddress
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from soundatlas.cli import app
from soundatlas.cli.render import console, err_console, escape
from soundatlas.errors import ConfigError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    atlas_dir: Annotated[Path, typer.Argument(metavar="ATLAS", help="Atlas folder.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (forked after loading: they share the atlas).")
    ] = 1,
    token_file: Annotated[
        Path | None,
        typer.Option(help="File of bearer tokens, one a line; every request must send one."),
    ] = None,
    rate_limit: Annotated[
        float, typer.Option(help="Requests a second per token (bursts of twice that); 0: none.")
    ] = 50.0,
    insecure: Annotated[
        bool,
        typer.Option("--insecure", help="Allow a non-loopback address without --token-file."),
    ] = False,
) -> None:
    """Serve the atlas over HTTP: Spotify-compatible /v1 endpoints (recommendations,
    audio-features, tracks, artists, search) and SoundAtlas's own /soundatlas/v1; the OpenAPI
    schema at /openapi.json and interactive docs at /docs.

    A rebuilt atlas is picked up within a second; SIGTERM drains requests in flight, exits 0.
    """
    import uvicorn

    from soundatlas.api.app import create_app
    from soundatlas.api.guard import RateLimit, read_tokens
    from soundatlas.api.protocol import SpotifyShapedHttpTools
    from soundatlas.api.workers import serve_forked

    if not 1 <= port <= 65_535:
        raise ConfigError(f"--port {port}: must be from 1 to 65535.")
    if not 1 <= workers <= 64:
        raise ConfigError(f"--workers {workers}: must be from 1 to 64.")
    if not 0 <= rate_limit <= 1_000_000:
        raise ConfigError(f"--rate-limit {rate_limit:g}: must be from 0 (no limit) up.")
    tokens = read_tokens(token_file) if token_file else ()
    if not is_loopback(host) and not tokens:
        if not insecure:
            raise ConfigError(
                f"--host {host}: other machines could call this API without a token; pass "
                "--token-file FILE, or --insecure to serve it openly anyway."
            )
        err_console.print(
            f"[bold yellow]warning:[/] serving on {escape(host)} without tokens (--insecure): "
            "anyone who can reach this address can call the API."
        )
    limit = RateLimit(rate=rate_limit, burst=max(1, round(2 * rate_limit)))
    one_blas_thread()
    atlas_dir = atlas_dir.expanduser().resolve()
    application = create_app(atlas_dir, tokens=tokens, rate_limit=limit)
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"SoundAtlas API for [bold]{escape(str(atlas_dir))}[/] at http://{escape(shown)}:{port}"
        f"/v1 (docs at /docs; {workers} worker{'s' if workers > 1 else ''}; Ctrl+C to stop)"
    )
    # httptools (llhttp, in C) through `SpotifyShapedHttpTools`, not h11 (pure Python): 0.1 ms
    # less CPU a request; the protocol refuses what httptools cannot parse (a request target
    # over 64 kB, raw bytes above 127, heads over 1 MiB) in Spotify's error shape.
    # The event loop is uvloop's where it is installed (uvicorn's "auto"; a dependency on Linux
    # and macOS): about 0.3 ms less CPU a request than asyncio's (benchmarks/api_load.py).
    options = {
        "http": SpotifyShapedHttpTools,
        "loop": "auto",
        "log_level": "warning",
        "access_log": False,
        "timeout_graceful_shutdown": 30,
    }
    if workers > 1:  # this process becomes the workers' supervisor: it does not return
        serve_forked(application, host=host, port=port, workers=workers, **options)
    # uvicorn drains requests on SIGTERM/SIGINT, then raises the signal again for the handler
    # it found: a quiet one makes a drained shutdown exit 0.
    previous = {s: signal.signal(s, _drained) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        uvicorn.run(application, host=host, port=port, **options)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def one_blas_thread() -> None:
    """One BLAS thread per server process (workers are forked, and keep it).

    A request's products are small (100k songs × 9 features); OpenBLAS's threads spin-wait for
    a core that requests and other workers keep busy: on this 2-core machine under load a
    100k × 9 matrix-vector product took 3.9 ms with two threads and 0.8 ms with one.

    The command runs before numpy is imported (the atlas brings it, and faiss its own BLAS),
    and a limit set at run time reaches only the libraries already loaded: numpy's BLAS kept
    its two threads (measured on the 10,000,000-song atlas: a 1,000,000 × 9 product took
    11 ms of CPU instead of 1.5). The variables the libraries read when they load set it for
    those loaded later.
    """
    from threadpoolctl import threadpool_limits

    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[variable] = "1"
    threadpool_limits(limits=1)


def _drained(signum: int, frame: object) -> None:
    """The server has already stopped and drained its requests."""
