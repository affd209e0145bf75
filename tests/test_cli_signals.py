"""Every long command, interrupted: Ctrl+C (SIGINT) and SIGTERM end it with one line and exit
codes 130 and 143, leaving no file half-written; an unexpected exception is one "internal
error" line and exit 1, or the traceback with ``SOUNDATLAS_DEBUG=1``.

Each command runs in a process of its own that meets its fault at a chosen call of the library
(`cliprocess.faulted_cli`), so the moment is the same on every run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cliprocess import faulted_cli

from soundatlas.demo import write_catalog
from soundatlas.discovery.save import save_atlas

pytestmark = pytest.mark.faults

EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}
LOAD = "soundatlas.atlas.model.load_atlas"
OPEN = "soundatlas.discovery.saved.open_saved_index"
"""Where ``search`` and ``similar`` open an atlas saved with its index (no `load_atlas`)."""
RENAME = "os.replace"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a small catalog (``songs.csv``) and its atlas (``atlas``)."""
    from soundatlas.atlas.build import build_atlas

    folder = tmp_path_factory.mktemp("signals")
    write_catalog(folder / "songs.csv", 400, random_state=2)
    save_atlas(build_atlas(folder / "songs.csv"), folder / "atlas")
    return folder


# (command after `soundatlas`, the call where the fault comes, when, what it writes)
# {atlas}, {songs} and {out} are filled in per run; a command that writes is interrupted just
# before its output is renamed into place, one that only reads while it loads the atlas.
COMMANDS = {
    "validate": (["validate", "{songs}", "--rejected", "{out}/rejected.csv"], RENAME, "before"),
    "build": (["build", "{songs}", "-o", "{out}/new-atlas", "-q"], RENAME, "before"),
    "info": (["info", "{atlas}"], LOAD, "after"),
    "export": (
        ["export", "{atlas}", "--format", "csv", "-o", "{out}/tracks.csv"],
        RENAME,
        "before",
    ),
    "demo catalog": (
        ["demo", "--catalog-only", "--size", "300", "-o", "{out}/demo.csv"],
        RENAME,
        "before",
    ),
    "demo atlas": (["demo", "--size", "300", "-o", "{out}/demo-atlas"], RENAME, "before"),
    "report": (["report", "{atlas}", "-o", "{out}/report.html"], RENAME, "before"),
    "similar": (["similar", "{atlas}", "x", "-o", "{out}/similar.csv"], LOAD, "after"),
    "playlist": (
        ["playlist", "{atlas}", "--cluster", "0", "-o", "{out}/list.csv"],
        RENAME,
        "before",
    ),
    "search": (["search", "{atlas}", "radio"], OPEN, "after"),
    "similar, from the saved index": (["similar", "{atlas}", "x"], OPEN, "after"),
    "artist": (["artist", "{atlas}", "nobody"], LOAD, "after"),
    "genres": (["genres", "{atlas}"], LOAD, "after"),
}


def _run(fault: str, command: str, workspace: Path, out: Path) -> subprocess.CompletedProcess:
    words, at, when = COMMANDS[command]
    fill = {"atlas": workspace / "atlas", "songs": workspace / "songs.csv", "out": out}
    arguments = [word.format(**fill) for word in words]
    under = out if at == RENAME else workspace / "atlas"
    return subprocess.run(
        [*faulted_cli(fault, at=at, under=under, when=when), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("name", list(EXIT_CODES))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_interrupted_command_stops_with_one_line(workspace, tmp_path, command, name):
    out = tmp_path / "out"
    out.mkdir()
    done = _run(name, command, workspace, out)
    lines = done.stderr.strip().splitlines()  # progress bars, if any, then the last word
    assert done.returncode == EXIT_CODES[name], done.stdout + done.stderr
    assert [line for line in lines if "interrupted" in line] == lines[-1:], done.stderr
    assert lines[-1].startswith("interrupted"), done.stderr
    assert ("SIGTERM" in lines[-1]) == (name == "SIGTERM")
    assert "Traceback" not in done.stdout + done.stderr
    assert sorted(out.iterdir()) == [], "nothing half-written is left"


def test_an_unexpected_exception_is_one_line_and_exit_1(workspace, tmp_path):
    done = _run("bug", "info", workspace, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("internal error: RuntimeError: bug injected at " + LOAD)
    assert "SOUNDATLAS_DEBUG=1" in done.stderr and len(lines) <= 3
    assert "Traceback" not in done.stdout + done.stderr


def test_soundatlas_debug_shows_the_traceback(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("SOUNDATLAS_DEBUG", "1")
    done = _run("bug", "info", workspace, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "RuntimeError: bug injected at " + LOAD
    assert "internal error" not in done.stderr
