"""What the parent of the forked server workers becomes once they run: a small program that
waits for them and passes SIGTERM and SIGINT on to them (`soundatlas.api.workers`).

The parent loads the atlas and forks the workers, which share its memory page by page until
one of them writes to a page, and Python writes an object's reference count whenever it uses
the object: the writer gets a copy of the page, and the parent's original, no longer shared
with that worker, stays resident. Once both workers had copied a page, the parent alone held
the original: its private memory grew from 10 to 82 MiB over the first minute of varied
requests (95,837 songs, 2 workers), a fifth of the server's memory, kept for nothing. Replacing
the parent's program (``exec``) releases its whole address space; the workers keep theirs,
still shared between them.

Run as a script (``python -I -S supervisor.py PID ...``), not imported as part of SoundAtlas:
it needs only ``os`` and ``signal``, so the process that stays behind is a bare interpreter.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

FORWARDED = (signal.SIGTERM, signal.SIGINT)
"""Signals passed on to the workers as SIGTERM (uvicorn then drains requests in flight)."""


def supervise(children: list[int]) -> int:
    """Wait for every worker, passing `FORWARDED` signals on; the exit code: 0 when every
    worker exited 0 or by SIGTERM/SIGINT, else the worst worker's (128 + signal if killed).

    The signals arrive blocked (`soundatlas.api.workers` blocks them before ``exec``, so none
    is lost, nor kills this process, while it starts): a pending one is delivered here, once
    the handler is in place.
    """

    def forward(signum: int, frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    for number in FORWARDED:
        signal.signal(number, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
    worst = 0
    for child in children:
        try:
            _, status = os.waitpid(child, 0)  # retried after a handler runs (PEP 475)
        except ChildProcessError:  # already reaped: nothing to report
            continue
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, -signal.SIGTERM, -signal.SIGINT):
            worst = code if code > 0 else 128 - code
    return worst


if __name__ == "__main__":
    sys.exit(supervise([int(pid) for pid in sys.argv[1:]]))
