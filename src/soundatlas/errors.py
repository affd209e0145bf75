"""The one exception family SoundAtlas raises.

The library raises; only the CLI and the dashboard catch. Every message names where the problem is
(file, column, row), the rule that was broken, what was found, and what to do about it, so the CLI
and the dashboard can show the same words.
"""

from __future__ import annotations


class SoundAtlasError(Exception):
    """Base class of every error SoundAtlas raises on purpose."""

    exit_code = 1


class CatalogError(SoundAtlasError):
    """The input track table cannot be used (empty, binary, missing columns, too few rows)."""

    exit_code = 2


class ConfigError(SoundAtlasError):
    """A build or query option is outside what it accepts."""

    exit_code = 2


class AtlasError(SoundAtlasError):
    """An atlas folder is missing, incomplete or from an incompatible version."""

    exit_code = 2


class OutputError(SoundAtlasError):
    """A file or folder SoundAtlas was asked to write cannot be written there."""

    exit_code = 2


class EngineError(SoundAtlasError):
    """The distributed engine cannot run: PySpark or Java missing, the cluster unreachable, or a
    job failed for a reason outside the input (the message names the log with the details)."""

    exit_code = 2


class LookupFailed(SoundAtlasError):
    """A song, artist or cluster that was asked for does not exist in the atlas."""

    exit_code = 2


class AmbiguousQuery(LookupFailed):
    """A text query matched several songs; ``candidates`` holds them so the caller can choose,
    and ``query`` is the text as given (None when not known), so a caller can replace it with
    the choice."""

    def __init__(self, message: str, candidates: object, query: str | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates
        self.query = query
