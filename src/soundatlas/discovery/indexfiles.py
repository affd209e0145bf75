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
from pathlib import Path

import numpy as np
import pyarrow as pa

from soundatlas.atlas.model import Atlas
from soundatlas.discovery.textindex import Parts
from soundatlas.errors import AtlasError

INDEX_VERSION = 1
"""Changes whenever what the index derives changes (how names fold, which songs are one
recording): saved parts of another version are ignored, and the index is built again."""
_PREFIX = "index."
_COLUMN = "values"


def write_parts(folder: Path, parts: Parts) -> dict[str, object]:
    """Write ``parts`` into the atlas folder being saved; the manifest's ``derived`` entry."""
    files = {name: write_part(folder, f"{_PREFIX}{name}", values) for name, values in parts.items()}
    return {"version": INDEX_VERSION, "files": files}


def stored_parts(atlas: Atlas) -> Parts | None:
    """The index parts saved with ``atlas``, memory-mapped; None when it has none of this
    `INDEX_VERSION` (an atlas saved before, or built in memory).

    Raises
    ------
    AtlasError
        A part cannot be read; the message names its file.
    """
    derived = atlas.manifest.get("derived")
    folder = atlas.manifest.get("path")
    if not (isinstance(derived, dict) and derived.get("version") == INDEX_VERSION and folder):
        return None
    files = derived["files"]
    parts = {name: read_part(Path(folder), file) for name, file in files.items()}
    problem = _parts_problem(parts, len(atlas.tracks), len(atlas.scaler.features))
    if problem is not None:
        name, what = problem
        raise AtlasError(
            f"{folder}: {files.get(name, name)} does not belong with the rest of the atlas "
            f"({what}); a file was replaced or edited. Rebuild the atlas with `soundatlas build`."
        )
    return parts


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


def _parts_problem(parts: Parts, songs: int, features: int) -> tuple[str, str] | None:
    """(part, what is wrong) when the parts do not fit an atlas of ``songs`` songs and
    ``features`` features (one copied in from another atlas, say), else None. Shapes and
    ranges only: the checksums in the manifest vouch for the contents."""
    missing = [name for name in _REQUIRED if name not in parts]
    if missing:
        return missing[0], "the index lacks it"
    for name in _PER_SONG:
        if len(parts[name]) != songs:
            return name, f"it holds {len(parts[name]):,} values for {songs:,} songs"
    for name, widths in (("unit", (features,)), ("context_unit", range(features, features + 4))):
        shape, dtype = parts[name].shape, parts[name].dtype
        if len(shape) != 2 or shape[1] not in widths or dtype != np.float32:
            return name, f"it is {dtype} of shape {shape}, not unit rows of {features} features"
    pointers, codes = parts["row_artist_ptr"], parts["row_artist_codes"]
    artists = len(parts["artist_keys"])
    if len(pointers) != songs + 1 or (songs and pointers[-1] != len(codes)):
        return "row_artist_ptr", "its song pointers do not span the artist codes"
    if len(parts["artist_display"]) != artists:
        return "artist_display", f"it names {len(parts['artist_display']):,} of {artists:,} artists"
    for name, limit in (("row_artist_codes", artists), ("primary_artist", artists)):
        values = parts[name]
        if len(values) and (values.max() >= limit or values.min() < -1):
            return name, "its artist codes are out of range"
    ranges = {"recording": songs}
    for name in parts:
        if name.endswith(".items"):
            ranges[name] = artists if name.startswith("text.artists.") else songs
    for name, limit in ranges.items():
        values = parts[name]
        if len(values) and (values.max() >= limit or values.min() < 0):
            return name, "its rows are out of range"
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


def read_part(folder: Path, file: str) -> np.ndarray | pa.Array:
    """One array `write_part` wrote, memory-mapped.

    Raises
    ------
    AtlasError
        The file cannot be read as such an array; the message names it.
    """
    try:
        if file.endswith(".arrow"):
            # Zero-copy: the arrays keep the mapping alive.
            column = pa.ipc.open_file(pa.memory_map(str(folder / file))).read_all()[_COLUMN]
            return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        values = np.load(folder / file, mmap_mode="r", allow_pickle=False)
        if values.dtype.kind not in "biuf":
            raise ValueError(f"holds {values.dtype} values, not numbers")
        return values
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise AtlasError(
            f"{folder}: {file} cannot be read as part of the atlas's derived indexes "
            f"({str(exc)[:200]}). Rebuild the atlas with `soundatlas build`."
        ) from exc
