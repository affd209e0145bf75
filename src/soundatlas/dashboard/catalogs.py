"""Atlases the dashboard can open: the one it was started with, the demo, and uploaded catalogs.

Uploaded files are stored by the SHA-256 of their bytes under ``$SOUNDATLAS_HOME/uploads`` and
their atlases under ``$SOUNDATLAS_HOME/atlases/upload-<hash>``, so a second upload of the same
file finds its atlas already built. The file's name is never trusted: it is kept only to name
the source in messages, and the core reads the bytes by their content.

Uploads are private: `known_atlases` lists only the uploads a session names (the session keeps
the ids of the catalogs it uploaded; see `soundatlas.dashboard.session`), and atlases are picked
by id from that list (never by a path from the URL), so another visitor's link cannot open them.
Uploading the same file again finds its atlas at once, for whoever uploads it: having the file
means having its data. Only uploads that built are kept: a file refused by validation or whose
build failed is deleted at once, one never built after `PENDING_MAX_AGE`, the rest after
`UPLOAD_MAX_AGE` without use, and above `UPLOADS_MAX_BYTES` in all the least recently used go
first (`prune_uploads`, run whenever a new file is uploaded).

Validation and build run in a worker process with a memory limit (`soundatlas.worker`), so no
file, however it is made, can take the server's memory. No Streamlit here: the pages call these
functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from soundatlas.atlas.build import Progress, build_atlas
from soundatlas.atlas.manifest import MANIFEST, read_manifest
from soundatlas.atlas.model import Atlas
from soundatlas.config import BuildConfig
from soundatlas.demo import data_home
from soundatlas.discovery.save import save_atlas
from soundatlas.errors import AtlasError, CatalogError, OutputError, SoundAtlasError
from soundatlas.files import write_bytes_atomic
from soundatlas.ingest.catalog import Catalog, load_catalog
from soundatlas.ingest.validation import ValidationReport, source_name
from soundatlas.worker import WORKER_MEMORY, run_limited

STARTUP_ID = "startup"
UPLOAD_PREFIX = "upload-"
UPLOAD_MAX_AGE = timedelta(days=7)
"""Uploaded files and their atlases not uploaded again or opened for this long are deleted."""
PENDING_MAX_AGE = timedelta(hours=1)
"""Uploaded files not built into an atlas within this long are deleted."""
UPLOADS_MAX_BYTES = 2 << 30
"""Most bytes all uploads and their atlases may take together (2 GiB); above it, the least
recently used are deleted first."""
MEMORY_VARIABLE = "SOUNDATLAS_UPLOAD_MEMORY_MB"
"""Environment variable: memory (MiB) the worker validating or building one upload may take
beyond what it starts with (default `soundatlas.worker.WORKER_MEMORY`)."""
_TOUCH_EVERY = 3600.0
"""Seconds between refreshes of an upload's last-use time while it is open."""
_SAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()\-]+")
_UPLOAD_ID = re.compile(r"upload-[0-9a-f]{16}")
_DIGEST = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class AtlasChoice:
    """An atlas the dashboard offers: an id for URLs, where it is, and how to describe it."""

    id: str
    path: Path
    label: str


def uploads_folder() -> Path:
    """Where uploaded catalog files are kept, by content hash."""
    return data_home() / "uploads"


def atlases_folder() -> Path:
    """Where atlases of uploaded catalogs are kept."""
    return data_home() / "atlases"


def content_hash(data: bytes) -> str:
    """First 16 hex digits of the SHA-256 of an uploaded file's bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def upload_atlas_path(digest: str) -> Path:
    """Atlas folder of the uploaded catalog with content hash ``digest``."""
    return atlases_folder() / f"{UPLOAD_PREFIX}{digest}"


def safe_display_name(name: str) -> str:
    """The uploaded file's name reduced to harmless characters, for labels and messages."""
    cleaned = _SAFE_NAME.sub("_", Path(name or "upload").name).strip() or "upload"
    return cleaned[:80]


def is_upload_id(atlas_id: str) -> bool:
    """Whether ``atlas_id`` names the atlas of an uploaded catalog (``upload-<hash>``)."""
    return bool(_UPLOAD_ID.fullmatch(atlas_id or ""))


