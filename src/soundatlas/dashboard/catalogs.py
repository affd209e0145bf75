"""Atlases the dashboard can open: the one it was started with, the demo, and uploaded catalogs.

Uploaded files are stored by the SHA-256 of their bytes under ``$SOUNDATLAS_HOME/uploads`` and
their atlases under ``$SOUNDATLAS_HOME/atlases/upload-<hash>``, so a second upload of the same
file finds its atlas already built. The file's name is never trusted: it is kept only to name
the source in messages, and the core reads the bytes by their content. Atlases are picked by id
(never by a path from the URL), so a shared link can only open atlases this server already lists.
No Streamlit here: the pages call these functions.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from soundatlas.atlas import Atlas, Progress, build_atlas
from soundatlas.catalog import Catalog, load_catalog
from soundatlas.config import BuildConfig
from soundatlas.demo import data_home
from soundatlas.errors import CatalogError
from soundatlas.files import write_bytes_atomic
from soundatlas.store import MANIFEST

STARTUP_ID = "startup"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()\-]+")


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
    return atlases_folder() / f"upload-{digest}"


def safe_display_name(name: str) -> str:
    """The uploaded file's name reduced to harmless characters, for labels and messages."""
    cleaned = _SAFE_NAME.sub("_", Path(name or "upload").name).strip() or "upload"
    return cleaned[:80]


def store_upload(data: bytes, name: str) -> tuple[str, Path]:
    """Keep an uploaded file (once per content) and return ``(content hash, stored path)``."""
    if not data:
        raise CatalogError(f"{safe_display_name(name)}: the file is empty. Upload a track table.")
    digest = content_hash(data)
    stored = stored_upload(digest)
    if not stored.is_file():
        write_bytes_atomic(stored, data)
    return digest, stored


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
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{path.name} (unreadable manifest)"
    source = str((manifest.get("source") or {}).get("name") or path.name)
    source = Path(source).name if "/" in source else source
    songs = (manifest.get("rows") or {}).get("tracks")
    created = str(manifest.get("created", ""))[:10]
    parts = [source[:80]]
    if isinstance(songs, int):
        parts.append(f"{songs:,} songs")
    if created:
        parts.append(f"built {created}")
    return " · ".join(parts)


def known_atlases(startup: Path | None) -> list[AtlasChoice]:
    """Every atlas the dashboard can open: the startup one, demo atlases, uploaded catalogs."""
    choices: list[AtlasChoice] = []
    if startup is not None:
        choices.append(AtlasChoice(STARTUP_ID, startup, f"{describe(startup)} (opened at start)"))
    home = data_home()
    candidates = sorted(home.glob("demo-atlas-*")) if home.is_dir() else []
    if atlases_folder().is_dir():
        candidates += sorted(atlases_folder().glob("upload-*"))
    for path in candidates:
        if not is_atlas(path) or (startup is not None and path.resolve() == startup.resolve()):
            continue
        choices.append(AtlasChoice(path.name, path, describe(path)))
    return choices


def find_choice(choices: list[AtlasChoice], atlas_id: str | None) -> AtlasChoice | None:
    """The choice with id ``atlas_id``, or None."""
    return next((c for c in choices if c.id == atlas_id), None)


def atlas_label(atlas: Atlas) -> str:
    """Short description of a loaded atlas for the page header."""
    source = atlas.report.source
    source = Path(source).name if "/" in source else source
    return f"{source} · {len(atlas.tracks):,} songs"
