"""Save and load atlas folders: plain formats only, written atomically, checked on load.

An atlas folder holds ``manifest.json`` (written last), ``tracks.parquet``, ``original.parquet``,
``personas.parquet``, ``selection.parquet`` and ``model.npz`` (scaler, PCA, centroids and the Ward
linkage as plain arrays, loaded with ``allow_pickle=False``: nothing in an atlas can run code when
loaded). It is written to a temporary sibling folder and swapped into place, so an interrupted
save leaves the previous atlas as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import threading
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from soundatlas.clustering.features import Scaler
from soundatlas.clustering.projection import Projection
from soundatlas.clustering.result import (
    LABEL_COLUMNS,
    METHOD_TITLES,
    PERSONA_COLUMNS,
    MethodSummary,
)
from soundatlas.config import BuildConfig
from soundatlas.errors import AtlasError, OutputError, SoundAtlasError
from soundatlas.files import file_sha256, fsync_folder, unwritable
from soundatlas.ingest.validation import ValidationReport

if TYPE_CHECKING:
    from soundatlas.atlas.model import Atlas

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES = ("tracks.parquet", "original.parquet", "personas.parquet", "selection.parquet", "model.npz")
LIBRARIES = ("numpy", "pandas", "pyarrow", "scipy", "scikit-learn", "numba", "fast_hdbscan")


def version_of(package: str) -> str | None:
    """Installed version of a package, or None."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


IN_MEMORY_SONGS = 1_000_000
"""Largest catalog an atlas loads whole. A bigger one (built by the spark engine) also holds a
uniform random sample of about this many songs, which is what `load_atlas` brings into memory
for charts and lookups; counts, cluster sizes, means and exports still cover every song."""


def save_atlas(atlas: Atlas, path: str | Path) -> Path:
    """Write ``atlas`` to the folder ``path``, replacing any atlas there only once complete."""
    with staged_atlas(path) as folder:
        write_atlas_files(atlas, folder)
    return Path(path)


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


def write_atlas_files(atlas: Atlas, folder: Path, *, parts: dict[str, Any] | None = None) -> None:
    """Write the atlas's tables, model and manifest (last) into ``folder``.

    Parameters
    ----------
    parts
        For an atlas whose per-song tables were already written into ``folder`` as Parquet
        parts (the spark engine): the manifest's ``parts`` entry, naming them. Their files are
        checksummed with the rest; ``atlas.tracks`` and ``atlas.original`` are not written.
    """
    hashes = _write_files(atlas, folder, tables=parts is None)
    if parts is not None:
        listed = [*parts["tracks"], *parts["original"]]
        if parts.get("sample"):
            listed.append(parts["sample"]["file"])
        if parts.get("directory"):
            listed += [parts["directory"]["songs_file"], parts["directory"]["index_file"]]
        hashes |= {name: file_sha256(folder / name) for name in listed}
    manifest = _manifest(atlas, hashes)
    if parts is not None:
        manifest["parts"] = parts
    _write_bytes(folder / MANIFEST, json.dumps(manifest, indent=2, default=_json_default).encode())


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
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: is not a folder; give a folder name for the atlas.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{path}: its folder cannot be created ({exc.strerror}). Choose another location."
        ) from exc
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"{path}: {path.parent} is not writable. Choose another location.")
    # Under the lock swaps hold: another save's swap must not be seen half-done (the folder
    # briefly absent, or its listing and manifest from two different atlases).
    with _folder_lock(path.parent):
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


