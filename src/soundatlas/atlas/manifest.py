"""An atlas folder's manifest: what was built, from what and how, and the checksum of every
file. It is written last, so a folder with a manifest is a finished atlas; reading it checks
every field, since it is the one file its own checksums cannot cover."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.errors import AtlasError

_SHA256 = re.compile(r"[0-9a-f]{64}")

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES = ("tracks.parquet", "original.parquet", "personas.parquet", "selection.parquet", "model.npz")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """An atlas folder's manifest (what was built, from what, how), without loading its tables.

    Raises AtlasError when the folder holds no atlas, one of a newer format, or a manifest
    whose fields are missing or of the wrong kind (edited by hand, say).
    """
    path = Path(path)
    if not path.exists():
        raise AtlasError(
            f"{path}: no atlas here. Build one with `soundatlas build TRACKS.csv -o {path}` "
            "or `soundatlas demo`."
        )
    if not path.is_dir() or not (path / MANIFEST).is_file():
        raise AtlasError(
            f"{path}: not an atlas folder (no {MANIFEST}). Pass the folder written by "
            "`soundatlas build`."
        )
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise AtlasError(f"{path}: {MANIFEST} is damaged ({exc}). Rebuild the atlas.") from exc
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if type(version) is int and version > FORMAT_VERSION:
        raise AtlasError(
            f"{path}: atlas format {version!r} is newer than this SoundAtlas reads "
            f"({FORMAT_VERSION}). Upgrade SoundAtlas or rebuild the atlas."
        )
    problem = _manifest_problem(manifest)
    if problem:
        raise AtlasError(
            f"{path}: {MANIFEST} is damaged or was edited ({problem}). Rebuild the atlas with "
            "`soundatlas build`."
        )
    return manifest


_REQUIRED = {
    "format_version": int,
    "files": dict,
    "config": dict,
    "report": dict,
    "scaler": dict,
    "projection": dict,
    "methods": dict,
}
_OPTIONAL = {
    "source": dict,
    "rows": dict,
    "agreement": list,
    "timings": dict,
    "created": str,
    "fingerprint": str,
}
_METHOD_FIELDS = {"params": dict, "rule": str, "scores": dict, "details": dict, "timings": dict}


def _manifest_problem(manifest: object) -> str | None:
    """What is wrong with a manifest's shape, in a few words, or None.

    The manifest is the one file its own checksums cannot cover, so every field the loader and
    the commands read is checked for its kind before anything is built from it.
    """
    if not isinstance(manifest, dict):
        return f"a {type(manifest).__name__} instead of an object"
    for key, kind in (_REQUIRED | _OPTIONAL).items():
        if key not in manifest:
            if key in _REQUIRED:
                return f"'{key}' is missing"
        elif not _is(manifest[key], kind):
            return f"'{key}' is a {type(manifest[key]).__name__}, not a {kind.__name__}"
    if not 1 <= manifest["format_version"] <= FORMAT_VERSION:
        return f"format_version {manifest['format_version']} is unknown"
    files = manifest["files"]
    for name, digest in files.items():
        if not _inside(name):
            return f"'files' names {name!r}, which is not a file in the atlas folder"
        if not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
            return f"the checksum of {name} is not a SHA-256"
    parts = manifest.get("parts")
    if parts is not None:
        problem = _parts_problem(parts, files)
        if problem:
            return problem
    derived = manifest.get("derived")
    if derived is not None:
        problem = _derived_problem(derived, files)
        if problem:
            return problem
    whole = ("tracks.parquet", "original.parquet")
    unlisted = [n for n in FILES if n not in files and not (parts is not None and n in whole)]
    if unlisted:
        return f"'files' does not list {', '.join(unlisted)}"
    methods = manifest["methods"]
    if not methods or not set(methods) <= set(METHOD_TITLES):
        return f"'methods' holds {', '.join(map(str, methods)) or 'nothing'}"
    for method, summary in methods.items():
        for key, kind in _METHOD_FIELDS.items():
            if not (isinstance(summary, dict) and _is(summary.get(key), kind)):
                return f"'methods.{method}.{key}' is missing or not a {kind.__name__}"
    for part in ("scaler", "projection"):
        features = manifest[part].get("features")
        if not (isinstance(features, list) and features and all(_is(f, str) for f in features)):
            return f"'{part}.features' is not a list of feature names"
    if not _is(manifest["scaler"].get("kind"), str):
        return "'scaler.kind' is not a name"
    if not all(isinstance(row, dict) for row in manifest.get("agreement", [])):
        return "'agreement' is not a list of objects"
    return None


def _parts_problem(parts: object, files: dict[str, str]) -> str | None:
    """What is wrong with the ``parts`` entry of a manifest (per-song tables written as
    Parquet parts by the spark engine), or None: every file it names must be checksummed."""
    if not isinstance(parts, dict):
        return "'parts' is not an object"
    named: list[object] = []
    for key in ("tracks", "original"):
        names = parts.get(key)
        if not (isinstance(names, list) and names):
            return f"'parts.{key}' is not a list of files"
        named += names
    for key, fields in (("sample", ("file",)), ("directory", ("songs_file", "index_file"))):
        entry = parts.get(key)
        if entry is None:
            continue
        if not isinstance(entry, dict):
            return f"'parts.{key}' is not an object"
        named += [entry.get(field) for field in fields]
        if key == "directory" and entry.get("sorted") is not None:
            problem = _derived_problem(entry["sorted"], files, "parts.directory.sorted")
            if problem:
                return problem
    unlisted = [str(n) for n in named if not (isinstance(n, str) and n in files)]
    if unlisted:
        return f"'parts' names {', '.join(unlisted[:3])}, which 'files' does not list"
    return None


def _derived_problem(derived: object, files: dict[str, str], key: str = "derived") -> str | None:
    """What is wrong with the ``derived`` entry of a manifest (files a higher layer derived
    from the atlas, such as the discovery index), or the like entry at ``key`` (the
    directory's sort orders, ``parts.directory.sorted``), or None: every file it names is
    checksummed."""
    if not (isinstance(derived, dict) and _is(derived.get("version"), int)):
        return f"'{key}' is not an object with a version"
    named = derived.get("files")
    if not (isinstance(named, dict) and all(isinstance(k, str) for k in named)):
        return f"'{key}.files' is not an object of file names"
    unlisted = [str(n) for n in named.values() if not (isinstance(n, str) and n in files)]
    if unlisted:
        return f"'{key}' names {', '.join(unlisted[:3])}, which 'files' does not list"
    return None


def _inside(name: str) -> bool:
    """Whether ``name`` is a relative path that stays inside the atlas folder."""
    relative = PurePosixPath(name)
    return bool(name) and not relative.is_absolute() and ".." not in relative.parts


def _is(value: object, kind: type) -> bool:
    """isinstance, except that True/False do not count as numbers."""
    return isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
