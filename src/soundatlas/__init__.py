"""SoundAtlas: turn a catalog of songs into a map of how they sound.

The public API: `load_catalog` (read and validate a track table), `build_atlas` (cluster, name,
project), `load_atlas` / `save_atlas` (the atlas folder, saved with its discovery index), and
`BuildConfig` (build options).
Discovery functions live in `soundatlas.discovery`; the Spark engine in `soundatlas.engines.spark`.

Names are imported on first use, so importing one light module (``soundatlas.ingest.catalog`` in a
Spark worker, say) does not load the clustering libraries.
"""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

# Compiled numba code is cached under SoundAtlas's own folder, whatever the install: beside the
# package's sources it could not be written when the package is installed read-only, and every
# build would compile again. Set before numba is imported (numba reads it once); yours wins.
os.environ.setdefault(
    "NUMBA_CACHE_DIR",
    str(Path(os.environ.get("SOUNDATLAS_HOME") or Path.home() / ".cache" / "soundatlas") / "numba"),
)

_HOMES = {
    "Atlas": "soundatlas.atlas.model",
    "build_atlas": "soundatlas.atlas.build",
    "Catalog": "soundatlas.ingest.catalog",
    "load_catalog": "soundatlas.ingest.catalog",
    "BuildConfig": "soundatlas.config",
    "AmbiguousQuery": "soundatlas.errors",
    "AtlasError": "soundatlas.errors",
    "CatalogError": "soundatlas.errors",
    "ConfigError": "soundatlas.errors",
    "EngineError": "soundatlas.errors",
    "LookupFailed": "soundatlas.errors",
    "SoundAtlasError": "soundatlas.errors",
    "load_atlas": "soundatlas.atlas.model",
    "save_atlas": "soundatlas.discovery.save",
}

__all__ = [
    "AmbiguousQuery",
    "Atlas",
    "AtlasError",
    "BuildConfig",
    "Catalog",
    "CatalogError",
    "ConfigError",
    "EngineError",
    "LookupFailed",
    "SoundAtlasError",
    "__version__",
    "build_atlas",
    "load_atlas",
    "load_catalog",
    "save_atlas",
]


def __getattr__(name: str) -> object:
    if name == "__version__":  # read on demand: importing package metadata is slow
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("soundatlas")
        except PackageNotFoundError:  # running from a source tree without installing
            return "0.0.0"
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'soundatlas' has no attribute {name!r}")


if TYPE_CHECKING:
    from soundatlas.atlas.build import build_atlas
    from soundatlas.atlas.model import Atlas, load_atlas
    from soundatlas.config import BuildConfig
    from soundatlas.errors import (
        AmbiguousQuery,
        AtlasError,
        CatalogError,
        ConfigError,
        EngineError,
        LookupFailed,
        SoundAtlasError,
    )
    from soundatlas.ingest.catalog import Catalog, load_catalog
