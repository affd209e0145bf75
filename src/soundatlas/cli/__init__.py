"""The ``soundatlas`` command: a thin layer over the library.

Every error the library raises on purpose (`SoundAtlasError`) is printed as one message and
turned into the exit code it carries (2 for bad input); nothing prints a traceback unless
``SOUNDATLAS_DEBUG=1`` is set. Ctrl+C and SIGTERM stop a command the same way, with one line
and the shell's usual exit codes (130 and 143): files being written are removed, an atlas being
replaced stays as it was, and the Ward worker process is stopped.
"""

from __future__ import annotations

import os
import signal

import typer
from typer.core import TyperGroup

from soundatlas.cli.render import err_console, escape
from soundatlas.errors import SoundAtlasError


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so that it stops the way Ctrl+C stops it."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


class _Commands(TyperGroup):
    """Turns library errors into one clear message and an exit code."""

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except (
            typer.Exit,
            typer.Abort,
            # Typer (0.28) vendors its own click: a usage error (an unknown option) is one of
            # these; no standalone click is needed.
            typer.exceptions.TyperException,
        ):
            raise
        except SoundAtlasError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:
            how, code = ("stopped by SIGTERM", 143) if isinstance(exc, Terminated) else ("", 130)
            err_console.print(
                f"[yellow]interrupted[/]{how and f' ({how})'}: stopped before finishing; "
                "no file was left half-written."
            )
            raise typer.Exit(code) from None
        except Exception as exc:
            if os.environ.get("SOUNDATLAS_DEBUG"):
                raise
            err_console.print(
                f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))}\n"
                "This is a bug in SoundAtlas, not in your data. Rerun with SOUNDATLAS_DEBUG=1 "
                "to see the details, and report them."
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Commands,
    name="soundatlas",
    help="Turn a catalog of songs into a map of how they sound.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

# Importing the command modules registers their commands on `app`.
from soundatlas.cli import (  # noqa: E402
    atlas_commands,  # noqa: F401
    dashboard_commands,  # noqa: F401
    discover_commands,  # noqa: F401
    serve_commands,  # noqa: F401
)


def main() -> None:
    """Console-script entry point. SIGTERM is handled here, not in the library: a program using
    SoundAtlas keeps its own signal handling."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    finally:
        signal.signal(signal.SIGTERM, previous)
