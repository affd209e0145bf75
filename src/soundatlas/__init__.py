"""SoundAtlas: turn a catalog of songs into a map of how they sound.

The public API: `load_catalog` (read and validate a track table), `build_atlas` (cluster, name,
project), `load_atlas` / `Atlas.save` (the atlas folder), and `BuildConfig` (build options).
Discovery functions live in `soundatlas.discovery`.
"""

from importlib.metadata import PackageNotFoundError, version

from soundatlas.atlas import Atlas, build_atlas
from soundatlas.catalog import Catalog, load_catalog
from soundatlas.config import BuildConfig
from soundatlas.errors import (
    AmbiguousQuery,
    AtlasError,
    CatalogError,
    ConfigError,
    LookupFailed,
    SoundAtlasError,
)
from soundatlas.store import load_atlas

try:
    __version__ = version("soundatlas")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "AmbiguousQuery",
    "Atlas",
    "AtlasError",
    "BuildConfig",
    "Catalog",
    "CatalogError",
    "ConfigError",
    "LookupFailed",
    "SoundAtlasError",
    "__version__",
    "build_atlas",
    "load_atlas",
    "load_catalog",
]
