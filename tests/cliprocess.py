"""Run the ``soundatlas`` command in a child process, as a user would, and measure it."""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

CLI = (sys.executable, "-c", "from soundatlas.cli import main; main()")
"""The console script's entry point, run by this interpreter (so it imports this checkout)."""

_FAULTED = """
import importlib, os, signal, sys, time
where, number, when, fault, under = sys.argv[1:6]
module_name, attribute = where.rsplit(".", 1)
module = importlib.import_module(module_name)
real, calls = getattr(module, attribute), []

def signalled(*args, **kwargs):
    if not any(str(a).startswith(under) for a in args):
        return real(*args, **kwargs)
    calls.append(args)
    if len(calls) != int(number):
        return real(*args, **kwargs)
    result = real(*args, **kwargs) if when == "after" else None
    if not fault.startswith("SIG"):
        raise RuntimeError(f"{fault} injected at {where}")
    signal.raise_signal(getattr(signal, fault))
    for _ in range(200):  # the handler raises here; one that holds the signal lets it go on
        time.sleep(0.01)
    return result

# Ctrl+C raises KeyboardInterrupt, as in a terminal, even when the tests run as a background
# job (whose commands start with SIGINT ignored).
signal.signal(signal.SIGINT, signal.default_int_handler)
setattr(module, attribute, signalled)
sys.argv = ["soundatlas", *sys.argv[6:]]
from soundatlas.cli import main
main()
"""
"""Runs the command with a function of the library wrapped (before the command's modules are
imported, so their ``from module import name`` gets the wrapper): at the N-th call that names a
path under a folder, the process sends itself a signal, or raises an unexpected exception, just
before (or just after) the real call. `faulted_cli` builds the command line."""


def faulted_cli(
    fault: str, *, at: str, under: Path, number: int = 1, when: str = "before"
) -> tuple[str, ...]:
    """The ``soundatlas`` command line, as `CLI`, for a process that meets ``fault`` at its
    ``number``-th call of ``at`` (a dotted function name, such as ``"os.replace"`` or
    ``"soundatlas.atlas.model.load_atlas"``) that names a path under ``under``, ``when``
    "before" the call (it never happens) or "after" it. ``fault`` is a signal's name
    (``"SIGINT"``: the process sends it to itself) or anything else (a ``RuntimeError``, as a
    bug would raise).
    A moment chosen this way is hit on every run, however busy the machine; a signal sent from
    outside at a moment that lasts milliseconds can miss it."""
    assert when in ("before", "after"), when
    return (sys.executable, "-c", _FAULTED, at, str(number), when, fault, str(under))


_MEASURE = """
import os, subprocess, sys
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
with open(sys.argv[1], "w") as peak:
    peak.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
"""
"""Runs a command and writes its peak RSS (KiB). It runs in a small process of its own because
a child's peak counts the pages of the process it was forked from, and a test process is big."""


@dataclass(frozen=True)
class Finished:
    """A finished command: exit code, its output, and its peak resident memory."""

    code: int
    stdout: str
    stderr: str
    peak_mib: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: object, timeout: float = 120) -> Finished:
    """``soundatlas ARGS`` in a child process, with its peak RSS as the kernel counted it
    (``wait4``), not a sample."""
    with tempfile.TemporaryDirectory() as folder:
        peak = Path(folder) / "peak"
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(peak), *CLI, *map(str, args)],
            capture_output=True,
            timeout=timeout,
        )
        return Finished(
            done.returncode,
            done.stdout.decode(errors="replace"),
            done.stderr.decode(errors="replace"),
            int(peak.read_text()) / 1024,
        )


def _forked_main(args: list[str], output: str, report: Connection, die_at_rename: int) -> None:
    """In a forked child: ``soundatlas ARGS`` with stdout and stderr sent to ``output``, then its
    peak RSS (KiB) sent back, however the command ended. With ``die_at_rename`` N, the child
    kills itself (SIGKILL) right after its N-th ``os.replace``: a moment too short to hit by
    chance, such as between the two renames that swap an atlas into place."""
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    if die_at_rename:
        _die_at_rename(die_at_rename)
    sys.argv = ["soundatlas", *args]
    try:
        from soundatlas.cli import main

        main()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        report.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _die_at_rename(number: int) -> None:
    replace, done = os.replace, []

    def replace_then_die(*args: object, **kwargs: object) -> None:
        replace(*args, **kwargs)
        done.append(args)
        if len(done) == number:
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace_then_die


def _share_numba_start_lock() -> None:
    """Create numba's process lock (a named semaphore) here, once, for every forked child to
    inherit: a child creating its own when numba first starts threads leaks it when killed, and
    the resource tracker then warns about every killed build at the end of the test run."""
    from numba.np.ufunc import parallel

    if not parallel._backend_init_process_lock:
        parallel._set_init_process_lock()


_share_numba_start_lock()


class ForkedCli:
    """``soundatlas`` run in children forked from one process that imported it once.

    Starting Python and importing SoundAtlas takes seconds; forking takes milliseconds, so tests
    that run the command many times (generated tables, killing builds) stay fast while every
    run is still a process of its own: its exit code, output, memory and death are its own. A
    child's peak RSS includes the pages it shares with the process it was forked from, so
    `baseline_mib`, the peak of a command that reads nothing, is subtracted from it.
    """

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["soundatlas.cli", "cliprocess"])
        self._folder = tempfile.TemporaryDirectory()
        self.baseline_mib = self.run("validate", Path(self._folder.name) / "absent").peak_mib

    def start(
        self, *args: object, die_at_rename: int = 0
    ) -> tuple[multiprocessing.process.BaseProcess, Path, Connection]:
        """Start ``soundatlas ARGS``; returns the child, its output file and its report pipe."""
        output = Path(tempfile.mkstemp(dir=self._folder.name)[1])
        receive, send = self._context.Pipe(duplex=False)
        child = self._context.Process(
            target=_forked_main, args=([str(a) for a in args], str(output), send, die_at_rename)
        )
        child.start()
        send.close()
        return child, output, receive

    def run(self, *args: object, timeout: float = 120) -> Finished:
        """``soundatlas ARGS`` to its end."""
        child, output, report = self.start(*args)
        child.join(timeout)
        if child.exitcode is None:
            child.kill()
            child.join()
        with report:
            peak = report.recv() if report.poll() else 0
        text = output.read_text(errors="replace")
        output.unlink()
        code = child.exitcode
        child.close()
        return Finished(code, "", text, peak / 1024)

    def close(self) -> None:
        """Remove the output files (the fork server ends with the test session)."""
        self._folder.cleanup()


def descendants(pid: int) -> list[int]:
    """Every process started by ``pid``, and by those, that is still alive (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, waiting = [], list(children.get(pid, []))
    while waiting:
        child = waiting.pop()
        found.append(child)
        waiting.extend(children.get(child, []))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is running (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