def store_upload(data: bytes, name: str) -> tuple[str, Path]:
    """Keep an uploaded file (once per content) and return ``(content hash, stored path)``.

    Marks the file and its atlas, if already built, as just used, so they are kept for
    another `UPLOAD_MAX_AGE`.
    """
    if not data:
        raise CatalogError(f"{safe_display_name(name)}: the file is empty. Upload a track table.")
    digest = content_hash(data)
    stored = stored_upload(digest)
    if not stored.is_file():
        try:
            write_bytes_atomic(stored, data)
        except OutputError:
            with contextlib.suppress(OSError):
                stored.parent.rmdir()  # left empty by the failed write
            raise
    _touch(stored.parent)
    if is_atlas(upload_atlas_path(digest)):
        _touch(upload_atlas_path(digest))
    return digest, stored


def mark_used(path: Path) -> None:
    """Note that the uploaded atlas at ``path`` is in use (at most once an hour), so
    `prune_uploads` keeps it and its file."""
    with contextlib.suppress(OSError):
        if time.time() - path.stat().st_mtime > _TOUCH_EVERY:
            _touch(path)
            if is_upload_id(path.name):
                _touch(stored_upload(path.name.removeprefix(UPLOAD_PREFIX)).parent)


def prune_uploads(
    *,
    max_age: timedelta = UPLOAD_MAX_AGE,
    pending_age: timedelta = PENDING_MAX_AGE,
    max_bytes: int = UPLOADS_MAX_BYTES,
    keep: Collection[str] = (),
    now: float | None = None,
) -> list[str]:
    """Delete uploaded files and atlases: those last uploaded or opened more than ``max_age``
    ago, files never built after ``pending_age``, then the least recently used until all take at
    most ``max_bytes``.

    A file and its atlas go together; content hashes in ``keep`` are never deleted. Folders are
    renamed away first and then removed, so no one sees half a folder. Returns the content
    hashes deleted.
    """
    now = time.time() if now is None else now
    uploads = _uploads()
    last_used = {d: max(_mtime(f) for f in folders) for d, folders in uploads.items()}
    removed = []
    for digest in sorted(uploads):
        age = max_age if is_atlas(upload_atlas_path(digest)) else pending_age
        if digest not in keep and last_used[digest] < now - age.total_seconds():
            removed.append(digest)
    by_use = sorted((d for d in uploads if d not in removed and d not in keep), key=last_used.get)
    total = sum(_bytes(f) for d in uploads if d not in removed for f in uploads[d])
    for digest in by_use:
        if total <= max_bytes:
            break
        total -= sum(_bytes(f) for f in uploads[digest])
        removed.append(digest)
    for digest in removed:
        for folder in uploads[digest]:
            _remove_folder(folder)
    return sorted(removed)


def discard_upload(digest: str) -> None:
    """Delete an uploaded file whose validation or build failed (and any part of its atlas):
    only uploads that built are kept."""
    if not _DIGEST.fullmatch(digest):
        return
    for folder in (stored_upload(digest).parent, upload_atlas_path(digest)):
        if folder.exists() and not (folder.name.startswith(UPLOAD_PREFIX) and is_atlas(folder)):
            _remove_folder(folder)


