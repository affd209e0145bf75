"""Where the built-in demo atlas lives, and building it on first use.

The dashboard and ``soundatlas dashboard`` open the demo atlas when no other atlas is given; it
is built once (about a minute) and kept under :func:`data_home`, one folder per size and seed.
"""

from __future__ import annotations

import os
from pathlib import Path

from soundatlas.atlas.build import Progress, build_atlas
from soundatlas.atlas.model import Atlas
from soundatlas.config import BuildConfig
from soundatlas.demo.generator import generate_catalog
from soundatlas.discovery.save import save_atlas
from soundatlas.ingest.catalog import load_catalog

#: Songs in the demo atlas the dashboard opens by default.
DEMO_SIZE = 20_000


def data_home() -> Path:
    """Folder for SoundAtlas's own files: ``$SOUNDATLAS_HOME`` or ``~/.cache/soundatlas``."""
    configured = os.environ.get("SOUNDATLAS_HOME")
    return Path(configured) if configured else Path.home() / ".cache" / "soundatlas"


def demo_atlas_path(size: int = DEMO_SIZE, random_state: int = 0) -> Path:
    """Where the demo atlas of ``size`` songs and seed ``random_state`` is kept."""
    return data_home() / f"demo-atlas-{size}-seed{random_state}"


def build_demo_atlas(
    size: int = DEMO_SIZE, *, random_state: int = 0, progress: Progress | None = None
) -> Atlas:
    """Generate ``size`` synthetic demo songs (marked as demo) and build their atlas."""
    tick = progress or (lambda stage, fraction: None)
    tick("generate", 0.0)
    songs = generate_catalog(size, random_state=random_state)
    tick("generate", 1.0)
    name = f"demo catalog ({size:,} synthetic songs, seed {random_state})"
    catalog = load_catalog(songs, name=name, progress=tick)
    return build_atlas(catalog, BuildConfig(random_state=random_state), progress=tick)


def ensure_demo_atlas(
    size: int = DEMO_SIZE, *, random_state: int = 0, progress: Progress | None = None
) -> Path:
    """The demo atlas's folder, building and saving the atlas first if it is not there yet."""
    path = demo_atlas_path(size, random_state)
    if (path / "manifest.json").is_file():
        return path
    return save_atlas(build_demo_atlas(size, random_state=random_state, progress=progress), path)
