"""Saving an atlas with its discovery index (see `soundatlas.discovery.indexfiles`)."""

from __future__ import annotations

from pathlib import Path

from soundatlas.atlas.folders import staged_atlas
from soundatlas.atlas.model import Atlas
from soundatlas.atlas.store import write_atlas_files
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.indexfiles import write_parts


def save_atlas(atlas: Atlas, path: str | Path) -> Path:
    """Write ``atlas`` and its discovery index to the folder ``path``, replacing any atlas
    there only once complete (see `soundatlas.atlas.folders.staged_atlas`).

    The one way to save an atlas: a query process then maps the index instead of building it.
    """
    parts = discovery_index(atlas).parts()
    with staged_atlas(path) as folder:
        write_atlas_files(atlas, folder, derived=write_parts(folder, parts))
    return Path(path)
