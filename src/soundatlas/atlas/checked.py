"""An atlas folder whose files are checked against the manifest's checksums as they are read.

The manifest lists a SHA-256 for every file of the atlas, to catch a damaged or edited file.
`read_atlas` reads every file and so checks them all up front; a one-off query (a similar-songs
question, a search) reads a handful of them, and `CheckedFolder` checks exactly those, each
when it is first read, with the same messages. This module imports no pandas: the query path
of the command line reads an atlas without it (see `soundatlas.discovery.saved`).
"""

from __future__ import annotations

import contextlib
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from soundatlas.atlas.folders import _recover_interrupted_swap
from soundatlas.atlas.manifest import read_manifest
from soundatlas.errors import AtlasError, SoundAtlasError
from soundatlas.files import file_sha256


class CheckedFolder:
    """The files of one atlas folder, each checked against the manifest when first read.

    Parameters
    ----------
    path
        The atlas folder. A swap cut short by a killed save is undone first, as by every load.
    verify
        Check each file's SHA-256 (False trusts the files, as ``load_atlas(verify=False)``).
    """

    def __init__(self, path: str | Path, *, verify: bool = True) -> None:
        self.path = Path(path)
        _recover_interrupted_swap(self.path)
        self.manifest: dict[str, Any] = read_manifest(self.path)
        self.verify = verify
        self._checked: set[str] = set()
        self._lock = threading.Lock()

    def file(self, name: str) -> Path:
        """The path of the atlas's file ``name``, once it is known to be the file the manifest
        lists (present, and equal to its checksum).

        Raises
        ------
        AtlasError
            The file is missing, not listed, or does not match its checksum.
        """
        target = self.path / name
        if not self.verify or name in self._checked:
            return target
        expected = self.manifest["files"].get(name)
        if expected is None:
            raise AtlasError(
                f"{self.path}: {name} is not listed in {self.path / 'manifest.json'}; the atlas "
                "is incomplete or was edited. Rebuild it with `soundatlas build`."
            )
        if not target.is_file():
            raise AtlasError(
                f"{self.path}: {name} is missing; the atlas is incomplete. Rebuild it."
            )
        if file_sha256(target) != expected:
            raise AtlasError(
                f"{self.path}: {name} does not match its checksum in the manifest (damaged or "
                "edited). Rebuild the atlas with `soundatlas build`."
            )
        with self._lock:
            self._checked.add(name)
        return target

    def check_all(self) -> None:
        """Check every file the manifest lists (what loading a whole atlas reads)."""
        for name in self.manifest["files"]:
            self.file(name)


def disagree(path: Path, name: str, what: str) -> AtlasError:
    """The error for a file of the atlas at ``path`` that does not belong with the rest
    (``what`` says how): one copied in from another atlas, with the manifest's checksum edited
    to match. Commands would otherwise fail deep inside, or answer from mismatched tables."""
    return AtlasError(
        f"{path}: {name} does not belong with the rest of the atlas ({what}); a file was "
        "replaced or edited. Rebuild the atlas with `soundatlas build`."
    )


_READ_ERRORS = (
    OSError,
    EOFError,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    zipfile.BadZipFile,
    pa.ArrowException,
    SoundAtlasError,
)


@contextlib.contextmanager
def reading(path: Path, name: str) -> Iterator[None]:
    """Turn any failure to read or make sense of one file of an atlas into one AtlasError
    naming that file."""
    try:
        yield
    except _READ_ERRORS as exc:
        reason = str(exc)[:200] or type(exc).__name__
        raise AtlasError(
            f"{path}: {name} cannot be read as part of an atlas ({reason}). Rebuild the atlas "
            "with `soundatlas build`."
        ) from exc
