"""Atlas folders on disk, replaced whole or not at all.

A new atlas is written into a temporary folder beside its target and swapped into place under
a folder lock; a swap cut short is undone by the next load or build, and what killed saves
left behind is removed by the next save (a temporary folder is held with an flock while its
save runs, so one nobody holds is a leftover).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from soundatlas.atlas.manifest import FILES, MANIFEST, read_manifest
from soundatlas.errors import AtlasError, OutputError
from soundatlas.files import fsync_folder, unwritable


@contextlib.contextmanager
def staged_atlas(path: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``path`` to write an atlas into; when the block ends normally
    (the manifest written last) it replaces ``path``, and on any error it is removed."""
    path = Path(path)
    with scratch_folder(path) as temporary:
        yield temporary
        if not (temporary / MANIFEST).is_file():
            raise AtlasError(f"{path}: the build wrote no manifest; nothing was replaced.")
        fsync_folder(temporary)
        _swap_into_place(temporary, path)


@contextlib.contextmanager
def relinked_atlas(path: str | Path) -> Iterator[Path]:
    """A temporary folder beside the atlas ``path`` holding a hard link to each of its files
    (not its manifest), to add derived files to and write a new manifest into; when the block
    ends normally it replaces ``path`` like a new build (`staged_atlas`), unless the atlas was
    replaced meanwhile. Nothing is copied, so adding an index to a 10,000,000-song atlas needs
    only the new files' space; files are never rewritten in place (they are the live atlas's
    too: write new files, or unlink one before writing its name again).

    Raises
    ------
    AtlasError
        The folder's file system cannot hard-link, or the atlas was replaced meanwhile.
    """
    path = Path(path)
    before = (path / MANIFEST).read_bytes()
    with scratch_folder(path) as temporary:
        folders = {temporary}
        for name in read_manifest(path)["files"]:
            target = temporary / name
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
            try:
                os.link(path / name, target)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP):
                    raise
                raise AtlasError(
                    f"{path}: {name} cannot be hard-linked ({exc.strerror}), and the atlas is "
                    "updated without copying it; rebuild it with `soundatlas build` instead."
                ) from exc
        yield temporary
        if not (temporary / MANIFEST).is_file():
            raise AtlasError(f"{path}: no new manifest was written; nothing was replaced.")
        for folder in folders:
            fsync_folder(folder)
        _swap_into_place(temporary, path, expected=before)


@contextlib.contextmanager
def scratch_folder(path: str | Path) -> Iterator[Path]:
    """A new temporary folder beside the atlas folder ``path``, removed when the block ends
    (unless it was moved away) — and, if the process is killed, by the next save there: the
    folder is held (flock) while the block runs, and one nobody holds is a leftover."""
    path = Path(path)
    check_atlas_target(path)
    _remove_leftovers(path)
    temporary = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with _folder_lock(path.parent):
            temporary.mkdir()
            # Held until the block ends, however it ends (the kernel drops it when the process
            # dies): a temporary folder nobody holds is a leftover `_remove_leftovers` deletes.
            owner = os.open(temporary, os.O_RDONLY)
            fcntl.flock(owner, fcntl.LOCK_EX)
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot be written ({exc.strerror}). Choose another folder."
        ) from exc
    try:
        yield temporary
    except OSError as exc:
        shutil.rmtree(temporary, ignore_errors=True)  # so the space it took counts as free
        problem = unwritable(path.parent, exc, what=f"the atlas {path}")
        if problem is None:
            raise
        raise OutputError(f"{problem} Any atlas already there is unchanged.") from exc
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        os.close(owner)


def check_atlas_target(path: str | Path) -> None:
    """Refuse, before any work, a path an atlas cannot be saved to without loss or failure.

    Raises
    ------
    OutputError
        The path is a file, inside a file, or in a folder that cannot be created or written.
    AtlasError
        The path is a folder of other things (saving would replace them).
    """
    path = Path(path)
    _recover_interrupted_swap(path)
    if path.is_file():
        raise OutputError(f"{path}: is a file; give a folder name for the atlas (-o my-atlas).")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{path}: its folder cannot be created ({exc.strerror}). Choose another location."
        ) from exc
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"{path}: {path.parent} is not writable. Choose another location.")
    # Under the lock swaps hold: another save's swap must not be seen half-done (the folder
    # briefly absent between its renames, so that it "exists" and then is no folder, or its
    # listing and manifest from two different atlases).
    with _folder_lock(path.parent):
        if path.exists() and not path.is_dir():
            raise OutputError(f"{path}: is not a folder; give a folder name for the atlas.")
        _refuse_foreign_contents(path)


