"""An atlas folder whose files are checked against the manifest's checksums as they are read.

The manifest lists a SHA-256 for every file of the atlas, to catch a damaged or edited file.
`read_atlas` reads every file and so checks them all up front; a one-off query (a similar-songs
question, a search) reads a handful of them, and `CheckedFolder` checks exactly those, each
when it is first read, with the same messages. This module imports no pandas: the query path
of the command line reads an atlas without it (see `soundatlas.discovery.saved`).
"""

from __future__ import annotations

import contextlib
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from soundatlas.atlas.folders import _recover_interrupted_swap
from soundatlas.atlas.manifest import MANIFEST, read_manifest
from soundatlas.clustering.result import MethodSummary
from soundatlas.config import BuildConfig
from soundatlas.errors import AtlasError, SoundAtlasError
from soundatlas.files import file_sha256
from soundatlas.ingest.validation import ValidationReport


class CheckedFolder:
    """The files of one atlas folder, each checked against the manifest when first read.

    Parameters
    ----------
    path
        The atlas folder. A swap cut short by a killed save is undone first, as by every load.
    verify
        Check each file's SHA-256 (False trusts the files, as ``load_atlas(verify=False)``).
    """

    def __init__(self, path: str | Path, *, verify: bool = True) -> None:
        self.path = Path(path)
        _recover_interrupted_swap(self.path)
        self.manifest: dict[str, Any] = read_manifest(self.path)
        self.verify = verify
        self._checked: set[str] = set()
        self._lock = threading.Lock()
        if verify:  # a missing file is a missing file, whether or not this reader needs it
            for name in self.manifest["files"]:
                if not (self.path / name).is_file():
                    raise _missing(self.path, name)

    def file(self, name: str) -> Path:
        """The path of the atlas's file ``name``, once it is known to be the file the manifest
        lists (present, and equal to its checksum).

        Raises
        ------
        AtlasError
            The file is missing, not listed, or does not match its checksum.
        """
        target = self.path / name
        if not self.verify or name in self._checked:
            return target
        expected = self.manifest["files"].get(name)
        if expected is None:
            raise AtlasError(
                f"{self.path}: {name} is not listed in {self.path / 'manifest.json'}; the atlas "
                "is incomplete or was edited. Rebuild it with `soundatlas build`."
            )
        if not target.is_file():
            raise _missing(self.path, name)
        if file_sha256(target) != expected:
            raise AtlasError(
                f"{self.path}: {name} does not match its checksum in the manifest (damaged or "
                "edited). Rebuild the atlas with `soundatlas build`."
            )
        with self._lock:
            self._checked.add(name)
        return target

    def check_all(self) -> None:
        """Check every file the manifest lists (what loading a whole atlas reads)."""
        for name in self.manifest["files"]:
            self.file(name)


def disagree(path: Path, name: str, what: str) -> AtlasError:
    """The error for a file of the atlas at ``path`` that does not belong with the rest
    (``what`` says how): one copied in from another atlas, with the manifest's checksum edited
    to match. Commands would otherwise fail deep inside, or answer from mismatched tables."""
    return AtlasError(
        f"{path}: {name} does not belong with the rest of the atlas ({what}); a file was "
        "replaced or edited. Rebuild the atlas with `soundatlas build`."
    )


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
def reading(path: Path, name: str) -> Iterator[None]:
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


def _missing(path: Path, name: str) -> AtlasError:
    return AtlasError(f"{path}: {name} is missing; the atlas is incomplete. Rebuild it.")


MODEL = "model.npz"


def read_model(path: Path, file: Path) -> dict[str, np.ndarray]:
    """The arrays of the atlas's ``model.npz`` (at ``file``), numbers only: loaded without
    pickles, so nothing in an atlas can run code."""
    with reading(path, MODEL), np.load(file, allow_pickle=False) as arrays:
        model = {name: arrays[name] for name in arrays.files}
        for name, values in model.items():
            if values.dtype.kind not in "biuf":
                raise ValueError(f"{name} holds {values.dtype} values, not numbers")
    return model


def manifest_fields(
    path: Path, manifest: dict[str, Any]
) -> tuple[BuildConfig, ValidationReport, dict[str, MethodSummary]]:
    """The build options, the validation report and the method summaries a manifest records;
    an AtlasError naming the manifest when one cannot be made from it."""
    with reading(path, MANIFEST):
        config = BuildConfig.from_dict(manifest["config"])
        report = ValidationReport.from_dict(manifest["report"])
        methods = {
            m: MethodSummary(m, v["params"], v["rule"], v["scores"], v["details"], v["timings"])
            for m, v in manifest["methods"].items()
        }
    return config, report, methods


def check_agree(
    path: Path,
    manifest: dict[str, Any],
    *,
    config: BuildConfig,
    model: dict[str, np.ndarray],
    columns: set[str],
    songs: int,
    labels: Callable[[str], np.ndarray | None],
    clusters: Callable[[str], set[int]],
) -> None:
    """Refuse an atlas whose files do not belong together (one copied in from another atlas,
    with the manifest's checksum edited to match): commands would otherwise fail deep inside,
    or answer from mismatched tables.

    Parameters
    ----------
    model
        The arrays of ``model.npz``.
    columns, songs
        The track table's columns and its number of rows.
    labels
        A method's label column (None when the table has no whole-number one).
    clusters
        The clusters the persona table names for a method.
    """
    features = config.features
    scaler = tuple(manifest["scaler"]["features"])
    projection = tuple(manifest["projection"]["features"])
    if scaler != features or projection != features:
        raise disagree(path, MANIFEST, "its scaler, projection and config name other features")
    width = len(features)
    with reading(path, MODEL):
        centroids = {m: model[f"centroids_{m}"] for m in manifest["methods"]}
        shaped = {n: model[n] for n in ("scaler_center", "scaler_scale", "pca_mean")}
        components = model["pca_components"]
    for name, values in {**shaped, **{f"centroids_{m}": c for m, c in centroids.items()}}.items():
        if values.ndim not in (1, 2) or values.shape[-1] != width:
            raise disagree(path, MODEL, f"{name} is not made of {width} features")
    if components.ndim != 2 or components.shape[1] != width:
        raise disagree(path, MODEL, f"pca_components is not made of {width} features")
    missing = [f for f in features if f not in columns]
    if missing:
        raise disagree(path, "tracks.parquet", f"it has no {', '.join(missing)} column")
    rows = manifest.get("rows", {}).get("tracks", songs)
    sampled = bool((manifest.get("parts") or {}).get("sample"))
    if rows != songs and not sampled:
        raise disagree(path, "tracks.parquet", f"it holds {songs:,} songs, not {rows}")
    for method in manifest["methods"]:
        values = labels(method)
        if values is None:
            raise disagree(path, "tracks.parquet", f"it has no {method} labels")
        named = clusters(method)
        if named - {-1} != set(range(len(centroids[method]))):
            raise disagree(
                path, "personas.parquet", f"its {method} clusters are not those of {MODEL}"
            )
        if not set(np.unique(values).tolist()) <= named:
            raise disagree(path, "tracks.parquet", f"its {method} labels are not the clusters'")
    linkage = model.get("linkage")
    if linkage is not None and (linkage.ndim != 2 or linkage.shape[1] != 4):
        raise disagree(path, MODEL, "its Ward linkage is not a linkage matrix")