def _uploads() -> dict[str, list[Path]]:
    """Every upload's folders (its file's, and its atlas's if built), by content hash."""
    found: dict[str, list[Path]] = {}
    if uploads_folder().is_dir():
        for folder in uploads_folder().iterdir():
            if _DIGEST.fullmatch(folder.name):
                found.setdefault(folder.name, []).append(folder)
    if atlases_folder().is_dir():
        for folder in atlases_folder().iterdir():
            if is_upload_id(folder.name):
                found.setdefault(folder.name.removeprefix(UPLOAD_PREFIX), []).append(folder)
    return found


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _bytes(folder: Path) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def _remove_folder(folder: Path) -> None:
    trash = folder.with_name(f".deleting-{folder.name}-{uuid.uuid4().hex[:8]}")
    try:
        folder.rename(trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def stored_upload(digest: str) -> Path:
    """Where the uploaded file with content hash ``digest`` is kept."""
    return uploads_folder() / digest / "catalog"


def upload_memory() -> int:
    """Bytes a worker validating or building one upload may take (see `MEMORY_VARIABLE`)."""
    given = os.environ.get(MEMORY_VARIABLE, "").strip()
    return int(given) << 20 if given.isdigit() else WORKER_MEMORY


def validate_upload(digest: str, name: str) -> ValidationReport:
    """Read and validate a stored upload with the core (content decides the format), in a
    worker process with a memory limit; a file refused is deleted."""
    shown = safe_display_name(name)
    try:
        return run_limited(
            _validate, stored_upload(digest), shown, what=shown, memory=upload_memory()
        )
    except SoundAtlasError:
        discard_upload(digest)
        raise


def build_upload_atlas(digest: str, name: str, *, progress: Progress | None = None) -> Path:
    """Build and save the atlas of a stored upload in a worker process with a memory limit;
    returns its folder. If the build fails, the upload is deleted."""
    shown = safe_display_name(name)
    target = upload_atlas_path(digest)
    try:
        return run_limited(
            _build,
            stored_upload(digest),
            shown,
            target,
            what=shown,
            memory=upload_memory(),
            progress=progress,
        )
    except SoundAtlasError:
        discard_upload(digest)
        raise


def _validate(stored: Path, name: str, *, progress: Progress) -> ValidationReport:
    return _load(stored, name, progress).report


def _build(stored: Path, name: str, target: Path, *, progress: Progress) -> Path:
    catalog = _load(stored, name, None)
    atlas = build_atlas(catalog, BuildConfig(), progress=progress)
    progress("save", 0.0)
    save_atlas(atlas, target)
    progress("save", 1.0)
    return target


def _load(stored: Path, name: str, progress: Progress | None) -> Catalog:
    """The stored upload read and validated, named in messages by the name it was uploaded
    under (never by where the server keeps it)."""
    try:
        return load_catalog(stored, name=name, progress=progress)
    except CatalogError as exc:
        raise CatalogError(str(exc).replace(str(stored), name)) from None


def is_atlas(path: Path) -> bool:
    """Whether ``path`` looks like an atlas folder (has a manifest)."""
    return (path / MANIFEST).is_file()


def describe(path: Path) -> str:
    """``"tracks.csv · 11,200 songs · built 2026-01-02"`` from an atlas's manifest (cheap)."""
    try:
        manifest = read_manifest(path)
    except (OSError, AtlasError):
        return f"{path.name} (unreadable manifest)"
    source = str((manifest.get("source") or {}).get("name") or path.name)
    source = source_name(source)
    songs = (manifest.get("rows") or {}).get("tracks")
    created = str(manifest.get("created", ""))[:10]
    parts = [source[:80]]
    if isinstance(songs, int):
        parts.append(f"{songs:,} songs")
    if created:
        parts.append(f"built {created}")
    return " · ".join(parts)


def known_atlases(startup: Path | None, uploads: Collection[str] = ()) -> list[AtlasChoice]:
    """The atlases a session can open: the startup one, the demo atlases, and the uploaded
    catalogs whose ids are in ``uploads`` (the session's own; other visitors' are never listed).
    """
    choices: list[AtlasChoice] = []
    if startup is not None:
        choices.append(AtlasChoice(STARTUP_ID, startup, f"{describe(startup)} (opened at start)"))
    home = data_home()
    candidates = sorted(home.glob("demo-atlas-*")) if home.is_dir() else []
    candidates += [atlases_folder() / i for i in sorted(uploads) if is_upload_id(i)]
    for path in candidates:
        if not is_atlas(path) or (startup is not None and path.resolve() == startup.resolve()):
            continue
        label = describe(path) + (" (your upload)" if is_upload_id(path.name) else "")
        choices.append(AtlasChoice(path.name, path, label))
    return choices


def find_choice(choices: list[AtlasChoice], atlas_id: str | None) -> AtlasChoice | None:
    """The choice with id ``atlas_id``, or None."""
    return next((c for c in choices if c.id == atlas_id), None)


def atlas_label(atlas: Atlas) -> str:
    """Short description of a loaded atlas for the page header."""
    source = source_name(str(atlas.report.source))
    return f"{source} · {len(atlas.tracks):,} songs"
