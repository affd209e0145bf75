"""Run one piece of work in a child process with a memory limit, so that no input, however it
was made, can take the memory of the process that serves other people (the dashboard server).

The child is forked from a small server process that has imported SoundAtlas once
(``forkserver``): a new child starts in a fraction of a second, and never inherits the threads
of the process that asked for it. The child caps its own address space (``RLIMIT_AS``) at what it
had when it started plus the allowance; going past it fails that child alone, which is reported
as a `SoundAtlasError` naming the allowance. Progress reports travel back over a pipe.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from soundatlas.errors import SoundAtlasError

T = TypeVar("T")
Progress = Callable[[str, float], None]

WORKER_MEMORY = 3 << 30
"""Memory a worker may take beyond what it starts with (3 GiB): reading takes about six times a
table's size, so a 200 MB upload fits, and a file crafted to take more is stopped alone."""
_PRELOAD = ["soundatlas.atlas.build", "soundatlas.ingest.catalog"]


class WorkerFailed(SoundAtlasError):
    """The child ran out of its memory allowance, or died, before it finished."""

    exit_code = 2


def run_limited(
    function: Callable[..., T],
    *args: Any,
    what: str,
    memory: int = WORKER_MEMORY,
    progress: Progress | None = None,
) -> T:
    """``function(*args, progress=...)`` run in a child process allowed ``memory`` bytes more
    than it starts with.

    ``function`` must be importable by name (a module-level function) and its arguments and
    result picklable. A `SoundAtlasError` it raises is raised here as it is. As for any
    ``forkserver`` child, the main module is imported again in the child: a script calling this
    must guard its work with ``if __name__ == "__main__"`` (Streamlit's entry points do).

    Raises
    ------
    WorkerFailed
        The child went past its memory allowance, or was killed; ``what`` names the work.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(sender, function, args, memory), name="soundatlas-worker", daemon=True
    )
    child.start()
    sender.close()
    try:
        while True:
            try:
                kind, *payload = receiver.recv()
            except EOFError:
                break
            if kind == "progress" and progress is not None:
                progress(*payload)
            elif kind == "done":
                return payload[0]
            elif kind == "error":
                raise payload[0]
            elif kind == "memory":
                break
            elif kind == "crash":
                raise RuntimeError(f"{what}: the worker failed: {payload[0]}")
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()
    signal = f" (the worker was ended by signal {-child.exitcode})" if child.exitcode < 0 else ""
    raise WorkerFailed(
        f"{what}: stopped, as it needed more than the {memory / 2**20:,.0f} MiB of memory this "
        f"server gives one file{signal}. Upload a smaller or narrower table, or build it with "
        "the soundatlas command on your own machine."
    )


def _child(sender: Connection, function: Callable[..., Any], args: tuple, memory: int) -> None:
    limit = _address_space() + memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def report(stage: str, fraction: float) -> None:
        sender.send(("progress", stage, fraction))

    try:
        sender.send(("done", function(*args, progress=report)))
    except SoundAtlasError as exc:
        sender.send(("error", exc))
    except Exception as exc:
        if _out_of_memory(exc, limit):
            sender.send(("memory",))
        else:  # a bug: reported as one, not as a lack of memory
            sender.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()


_NEAR_LIMIT = 64 << 20


def _out_of_memory(exc: Exception, limit: int) -> bool:
    """Whether ``exc`` comes from the address-space limit. Libraries say it in their own ways
    (pyarrow: "Failed to launch worker thread" when a thread's stack cannot be mapped), so
    besides MemoryError, a failure once the process came near its limit counts too."""
    return isinstance(exc, MemoryError) or _peak_address_space() > limit - _NEAR_LIMIT


def _address_space() -> int:
    """This process's virtual memory size in bytes (what RLIMIT_AS counts)."""
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _peak_address_space() -> int:
    """The most virtual memory this process has had, in bytes (``VmPeak``)."""
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) << 10
    return 0
