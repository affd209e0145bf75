"""Atlases the dashboard can open: the one it was started with, the demo, and uploaded catalogs.

Uploaded files are stored by the SHA-256 of their bytes under ``$SOUNDATLAS_HOME/uploads`` and
their atlases under ``$SOUNDATLAS_HOME/atlases/upload-<hash>``, so a second upload of the same
file finds its atlas already built. The file's name is never trusted: it is kept only to name
the source in messages, and the core reads the bytes by their content.

Uploads are private: `known_atlases` lists only the uploads a session names (the session keeps
the ids of the catalogs it uploaded; see `soundatlas.dashboard.session`), and atlases are picked
by id from that list (never by a path from the URL), so another visitor's link cannot open them.
Uploading the same file again finds its atlas at once, for whoever uploads it: having the file
means having its data. Uploads not uploaded again or opened for `UPLOAD_MAX_AGE` are deleted
(`prune_uploads`, run whenever a new file is uploaded). No Streamlit here: the pages call these
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
from soundatlas.atlas.model import Atlas
from soundatlas.atlas.store import MANIFEST, read_manifest
from soundatlas.config import BuildConfig
from soundatlas.demo import data_home
from soundatlas.errors import AtlasError, CatalogError
from soundatlas.files import write_bytes_atomic
from soundatlas.ingest.catalog import Catalog, load_catalog
from soundatlas.ingest.validation import source_name

STARTUP_ID = "startup"
UPLOAD_PREFIX = "upload-"
UPLOAD_MAX_AGE = timedelta(days=7)
"""Uploaded files and their atlases not uploaded again or opened for this long are deleted."""
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
        write_bytes_atomic(stored, data)
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
    *, max_age: timedelta = UPLOAD_MAX_AGE, keep: Collection[str] = (), now: float | None = None
) -> list[str]:
    """Delete uploaded files and atlases last uploaded or opened more than ``max_age`` ago.

    A file and its atlas go together, once both are older; content hashes in ``keep`` are never
    deleted. Folders are renamed away first and then removed, so no one sees half a folder.
    Returns the content hashes deleted.
    """
    limit = (time.time() if now is None else now) - max_age.total_seconds()
    last_used: dict[str, list[Path]] = {}
    if uploads_folder().is_dir():
        for folder in uploads_folder().iterdir():
            if _DIGEST.fullmatch(folder.name):
                last_used.setdefault(folder.name, []).append(folder)
    if atlases_folder().is_dir():
        for folder in atlases_folder().iterdir():
            if is_upload_id(folder.name):
                last_used.setdefault(folder.name.removeprefix(UPLOAD_PREFIX), []).append(folder)
    removed = []
    for digest, folders in sorted(last_used.items()):
        if digest in keep:
            continue
        try:
            newest = max(folder.stat().st_mtime for folder in folders)
        except OSError:
            continue
        if newest >= limit:
            continue
        for folder in folders:
            _remove_folder(folder)
        removed.append(digest)
    return removed


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


def validate_upload(stored: Path, name: str) -> Catalog:
    """Read and validate a stored upload with the core (content decides the format)."""
    return load_catalog(stored, name=safe_display_name(name))


def build_upload_atlas(catalog: Catalog, digest: str, *, progress: Progress | None = None) -> Path:
    """Build and save the atlas of a validated upload; returns its folder."""
    tick = progress or (lambda stage, fraction: None)
    atlas = build_atlas(catalog, BuildConfig(), progress=tick)
    tick("save", 0.0)
    target = upload_atlas_path(digest)
    atlas.save(target)
    tick("save", 1.0)
    return target


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