def _write_files(atlas: Atlas, folder: Path, *, tables: bool = True) -> dict[str, str]:
    if tables:
        _write_parquet(atlas.tracks, folder / "tracks.parquet")
        _write_parquet(atlas.original, folder / "original.parquet")
    personas = atlas.personas.copy()
    for column in ("reasons", "dominant_genres"):
        personas[column] = personas[column].map(json.dumps)
    _write_parquet(personas, folder / "personas.parquet")
    _write_parquet(atlas.selection, folder / "selection.parquet")
    arrays = {
        "scaler_center": atlas.scaler.center,
        "scaler_scale": atlas.scaler.scale,
        "pca_mean": atlas.projection.mean,
        "pca_components": atlas.projection.components,
        "pca_explained_variance_ratio": atlas.projection.explained_variance_ratio,
        **{f"centroids_{m}": c for m, c in atlas.centroids.items()},
    }
    if atlas.linkage is not None:
        arrays["linkage"] = atlas.linkage
    if atlas.linkage_songs is not None:
        arrays["linkage_songs"] = atlas.linkage_songs
    with (folder / "model.npz").open("wb") as handle:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())
    return {name: file_sha256(folder / name) for name in FILES if (folder / name).is_file()}


def _write_parquet(frame: pd.DataFrame, target: Path) -> None:
    frame = frame.reset_index(drop=True)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        frame = frame.copy()
        for column in [c for c in frame.columns if frame[c].dtype == np.dtype(object)]:
            frame[column] = frame[column].map(
                lambda v: v if v is None or isinstance(v, list) else str(v)
            )
        table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, target, compression="zstd")
    with target.open("rb") as handle:
        os.fsync(handle.fileno())


def _write_bytes(target: Path, data: bytes) -> None:
    with target.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


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


def _swap_into_place(temporary: Path, path: Path) -> None:
    """Rename the finished folder to ``path``; an old atlas there is moved aside, then removed.

    Ctrl+C and SIGTERM wait until the swap is done (`_signals_held`). If the process dies
    between the two renames, the next load or build finds the old atlas aside and puts it back
    (`_recover_interrupted_swap`).
    """
    with _signals_held(), _folder_lock(path.parent):
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


def _manifest(atlas: Atlas, hashes: dict[str, str]) -> dict[str, Any]:
    names = [n for n in FILES if n in hashes] + sorted(n for n in hashes if n not in FILES)
    fingerprint = hashlib.sha256("".join(hashes[n] for n in names).encode()).hexdigest()[:16]
    manifest = dict(atlas.manifest)
    manifest.pop("path", None)
    manifest.update(
        {
            "format_version": FORMAT_VERSION,
            "soundatlas_version": version_of("soundatlas"),
            "libraries": {name: version_of(name) for name in LIBRARIES},
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "fingerprint": fingerprint,
            "config": atlas.config.to_dict(),
            "rows": {
                "read": atlas.report.rows_read,
                "tracks": atlas.report.tracks,
                "rejected": atlas.report.rows_rejected,
                "merged": atlas.report.rows_merged,
            },
            "report": atlas.report.to_dict(),
            "scaler": {"kind": atlas.scaler.kind, "features": list(atlas.scaler.features)},
            "projection": {
                "explained_variance_ratio": atlas.projection.explained_variance_ratio.tolist(),
                "features": list(atlas.projection.features),
                "loadings": atlas.projection.loadings().round(4).to_dict(),
            },
            "methods": {
                m: {
                    "params": s.params,
                    "rule": s.rule,
                    "scores": s.scores,
                    "details": s.details,
                    "timings": s.timings,
                }
                for m, s in atlas.methods.items()
            },
            "files": hashes,
        }
    )
    return manifest


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in the manifest")


def read_atlas(path: str | Path, *, verify: bool = True) -> dict[str, Any]:
    """The fields of the `Atlas` in a folder written by `save_atlas` (open one with
    `soundatlas.load_atlas`).

    Parameters
    ----------
    verify
        Check every file against the hashes in the manifest (catches damaged or edited files).

    Raises
    ------
    AtlasError
        If the folder is missing, incomplete, damaged, edited or from a newer format; the
        message names the file at fault.
    """
    path = Path(path)
    _recover_interrupted_swap(path)
    manifest = read_manifest(path)
    if verify:
        for name, expected in manifest["files"].items():
            if not (path / name).is_file():
                raise AtlasError(f"{path}: {name} is missing; the atlas is incomplete. Rebuild it.")
            if file_sha256(path / name) != expected:
                raise AtlasError(
                    f"{path}: {name} does not match its checksum in the manifest (damaged or "
                    "edited). Rebuild the atlas with `soundatlas build`."
                )
    fields = _assemble(path, manifest)
    _check_parts_agree(path, fields)
    return fields


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


