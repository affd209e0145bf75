"""Commands that show an atlas to people: the dashboard and the summary report."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from soundatlas.cli import app
from soundatlas.cli.render import console, err_console, escape, progress_bars
from soundatlas.errors import ConfigError
from soundatlas.files import check_not_input

APP_SCRIPT = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def streamlit_command(atlas: Path, *, port: int, host: str) -> list[str]:
    """The ``python -m streamlit run`` command line that serves the dashboard for ``atlas``."""
    from soundatlas.dashboard.settings import STREAMLIT_OPTIONS

    command = [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT)]
    options = {**STREAMLIT_OPTIONS, "server.port": str(port), "server.address": host}
    for name, value in options.items():
        command.append(f"--{name}={value}")
    return command


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host if host not in ("", "0.0.0.0") else "0.0.0.0", port))
        except OSError:
            return False
    return True


@app.command()
def dashboard(
    atlas_dir: Annotated[
        Path | None,
        typer.Argument(metavar="[ATLAS]", help="Atlas folder [default: the demo atlas]."),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 to let other machines in).")
    ] = "localhost",
) -> None:
    """Open the dashboard in your browser: explore clusters, make playlists, export reports.

    Without ATLAS it opens the demo atlas, building it first (about a minute, once).
    """
    if not 1 <= port <= 65_535:
        raise ConfigError(f"--port {port}: must be from 1 to 65535.")
    if atlas_dir is None:
        from soundatlas.demo import demo_atlas_path, ensure_demo_atlas

        target = demo_atlas_path()
        if not (target / "manifest.json").is_file():
            err_console.print("Building the demo atlas (once; later starts are instant)…")
            with progress_bars() as tick:
                ensure_demo_atlas(progress=tick)
        atlas_dir = target
    else:
        from soundatlas import load_atlas

        load_atlas(atlas_dir)  # a missing or damaged atlas fails here, with the usual message
    if not _port_free(host, port):
        raise ConfigError(
            f"--port {port}: already in use on {host}; pass another, e.g. --port {port + 1}."
        )
    atlas_dir = atlas_dir.expanduser().resolve()
    environment = {**os.environ, "SOUNDATLAS_DASHBOARD_ATLAS": str(atlas_dir)}
    # Streamlit runs each visitor's script in a thread of its own; glibc would give those threads
    # up to 8 heaps a core, which the server's memory then creeps across as visitors come and go.
    environment.setdefault("MALLOC_ARENA_MAX", "2")
    url_host = "localhost" if host in ("0.0.0.0", "") else host
    console.print(
        f"SoundAtlas dashboard for [bold]{escape(str(atlas_dir))}[/] at "
        f"http://{escape(url_host)}:{port} (Ctrl+C to stop)"
    )
    code = serve(streamlit_command(atlas_dir, port=port, host=host), environment)
    if code not in (0, -2, -15, 130, 143):
        raise typer.Exit(code)


def serve(command: list[str], environment: dict[str, str]) -> int:
    """Run the Streamlit server until it stops, Ctrl+C is pressed or this process is told to
    stop (SIGTERM); the server never outlives the command that started it."""
    process = subprocess.Popen(command, env=environment)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@app.command()
def report(
    atlas_dir: Annotated[Path, typer.Argument(metavar="ATLAS", help="Atlas folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Report file to write.")],
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="html (self-contained, with charts) or md. [default: md for a .md file, "
            "else html]",
        ),
    ] = None,
    figures: Annotated[
        Path | None,
        typer.Option("--figures", help="Also write the key charts as PNG files into this folder."),
    ] = None,
) -> None:
    """Write the summary report: per cluster feature means and spreads, sizes, genres, personas,
    and the metrics and agreement of the methods."""
    from soundatlas.reports import REPORT_FORMATS, write_figures, write_report

    if file_format is None:
        file_format = "md" if output.suffix.lower() in {".md", ".markdown"} else "html"
    if file_format not in REPORT_FORMATS:
        raise ConfigError(f"--format {file_format}: use one of {', '.join(REPORT_FORMATS)}.")
    for written in (output, figures):
        if written is not None:
            check_not_input(written, atlas_dir)
    from soundatlas import load_atlas

    atlas = load_atlas(atlas_dir)
    write_report(atlas, output, file_format)
    console.print(f"Wrote {escape(str(output))} ({file_format}).")
    if figures is not None:
        written = write_figures(atlas, figures)
        console.print(f"Wrote {len(written)} charts (PNG) to {escape(str(figures))}.")
