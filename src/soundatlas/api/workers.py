"""Several worker processes sharing one loaded atlas: load once, then fork.

uvicorn's own ``--workers`` starts each worker with a fresh interpreter (multiprocessing's
spawn), so each loads the atlas and builds its lookups again: four workers held 4.7 times the
memory of one (95,837 songs: 2,442 against 520 MiB PSS). Here the parent loads the atlas and
builds every lookup, freezes the garbage collector's view of those objects (``gc.freeze``: the
collector would otherwise write to every object it walks, copying its page), binds the socket,
then forks the workers. Each worker serves the same listening socket with its own uvicorn
event loop; the pages of the atlas's arrays (scaled features, unit vectors, text indexes) stay
shared by copy-on-write for as long as nobody writes them, which nothing does.

Once the workers run, the parent replaces its program with `soundatlas.api.supervisor`
(``exec``: its copy of the atlas, whose pages the workers stop sharing as they use them, is
freed); SIGTERM or SIGINT to it is passed to every worker, which finishes its requests in
flight (uvicorn's graceful shutdown); it exits 0 when every worker has. An atlas rebuilt
in place is loaded by each worker on its own (`soundatlas.api.holder`), so after a swap the
workers no longer share the new atlas's pages until they are restarted.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys
from pathlib import Path
from typing import NoReturn

import uvicorn
from fastapi import FastAPI

from soundatlas.api import supervisor
from soundatlas.api.supervisor import FORWARDED


def serve_forked(app: FastAPI, *, host: str, port: int, workers: int, **options) -> NoReturn:
    """Serve ``app`` (already loaded) from ``workers`` forked processes. Never returns: this
    process becomes their supervisor, which exits with the workers' exit code."""
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
    # Blocked from here in this process (a signal waits for the supervisor) and unblocked in
    # each worker once it has its own handlers.
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
                server = uvicorn.Server(uvicorn.Config(app, **options))
                server.run(sockets=[listener])
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    listener.close()
    # This process becomes `soundatlas.api.supervisor`: its copy of the atlas is freed, the
    # workers keep theirs. The signal mask is kept across exec: a SIGTERM sent meanwhile is
    # delivered once the supervisor handles it.
    sys.stdout.flush()
    sys.stderr.flush()
    script = str(Path(supervisor.__file__))
    os.execv(sys.executable, [sys.executable, "-I", "-S", script, *map(str, children)])