def _song_tables(path: Path, manifest: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The track table and the original rows: whole files, Parquet parts, or (for a catalog
    above `IN_MEMORY_SONGS`) the stated sample of tracks and no original rows."""
    parts = manifest.get("parts")
    if parts is None:
        tracks = _read_parquet_files(path, ["tracks.parquet"])
        original = _read_parquet_files(path, ["original.parquet"])
    elif parts.get("sample"):
        tracks = _read_parquet_files(path, [parts["sample"]["file"]])
        with _reading(path, parts["original"][0]):
            original = pq.read_schema(path / parts["original"][0]).empty_table().to_pandas()
    else:
        tracks = _read_parquet_files(path, parts["tracks"])
        original = _read_parquet_files(path, parts["original"])
    with _reading(path, "tracks.parquet" if parts is None else "the tracks' Parquet parts"):
        for column in ("artists", "genres"):
            tracks[column] = [list(v) if v is not None else [] for v in tracks[column].to_numpy()]
    return tracks, original


def _read_parquet_files(path: Path, names: list[str]) -> pd.DataFrame:
    """One table from Parquet files of the atlas, read in order; a failure names the file."""
    tables = []
    for name in names:
        with _reading(path, name):
            tables.append(pq.read_table(path / name))
    with _reading(path, names[0]):
        return pa.concat_tables(tables).to_pandas()


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
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
    unlisted = [str(n) for n in named if not (isinstance(n, str) and n in files)]
    if unlisted:
        return f"'parts' names {', '.join(unlisted[:3])}, which 'files' does not list"
    return None


def _inside(name: str) -> bool:
    """Whether ``name`` is a relative path that stays inside the atlas folder."""
    relative = PurePosixPath(name)
    return bool(name) and not relative.is_absolute() and ".." not in relative.parts


def _is(value: object, kind: type) -> bool:
    """isinstance, except that True/False do not count as numbers."""
    return isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)


_READ_ERRORS = (
    OSError,
    EOFError,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    zipfile.BadZipFile,
    pa.ArrowException,
    SoundAtlasError,
)


@contextlib.contextmanager
def _reading(path: Path, name: str) -> Iterator[None]:
    """Turn any failure to read or make sense of one file of an atlas into one AtlasError
    naming that file."""
    try:
        yield
    except _READ_ERRORS as exc:
        reason = str(exc)[:200] or type(exc).__name__
        raise AtlasError(
            f"{path}: {name} cannot be read as part of an atlas ({reason}). Rebuild the atlas "
            "with `soundatlas build`."
        ) from exc


def _assemble(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    tracks, original = _song_tables(path, manifest)
    with _reading(path, "personas.parquet"):
        personas = pq.read_table(path / "personas.parquet").to_pandas()
        for column in ("reasons", "dominant_genres"):
            personas[column] = personas[column].map(json.loads)
        for method, column in PERSONA_COLUMNS.items():
            if column in tracks and not isinstance(tracks[column].dtype, pd.CategoricalDtype):
                names = personas.loc[personas["method"] == method, "persona"]
                tracks[column] = pd.Categorical(tracks[column], categories=names.unique())
    with _reading(path, "selection.parquet"):
        selection = pq.read_table(path / "selection.parquet").to_pandas()
    with _reading(path, "model.npz"), np.load(path / "model.npz", allow_pickle=False) as arrays:
        model = {name: arrays[name] for name in arrays.files}
        for name, values in model.items():
            if values.dtype.kind not in "biuf":
                raise ValueError(f"{name} holds {values.dtype} values, not numbers")
    with _reading(path, MANIFEST):
        config = BuildConfig.from_dict(manifest["config"])
        report = ValidationReport.from_dict(manifest["report"])
        methods = {
            m: MethodSummary(m, v["params"], v["rule"], v["scores"], v["details"], v["timings"])
            for m, v in manifest["methods"].items()
        }
    with _reading(path, "model.npz"):
        return dict(
            tracks=tracks,
            original=original,
            report=report,
            config=config,
            scaler=Scaler(
                tuple(manifest["scaler"]["features"]),
                manifest["scaler"]["kind"],
                model["scaler_center"],
                model["scaler_scale"],
            ),
            projection=Projection(
                tuple(manifest["projection"]["features"]),
                model["pca_mean"],
                model["pca_components"],
                model["pca_explained_variance_ratio"],
            ),
            methods=methods,
            centroids={m: model[f"centroids_{m}"] for m in methods},
            personas=personas,
            selection=selection,
            linkage=model.get("linkage"),
            linkage_songs=model.get("linkage_songs"),
            manifest=manifest | {"path": str(path)},
        )


def _check_parts_agree(path: Path, fields: dict[str, Any]) -> None:
    """Refuse an atlas whose files do not belong together (one copied in from another atlas,
    with the manifest's checksum edited to match): commands would otherwise fail deep inside,
    or answer from mismatched tables."""
    config, scaler, projection = fields["config"], fields["scaler"], fields["projection"]
    tracks, personas, centroids = fields["tracks"], fields["personas"], fields["centroids"]
    linkage, manifest = fields["linkage"], fields["manifest"]
    features = config.features
    if scaler.features != features or projection.features != features:
        raise _disagree(path, MANIFEST, "its scaler, projection and config name other features")
    width = len(features)
    model = {
        "scaler_center": scaler.center,
        "scaler_scale": scaler.scale,
        "pca_mean": projection.mean,
        **{f"centroids_{m}": c for m, c in centroids.items()},
    }
    for name, values in model.items():
        if values.ndim not in (1, 2) or values.shape[-1] != width:
            raise _disagree(path, "model.npz", f"{name} is not made of {width} features")
    components = projection.components
    if components.ndim != 2 or components.shape[1] != width:
        raise _disagree(path, "model.npz", f"pca_components is not made of {width} features")
    missing = [f for f in features if f not in tracks]
    if missing:
        raise _disagree(path, "tracks.parquet", f"it has no {', '.join(missing)} column")
    rows = manifest.get("rows", {}).get("tracks", len(tracks))
    sampled = bool((manifest.get("parts") or {}).get("sample"))
    if rows != len(tracks) and not sampled:
        raise _disagree(
            path, "tracks.parquet", f"it holds {len(fields['tracks']):,} songs, not {rows}"
        )
    for method in fields["methods"]:
        column = LABEL_COLUMNS[method]
        if column not in tracks or tracks[column].dtype.kind not in "iu":
            raise _disagree(path, "tracks.parquet", f"it has no {method} labels")
        named = set(personas.loc[personas["method"] == method, "cluster"].tolist())
        if named - {-1} != set(range(len(centroids[method]))):
            raise _disagree(
                path, "personas.parquet", f"its {method} clusters are not those of model.npz"
            )
        if not set(np.unique(tracks[column]).tolist()) <= named:
            raise _disagree(path, "tracks.parquet", f"its {method} labels are not the clusters'")
    if linkage is not None and (linkage.ndim != 2 or linkage.shape[1] != 4):
        raise _disagree(path, "model.npz", "its Ward linkage is not a linkage matrix")


def _disagree(path: Path, name: str, what: str) -> AtlasError:
    return AtlasError(
        f"{path}: {name} does not belong with the rest of the atlas ({what}); a file was "
        "replaced or edited. Rebuild the atlas with `soundatlas build`."
    )
