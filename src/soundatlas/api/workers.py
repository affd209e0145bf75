"""Several worker processes sharing one loaded atlas: load once, then fork.

uvicorn's own ``--workers`` starts each worker with a fresh interpreter (multiprocessing's
spawn), so each loads the atlas and builds its lookups again: four workers held 4.7 times the
memory of one (95,837 songs: 2,442 against 520 MiB PSS). Here the parent loads the atlas and
builds every lookup, freezes the garbage collector's view of those objects (``gc.freeze``: the
collector would otherwise write to every object it walks, copying its page), binds the socket,
then forks the workers. Each worker serves the same listening socket with its own uvicorn
event loop; the pages of the atlas's arrays (scaled features, unit vectors, text indexes) stay
shared by copy-on-write for as long as nobody writes them, which nothing does.

SIGTERM or SIGINT to the parent is passed to every worker, which finishes its requests in
flight (uvicorn's graceful shutdown); the parent exits 0 when every worker has. An atlas rebuilt
in place is loaded by each worker on its own (`soundatlas.api.holder`), so after a swap the
workers no longer share the new atlas's pages until they are restarted.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket

import uvicorn
from fastapi import FastAPI


def serve_forked(app: FastAPI, *, host: str, port: int, workers: int, **options) -> int:
    """Serve ``app`` (already loaded) from ``workers`` forked processes; the exit code."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets whose
    # protocol says TCP, and an accepted socket inherits it. Without, every response waited
    # 40 ms for a delayed ACK.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    gc.collect()
    gc.freeze()
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                server = uvicorn.Server(uvicorn.Config(app, **options))
                server.run(sockets=[listener])
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    listener.close()

    def forward(signum: int, frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    worst = 0
    try:
        for child in children:
            while True:
                try:
                    _, status = os.waitpid(child, 0)
                    break
                except InterruptedError:
                    continue
            code = os.waitstatus_to_exitcode(status)
            if code not in (0, -signal.SIGTERM, -signal.SIGINT):
                worst = code if code > 0 else 128 - code
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return worst
