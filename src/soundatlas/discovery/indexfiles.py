"""The discovery index's files in an atlas folder: written beside the atlas, mapped on load.

Building the index (`soundatlas.discovery.index`) folds every title and artist name, groups
releases into recordings and sorts the text lookups: most of a one-off query's time at 100k
songs. So `soundatlas.discovery.save.save_atlas` writes the index's parts as files of the atlas
folder (checksummed in its manifest's ``derived`` entry, swapped in with the rest), and
`stored_parts` opens them memory-mapped: numbers as ``.npy`` (``np.load(mmap_mode="r")``), text
as uncompressed Arrow IPC files. Worker processes of one server then share their pages too.

An atlas saved without them (by an older SoundAtlas, by the spark engine, or with another
`INDEX_VERSION`) still loads: its index is built on first use, as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from soundatlas.discovery.textindex import Parts
from soundatlas.errors import AtlasError

if TYPE_CHECKING:
    from soundatlas.atlas.model import Atlas

INDEX_VERSION = 1
"""Changes whenever what the index derives changes (how names fold, which songs are one
recording): saved parts of another version are ignored, and the index is built again."""
_PREFIX = "index."
_COLUMN = "values"


def write_parts(folder: Path, parts: Parts) -> dict[str, object]:
    """Write ``parts`` into the atlas folder being saved; the manifest's ``derived`` entry."""
    files = {name: write_part(folder, f"{_PREFIX}{name}", values) for name, values in parts.items()}
    return {"version": INDEX_VERSION, "files": files}


def stored_parts(atlas: Atlas) -> SavedParts | None:
    """The index parts saved with ``atlas``, memory-mapped and checked; None when it has none
    of this `INDEX_VERSION` (an atlas saved before, or built in memory).

    Raises
    ------
    AtlasError
        A part cannot be read or does not belong with the atlas; the message names its file.
    """
    folder = atlas.manifest.get("path")
    if not folder:
        return None
    parts = read_parts(
        Path(folder),
        atlas.manifest,
        songs=len(atlas.tracks),
        features=len(atlas.scaler.features),
        file=lambda name: Path(folder) / name,  # load_atlas checked every file
    )
    if parts is not None:
        parts.check_all()
    return parts


def read_parts(
    folder: Path,
    manifest: dict,
    *,
    songs: int,
    features: int,
    file: Callable[[str], Path],
) -> SavedParts | None:
    """The index parts listed in the ``manifest`` of the atlas in ``folder``, each mapped when
    first used, its file's path given by ``file`` (which checks it: `CheckedFolder.file`);
    None when it has none of this `INDEX_VERSION`. Every part is refused when it does not fit
    an atlas of ``songs`` songs and ``features`` features."""
    derived = manifest.get("derived")
    if not (isinstance(derived, dict) and derived.get("version") == INDEX_VERSION):
        return None
    return SavedParts(folder, derived["files"], songs=songs, features=features, file=file)


_PER_SONG = (
    "unit",
    "context_unit",
    "artists_text",
    "genres_text",
    "primary_artist",
    "recording",
    "title_keys",
)
_REQUIRED = (*_PER_SONG, "row_artist_ptr", "row_artist_codes", "artist_keys", "artist_display")