def _refuse_foreign_contents(path: Path) -> None:
    if not path.is_dir():
        return
    names = set(os.listdir(path))
    if MANIFEST not in names:
        if names:
            raise AtlasError(
                f"{path}: exists and is not an atlas folder; choose another output folder so "
                "nothing of yours is overwritten."
            )
        return
    listed = {PurePosixPath(name).parts[0] for name in _listed_files(path)}
    foreign = sorted(name for name in names - listed - {MANIFEST} if not name.startswith("."))
    if foreign:
        raise AtlasError(
            f"{path}: holds {', '.join(foreign[:5])} besides the atlas; a new build "
            "replaces the whole folder, so they would be deleted. Move them out of the "
            "folder, or choose another output folder."
        )


def _listed_files(path: Path) -> list[str]:
    """The files an atlas folder's manifest lists (those of the current layout if it cannot
    be read: a damaged atlas is still replaced by a new build)."""
    try:
        return list(read_manifest(path)["files"])
    except AtlasError:
        return list(FILES)


def _remove_leftovers(path: Path) -> None:
    """Delete what killed saves left beside ``path``: temporary folders no running save holds,
    and an old atlas moved aside once a new one is in place. Swaps hold the folder lock, so
    none is half-done while this holds it; an old atlas whose swap was cut short is the only
    copy, and `_recover_interrupted_swap` has put it back already."""
    ours = re.compile(rf"\.{re.escape(path.name)}\.(tmp|old)-[0-9a-f]{{8}}")
    with _folder_lock(path.parent):
        has_atlas = (path / MANIFEST).is_file()
        for leftover in path.parent.glob(f".{path.name}.*-*"):
            match = ours.fullmatch(leftover.name)
            if match is None or not leftover.is_dir():
                continue
            kind = match.group(1)
            if (kind == "old" and has_atlas) or (kind == "tmp" and not _held(leftover)):
                shutil.rmtree(leftover, ignore_errors=True)


def _held(folder: Path) -> bool:
    """Whether a running save holds ``folder`` (its flock)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Serialise atlas swaps in one folder between processes (two dashboard sessions saving the
    same upload, say): an exclusive flock on the folder itself, so no lock file is left."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl+C and SIGTERM until the block ends, then deliver them.

    Python raises `KeyboardInterrupt` between any two statements; between the two renames of a
    swap it would leave no atlas at its path (only the next load would put the old one back).
    Handlers run in the main thread only, so elsewhere there is nothing to hold.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {n: signal.signal(n, lambda signum, frame: caught.append(signum)) for n in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if caught:
            signal.raise_signal(caught[0])


def _swap_into_place(temporary: Path, path: Path, *, expected: bytes | None = None) -> None:
    """Rename the finished folder to ``path``; an old atlas there is moved aside, then removed.
    With ``expected``, only if the atlas there still has this manifest (`relinked_atlas`).

    Ctrl+C and SIGTERM wait until the swap is done (`_signals_held`). If the process dies
    between the two renames, the next load or build finds the old atlas aside and puts it back
    (`_recover_interrupted_swap`).
    """
    with _signals_held(), _folder_lock(path.parent):
        if expected is not None and _manifest_bytes(path) != expected:
            raise AtlasError(
                f"{path}: the atlas was replaced while its indexes were being written; nothing "
                "was changed. Run the command again."
            )
        try:
            if path.exists():
                aside = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
                os.replace(path, aside)
                os.replace(temporary, path)
                fsync_folder(path.parent)
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(temporary, path)
                fsync_folder(path.parent)
        except OSError as exc:
            raise AtlasError(
                f"{path}: the new atlas could not be put in place ({exc.strerror}). Check the "
                "folder is writable and not in use, then build again."
            ) from exc


def _manifest_bytes(path: Path) -> bytes | None:
    try:
        return (path / MANIFEST).read_bytes()
    except OSError:
        return None


def _recover_interrupted_swap(path: Path) -> None:
    if path.exists() or not path.parent.is_dir():
        return
    with _folder_lock(path.parent):
        if path.exists():
            return
        for aside in sorted(path.parent.glob(f".{path.name}.old-*")):
            if (aside / MANIFEST).is_file():
                os.replace(aside, path)
                return
