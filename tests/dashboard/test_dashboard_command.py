"""`soundatlas dashboard`: what it starts, and its clear refusals (no server is started here)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from functools import partial

import pytest
from typer.testing import CliRunner

from soundatlas.atlas.model import load_atlas
from soundatlas.cli import app as cli
from soundatlas.cli import dashboard_commands


@pytest.fixture
def started(monkeypatch):
    """Record the streamlit command instead of running it."""
    calls = []

    def fake_serve(command, environment):
        calls.append((command, environment))
        return 0

    monkeypatch.setattr(dashboard_commands, "serve", fake_serve)
    return calls


def _free_port() -> int:
    """A port the system just said was free; another process may take it before it is used,
    so callers retry (`_invoke_on_a_free_port`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _invoke_on_a_free_port(arguments: list[str], attempts: int = 5):
    """Run ``soundatlas dashboard ARGUMENTS --port N`` on a free port; pick another if the port
    was taken in between (the command then refuses it with "already in use")."""
    for _ in range(attempts):
        port = _free_port()
        result = CliRunner().invoke(cli, ["dashboard", *arguments, "--port", str(port)])
        if not (result.exit_code == 2 and "already in use" in result.output):
            return port, result
    pytest.fail(f"no free port in {attempts} attempts")


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (no such process, or a zombie not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def test_dashboard_serves_the_given_atlas_without_tracebacks(hostile_atlas_path, started):
    port, result = _invoke_on_a_free_port([str(hostile_atlas_path)])
    assert result.exit_code == 0, result.output
    command, env = started[0]
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("app.py")
    assert f"--server.port={port}" in command
    assert "--client.showErrorDetails=none" in command
    assert "--server.maxUploadSize=200" in command
    assert "--browser.gatherUsageStats=false" in command
    assert env["SOUNDATLAS_DASHBOARD_ATLAS"] == str(hostile_atlas_path.resolve())
    assert f"http://localhost:{port}" in result.output


DEMO_SONGS = 1_200
"""Songs in the demo atlas the first-run test builds (the real demo has 20,000: a minute)."""


def test_without_an_atlas_it_builds_the_demo_first_then_reuses_it(started, monkeypatch, tmp_path):
    import soundatlas.demo as demo

    monkeypatch.setenv("SOUNDATLAS_HOME", str(tmp_path / "home"))
    # The real build and cache, on a smaller demo so that the test stays a few seconds.
    monkeypatch.setattr(demo, "demo_atlas_path", partial(demo.demo_atlas_path, DEMO_SONGS))
    monkeypatch.setattr(demo, "ensure_demo_atlas", partial(demo.ensure_demo_atlas, DEMO_SONGS))
    target = tmp_path / "home" / f"demo-atlas-{DEMO_SONGS}-seed0"
    _, first = _invoke_on_a_free_port([])
    assert first.exit_code == 0, first.output
    assert "Building the demo atlas" in first.output
    assert started[0][1]["SOUNDATLAS_DASHBOARD_ATLAS"] == str(target.resolve())
    assert len(load_atlas(target).tracks) == DEMO_SONGS
    built = (target / "manifest.json").stat().st_mtime_ns

    _, second = _invoke_on_a_free_port([])
    assert second.exit_code == 0, second.output
    assert "Building" not in second.output, "the cached demo atlas is opened, not rebuilt"
    assert (target / "manifest.json").stat().st_mtime_ns == built
    assert started[1][1]["SOUNDATLAS_DASHBOARD_ATLAS"] == str(target.resolve())


@pytest.mark.parametrize(("given", "expected"), [(None, "2"), ("8", "8")])
def test_the_server_gets_at_most_two_malloc_arenas_unless_told(
    given, expected, hostile_atlas_path, started, monkeypatch
):
    if given is None:
        monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    else:
        monkeypatch.setenv("MALLOC_ARENA_MAX", given)
    _, result = _invoke_on_a_free_port([str(hostile_atlas_path)])
    assert result.exit_code == 0, result.output
    assert started[0][1]["MALLOC_ARENA_MAX"] == expected
    assert os.environ.get("MALLOC_ARENA_MAX") == given, "only the server's environment is set"


def test_missing_atlas_exits_2_with_the_reason(tmp_path, started):
    result = CliRunner().invoke(cli, ["dashboard", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "no atlas here" in result.output
    assert not started


def test_busy_port_exits_2_and_suggests_another(hostile_atlas_path, started):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["dashboard", str(hostile_atlas_path), "--port", str(port), "--host", "127.0.0.1"]
        )
    assert result.exit_code == 2
    assert "already in use" in result.output and f"--port {port + 1}" in result.output


def test_the_server_stops_with_the_command_that_started_it(tmp_path):
    assert dashboard_commands.serve([sys.executable, "-c", "raise SystemExit(3)"], {}) == 3
    marker = tmp_path / "server.pid"
    server = (
        "import os, time; "
        f"open({str(marker)!r} + '.tmp', 'w').write(str(os.getpid())); "
        f"os.replace({str(marker)!r} + '.tmp', {str(marker)!r}); time.sleep(60)"
    )
    command = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from soundatlas.cli.dashboard_commands import serve; "
            f"serve([sys.executable, '-c', {server!r}], {{}}); print('stopped')",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not marker.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = int(marker.read_text())
    command.terminate()
    out, _ = command.communicate(timeout=20)
    assert "stopped" in out
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid), f"server {pid} outlived the command that started it"
