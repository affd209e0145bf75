"""Adding the derived indexes an atlas lacks, without rebuilding it (`soundatlas reindex`).

An atlas saved by an older SoundAtlas, or with another index version, has no saved discovery
index (`soundatlas.discovery.indexfiles`), and one of a catalog too big to load whole built
before its directory saved its sort orders has none of those, or only some
(`soundatlas.discovery.directory`); every query process or server then builds them on first
use (for 10,000,000 songs, minutes before a server answers). `reindex_atlas` writes what is
missing into the atlas folder: beside it, in a folder of hard links to its files plus the new
ones, swapped in whole like a new build (`soundatlas.atlas.folders.relinked_atlas`), so a
reader sees the old atlas or the new one and the catalog is never copied.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from soundatlas.atlas.folders import relinked_atlas
from soundatlas.atlas.manifest import read_manifest
from soundatlas.atlas.model import load_atlas
from soundatlas.atlas.store import relist_derived
from soundatlas.discovery.directory import has_sorted, open_songs, usable_sorted, write_sorted
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.indexfiles import INDEX_VERSION, write_parts
from soundatlas.errors import AtlasError

INDEX = "discovery index"
SORTED = "whole-catalog sort orders"


def missing_indexes(manifest: dict[str, Any]) -> tuple[str, ...]:
    """Which derived indexes an atlas's manifest lacks: `INDEX` (the saved discovery index of
    the loaded songs) and, for an atlas with a whole-catalog directory, `SORTED`."""
    derived = manifest.get("derived")
    missing = []
    if not (isinstance(derived, dict) and derived.get("version") == INDEX_VERSION):
        missing.append(INDEX)
    directory = (manifest.get("parts") or {}).get("directory")
    if directory and not has_sorted(directory):
        missing.append(SORTED)
    return tuple(missing)


def reindex_atlas(
    path: str | Path, progress: Callable[[str, float], None] | None = None
) -> tuple[str, ...]:
    """Write the derived indexes the atlas at ``path`` lacks (`missing_indexes`) into it,
    atomically; what was added (nothing when it lacks none).

    ``progress(stage, fraction)`` hears of the stages ``load``, ``index`` and ``sort``.

    Raises
    ------
    AtlasError
        The atlas cannot be loaded, its folder cannot hard-link, or it was replaced meanwhile.
    OutputError
        Its folder cannot be written (full disk, read-only); the atlas is unchanged.
    """
    tick = progress or (lambda stage, fraction: None)
    path = Path(path)
    missing = missing_indexes(read_manifest(path))
    if not missing:
        return ()
    tick("load", 0.0)
    atlas = load_atlas(path)
    tick("load", 1.0)
    with relinked_atlas(path) as folder:
        manifest = read_manifest(path)
        if manifest.get("fingerprint") != atlas.fingerprint:
            raise AtlasError(
                f"{path}: the atlas was replaced while it was being loaded; nothing was "
                "changed. Run the command again."
            )
        derived = directory_sorted = None
        if INDEX in missing:
            tick("index", 0.0)
            derived = write_parts(folder, discovery_index(atlas).parts())
            tick("index", 1.0)
        if SORTED in missing:
            tick("sort", 0.0)
            entry = manifest["parts"]["directory"]
            # Parts an older version saved are kept: only what it lacks is derived.
            directory_sorted = write_sorted(
                folder, open_songs(folder / entry["songs_file"]), usable_sorted(entry)
            )
            tick("sort", 1.0)
        relist_derived(folder, manifest, derived=derived, directory_sorted=directory_sorted)
    return missing