class SavedParts(Mapping):
    """The saved parts of an atlas's discovery index by name, each read (memory-mapped) and
    checked against the atlas the first time it is used: a question reads only the parts it
    needs (a similar-songs query no text lookup, a search no unit vectors)."""

    def __init__(
        self,
        folder: Path,
        files: dict[str, str],
        *,
        songs: int,
        features: int,
        file: Callable[[str], Path],
    ) -> None:
        self.folder, self.files, self.songs, self.features = folder, files, songs, features
        self._file = file
        self._read: dict[str, np.ndarray | pa.Array] = {}
        self._lock = threading.RLock()  # a check may read another part
        missing = [name for name in _REQUIRED if name not in files]
        if missing:
            raise self._refused(missing[0], "the index lacks it")

    def __getitem__(self, name: str) -> np.ndarray | pa.Array:
        found = self._read.get(name)
        if found is not None:
            return found
        with self._lock:
            if name not in self._read:
                part = self.files[name]
                values = read_part(self.folder, part, self._file(part))
                self._read[name] = values
                problem = self._problem(name, values)
                if problem is not None:
                    del self._read[name]
                    raise self._refused(name, problem)
            return self._read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def check_all(self) -> None:
        """Read and check every part now (a loaded atlas's index uses them all)."""
        for name in self.files:
            self[name]

    def _refused(self, name: str, what: str) -> AtlasError:
        return AtlasError(
            f"{self.folder}: {self.files.get(name, name)} does not belong with the rest of the "
            f"atlas ({what}); a file was replaced or edited. Rebuild the atlas with "
            "`soundatlas build`."
        )

    def _problem(self, name: str, values: np.ndarray | pa.Array) -> str | None:
        """What is wrong with part ``name`` for this atlas (one copied in from another atlas,
        say), else None. Shapes and ranges only: the checksums vouch for the contents."""
        songs, features = self.songs, self.features
        if name in _PER_SONG and len(values) != songs:
            return f"it holds {len(values):,} values for {songs:,} songs"
        widths = {"unit": (features,), "context_unit": range(features, features + 4)}.get(name)
        if widths is not None:
            shape, dtype = values.shape, values.dtype
            if len(shape) != 2 or shape[1] not in widths or dtype != np.float32:
                return f"it is {dtype} of shape {shape}, not unit rows of {features} features"
        if name == "row_artist_ptr":
            codes = self["row_artist_codes"]
            if len(values) != songs + 1 or (songs and values[-1] != len(codes)):
                return "its song pointers do not span the artist codes"
        artists = len(self["artist_keys"]) if name != "artist_keys" else len(values)
        if name == "artist_display" and len(values) != artists:
            return f"it names {len(values):,} of {artists:,} artists"
        coded = name in ("row_artist_codes", "primary_artist") and len(values)
        if coded and (values.max() >= artists or values.min() < -1):
            return "its artist codes are out of range"
        limit = songs if name == "recording" or name.endswith(".items") else None
        if name.startswith("text.artists.") and name.endswith(".items"):
            limit = artists
        if limit is not None and len(values) and (values.max() >= limit or values.min() < 0):
            return "its rows are out of range"
        return None


def write_part(folder: Path, stem: str, values: np.ndarray | pa.Array) -> str:
    """Write one derived array into the atlas folder being saved as ``stem.npy`` (numbers) or
    ``stem.arrow`` (text, uncompressed Arrow IPC), and fsync it; the file's name.

    A file already there is unlinked first, never rewritten in place: in a folder of hard
    links to a live atlas (`soundatlas.atlas.folders.relinked_atlas`) it is the live atlas's."""
    if isinstance(values, pa.Array):
        file = f"{stem}.arrow"
        (folder / file).unlink(missing_ok=True)
        table = pa.table({_COLUMN: values})
        with (
            pa.OSFile(str(folder / file), "wb") as sink,
            pa.ipc.new_file(sink, table.schema) as out,
        ):
            out.write_table(table)
    else:
        file = f"{stem}.npy"
        (folder / file).unlink(missing_ok=True)
        with (folder / file).open("wb") as handle:
            np.save(handle, np.ascontiguousarray(values), allow_pickle=False)
    with (folder / file).open("rb") as handle:
        os.fsync(handle.fileno())
    return file


def read_part(folder: Path, file: str, path: Path | None = None) -> np.ndarray | pa.Array:
    """One array `write_part` wrote, memory-mapped: ``file`` of the atlas ``folder``, read
    from ``path`` when given (the file as a `soundatlas.atlas.checked.CheckedFolder` vouched
    for it).

    Raises
    ------
    AtlasError
        The file cannot be read as such an array; the message names it.
    """
    path = folder / file if path is None else path
    try:
        if file.endswith(".arrow"):
            # Zero-copy: the arrays keep the mapping alive.
            column = pa.ipc.open_file(pa.memory_map(str(path))).read_all()[_COLUMN]
            return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        values = np.load(path, mmap_mode="r", allow_pickle=False)
        if values.dtype.kind not in "biuf":
            raise ValueError(f"holds {values.dtype} values, not numbers")
        # A plain view of the mapping: NumPy's memmap subclass costs microseconds a scalar
        # read, and a binary search over a sort order reads dozens a lookup.
        return np.asarray(values)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise AtlasError(
            f"{folder}: {file} cannot be read as part of the atlas's derived indexes "
            f"({str(exc)[:200]}). Rebuild the atlas with `soundatlas build`."
        ) from exc
