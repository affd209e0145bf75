"""Atomic file writes: a reader never sees half a file, an interrupted write leaves the old one."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from soundatlas.errors import OutputError


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success it is fsynced and renamed over it.

    On any error the temporary file is removed and ``target`` is left as it was.

    Examples
    --------
    >>> with atomic_path("out.csv") as temporary:  # doctest: +SKIP
    ...     frame.to_csv(temporary)
    """
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; give a file name to write to.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(target, exc) from exc
    temporary = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        yield temporary
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        fsync_folder(target.parent)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise _cannot_write(target, exc) from exc
    finally:
        temporary.unlink(missing_ok=True)


def _cannot_write(target: Path, exc: OSError) -> OutputError:
    return unwritable(target.parent, exc, what=str(target)) or OutputError(
        f"{target}: cannot be written ({exc.strerror or type(exc).__name__}). "
        "Choose another location."
    )


_USER_SITUATIONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
"""Write failures that are the user's situation, not a bug: said as such, with what to do."""


def unwritable(folder: str | Path, exc: OSError, *, what: str) -> OutputError | None:
    """The `OutputError` for a write into ``folder`` that failed for want of space, quota or
    permission (pyarrow's errors carry the errno only in their text), or None for any other
    failure. Call it once the partial output is removed: the space free then is less than
    what was needed."""
    code = exc.errno if exc.errno in _USER_SITUATIONS else None
    if code is None:
        code = next((c for c in _USER_SITUATIONS if f"errno {c}]" in str(exc).lower()), None)
    if code is None:
        return None
    why = _USER_SITUATIONS[code]
    if code in (errno.ENOSPC, errno.EDQUOT):
        free = _free_bytes(folder)
        return OutputError(
            f"{what}: cannot be written in {folder}: {why} (it needs more than the "
            f"{_size(free)} free there). "
            "Free some space or choose a folder on another disk, and try again."
        )
    return OutputError(
        f"{what}: cannot be written in {folder}: {why}. Choose a folder you can write to "
        "(or fix its permissions), and try again."
    )


def _free_bytes(folder: str | Path) -> int:
    with contextlib.suppress(OSError):
        return shutil.disk_usage(folder).free
    return 0


def _size(count: int) -> str:
    return f"{count / 2**20:,.1f} MiB" if count >= 2**20 else f"{count / 1024:,.0f} KiB"


def fsync_folder(folder: str | Path) -> None:
    """Persist a rename in ``folder`` (best effort: not every platform can open a folder)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def check_not_input(output: str | Path, source: str | Path) -> None:
    """Refuse, before any work, to write ``output`` over ``source`` (a file a command reads) or
    inside it (an atlas folder: its files would be overwritten, and anything else in it is
    deleted when the atlas is next rebuilt). Links are followed, so a second name for the
    same file is caught too.

    Raises
    ------
    OutputError
        ``output`` is ``source``, or inside the folder ``source``.
    """
    target, read = Path(output).resolve(), Path(source).resolve()
    if target == read or (target.exists() and read.exists() and os.path.samefile(target, read)):
        raise OutputError(
            f"{output}: is {source}, which this command reads; writing it would destroy the "
            "input. Choose another file name."
        )
    if read in target.parents:
        raise OutputError(
            f"{output}: is inside the atlas folder {source}; files there are overwritten or "
            "deleted when the atlas is rebuilt. Write it outside the atlas folder."
        )


def write_bytes_atomic(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)
    return Path(target)


def write_text_atomic(target: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically."""
    return write_bytes_atomic(target, text.encode("utf-8"))


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (for manifests and cache keys)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
