"""Save and load atlas folders: plain formats only, written atomically, checked on load.

An atlas folder holds ``manifest.json`` (written last), ``tracks.parquet``, ``original.parquet``,
``personas.parquet``, ``selection.parquet`` and ``model.npz`` (scaler, PCA, centroids and the Ward
linkage as plain arrays, loaded with ``allow_pickle=False``: nothing in an atlas can run code when
loaded), plus the files a higher layer derives from the atlas and lists in the manifest's
``derived`` entry (the discovery index). `soundatlas.discovery.save.save_atlas` writes it all
into a temporary sibling folder and swaps it into place, so an interrupted save leaves the
previous atlas as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from soundatlas.atlas.checked import (
    CheckedFolder,
    check_agree,
    manifest_fields,
    read_model,
    reading,
)
from soundatlas.atlas.manifest import FILES, FORMAT_VERSION, MANIFEST
from soundatlas.clustering.features import Scaler
from soundatlas.clustering.projection import Projection
from soundatlas.clustering.result import (
    LABEL_COLUMNS,
    PERSONA_COLUMNS,
)
from soundatlas.files import file_sha256

if TYPE_CHECKING:
    from soundatlas.atlas.model import Atlas

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


def write_atlas_files(
    atlas: Atlas,
    folder: Path,
    *,
    parts: dict[str, Any] | None = None,
    derived: dict[str, Any] | None = None,
) -> None:
    """Write the atlas's tables, model and manifest (last) into ``folder``.

    Parameters
    ----------
    parts
        For an atlas whose per-song tables were already written into ``folder`` as Parquet
        parts (the spark engine): the manifest's ``parts`` entry, naming them. Their files are
        checksummed with the rest; ``atlas.tracks`` and ``atlas.original`` are not written.
    derived
        Files a higher layer derived from the atlas and already wrote into ``folder`` (the
        discovery index: `soundatlas.discovery.stored`): the manifest's ``derived`` entry,
        ``{"version": …, "files": {part name: file name}}``. Checksummed with the rest.
    """
    hashes = _write_files(atlas, folder, tables=parts is None)
    if derived is not None:
        hashes |= {name: file_sha256(folder / name) for name in derived["files"].values()}
    if parts is not None:
        listed = [*parts["tracks"], *parts["original"]]
        if parts.get("sample"):
            listed.append(parts["sample"]["file"])
        if parts.get("directory"):
            directory = parts["directory"]
            listed += [directory["songs_file"], directory["index_file"]]
            listed += list((directory.get("sorted") or {}).get("files", {}).values())
        hashes |= {name: file_sha256(folder / name) for name in listed}
    manifest = _manifest(atlas, hashes)
    if parts is not None:
        manifest["parts"] = parts
    if derived is not None:
        manifest["derived"] = derived
    _write_bytes(folder / MANIFEST, json.dumps(manifest, indent=2, default=_json_default).encode())


def relist_derived(
    folder: Path,
    manifest: dict[str, Any],
    *,
    derived: dict[str, Any] | None = None,
    directory_sorted: dict[str, Any] | None = None,
) -> None:
    """Write the manifest of ``folder``, holding an atlas's files
    (`soundatlas.atlas.folders.relinked_atlas`) plus derived files just written into it:
    ``manifest`` with its ``derived`` entry and/or its directory's ``sorted`` entry replaced,
    the new files checksummed, and the files of the entries replaced (an older version's)
    unlisted and removed. Everything else, the fingerprint included, is kept: the atlas is
    the same, only its derived indexes are new."""
    manifest = json.loads(json.dumps(manifest, default=_json_default))
    manifest.pop("path", None)
    files: dict[str, str] = manifest["files"]

    def replace(old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        kept = set(new["files"].values())
        for name in (old or {}).get("files", {}).values():
            if name not in kept:
                files.pop(name, None)
                (folder / name).unlink(missing_ok=True)
        files.update({name: file_sha256(folder / name) for name in new["files"].values()})

    if derived is not None:
        replace(manifest.get("derived"), derived)
        manifest["derived"] = derived
    if directory_sorted is not None:
        directory = manifest["parts"]["directory"]
        replace(directory.get("sorted"), directory_sorted)
        directory["sorted"] = directory_sorted
    _write_bytes(folder / MANIFEST, json.dumps(manifest, indent=2, default=_json_default).encode())


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


def _manifest(atlas: Atlas, hashes: dict[str, str]) -> dict[str, Any]:
    names = [n for n in FILES if n in hashes] + sorted(n for n in hashes if n not in FILES)
    fingerprint = hashlib.sha256("".join(hashes[n] for n in names).encode()).hexdigest()[:16]
    manifest = dict(atlas.manifest)
    manifest.pop("path", None)
    manifest.pop("derived", None)  # a loaded atlas's: written again only when written again
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
    folder = CheckedFolder(path, verify=verify)
    folder.check_all()
    fields = _assemble(path, folder.manifest)
    _check_parts_agree(path, fields)
    return fields


def _song_tables(path: Path, manifest: dict[str, Any]) -> tuple[pd.DataFrame, TableReader]:
    """The track table, and a reader of the original rows (read when first asked for: no
    query needs them): whole files, Parquet parts, or (for a catalog above `IN_MEMORY_SONGS`)
    the stated sample of tracks and no original rows."""
    parts = manifest.get("parts")
    if parts is None:
        tracks = _read_parquet_files(path, ["tracks.parquet"], lists=NAME_LISTS)
        original = TableReader(path, ["original.parquet"])
    elif parts.get("sample"):
        tracks = _read_parquet_files(path, [parts["sample"]["file"]], lists=NAME_LISTS)
        original = TableReader(path, parts["original"][:1], schema_only=True)
    else:
        tracks = _read_parquet_files(path, parts["tracks"], lists=NAME_LISTS)
        original = TableReader(path, parts["original"])
    return tracks, original


NAME_LISTS = ("artists", "genres")
"""Track columns holding a list of names per song, read as Python lists (``[]`` for none)."""


class TableReader:
    """Reads one table of an atlas from its Parquet files when called (see `Atlas.original`);
    a failure names the file."""

    def __init__(self, path: Path, names: list[str], *, schema_only: bool = False) -> None:
        self.path, self.names, self.schema_only = path, list(names), schema_only

    def __call__(self) -> pd.DataFrame:
        if self.schema_only:
            with reading(self.path, self.names[0]):
                return pq.read_schema(self.path / self.names[0]).empty_table().to_pandas()
        return _read_parquet_files(self.path, self.names)


def _read_parquet_files(
    path: Path, names: list[str], *, lists: tuple[str, ...] = ()
) -> pd.DataFrame:
    """One table from Parquet files of the atlas, read in order; a failure names the file.

    The ``lists`` columns become Python lists straight from Arrow (``[]`` for a missing
    list): going through pandas first (a NumPy array per cell) took twice as long.
    """
    tables = []
    for name in names:
        with reading(path, name):
            tables.append(pq.read_table(path / name))
    with reading(path, names[0]):
        table = pa.concat_tables(tables)
        frame = table.drop_columns(list(lists)).to_pandas()
        for column in lists:
            values = table.column(column)
            if pa.types.is_null(values.type):  # no song has the list at all
                frame[column] = [[] for _ in range(len(values))]
            else:
                frame[column] = pc.fill_null(values, pa.scalar([], values.type)).to_pylist()
        return frame[table.column_names] if lists else frame


def _assemble(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    tracks, original = _song_tables(path, manifest)
    with reading(path, "personas.parquet"):
        personas = pq.read_table(path / "personas.parquet").to_pandas()
        for column in ("reasons", "dominant_genres"):
            personas[column] = personas[column].map(json.loads)
        for method, column in PERSONA_COLUMNS.items():
            if column in tracks and not isinstance(tracks[column].dtype, pd.CategoricalDtype):
                names = personas.loc[personas["method"] == method, "persona"]
                tracks[column] = pd.Categorical(tracks[column], categories=names.unique())
    with reading(path, "selection.parquet"):
        selection = pq.read_table(path / "selection.parquet").to_pandas()
    model = read_model(path, path / "model.npz")
    config, report, methods = manifest_fields(path, manifest)
    with reading(path, "model.npz"):
        return dict(
            tracks=tracks,
            original_rows=original,
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
    """Refuse an atlas whose files do not belong together (`check_agree`)."""
    tracks, personas = fields["tracks"], fields["personas"]
    model = {
        "scaler_center": fields["scaler"].center,
        "scaler_scale": fields["scaler"].scale,
        "pca_mean": fields["projection"].mean,
        "pca_components": fields["projection"].components,
        **{f"centroids_{m}": c for m, c in fields["centroids"].items()},
    }
    if fields["linkage"] is not None:
        model["linkage"] = fields["linkage"]

    def labels(method: str) -> np.ndarray | None:
        column = LABEL_COLUMNS[method]
        if column not in tracks or tracks[column].dtype.kind not in "iu":
            return None
        return tracks[column].to_numpy()

    check_agree(
        path,
        fields["manifest"],
        config=fields["config"],
        model=model,
        columns=set(tracks.columns),
        songs=len(tracks),
        labels=labels,
        clusters=lambda m: set(personas.loc[personas["method"] == m, "cluster"].tolist()),
    )
