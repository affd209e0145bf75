"""Run the ``soundatlas`` command in a child process, as a user would, and measure it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

CLI = (sys.executable, "-c", "from soundatlas.cli import main; main()")
"""The console script's entry point, run by this interpreter (so it imports this checkout)."""

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
