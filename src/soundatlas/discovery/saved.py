"""A saved atlas opened for one question, without pandas: the command line's ``similar`` and
``search``.

Loading a whole atlas (`soundatlas.load_atlas`) reads every table into pandas and checks every
file: most of a one-off query's time at 100k songs, importing pandas included. A question
needs the discovery index, which `save_atlas` saves with the atlas, and a few columns of the
track table. `open_saved_index` reads exactly those (each file checked against the manifest's
checksum as it is read: `soundatlas.atlas.checked.CheckedFolder`) into the same `QueryIndex`
that the loaded atlas's `DiscoveryIndex` is made of, so the answers are the same.

Atlases without a saved index of this version (saved before, by the spark engine) and atlases
holding a sample of a bigger catalog answer through `load_atlas` as before: `open_saved_index`
returns None for them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from soundatlas.atlas.checked import (
    MODEL,
    CheckedFolder,
    check_agree,
    manifest_fields,
    read_model,
    reading,
)
from soundatlas.clustering.result import LABEL_COLUMNS, PERSONA_COLUMNS
from soundatlas.discovery.arrowconvert import to_arrow, to_numpy, to_objects
from soundatlas.discovery.indexfiles import INDEX_VERSION, read_parts
from soundatlas.discovery.queryindex import QueryIndex

_TRACKS = "tracks.parquet"
_PERSONAS = "personas.parquet"


def open_saved_index(path: str | Path, *, verify: bool = True) -> QueryIndex | None:
    """The `QueryIndex` of the atlas folder ``path``, read from its saved discovery index and
    the few track columns a question reads; None when the atlas has no saved index of this
    version, keeps its songs in Parquet parts, or holds a sample (load it whole instead).

    Raises
    ------
    AtlasError
        A file it reads is missing, damaged, edited or does not belong with the rest; the
        message names it.
    """
    folder = CheckedFolder(path, verify=verify)
    manifest = folder.manifest
    derived = manifest.get("derived")
    if (
        manifest.get("parts") is not None
        or not isinstance(derived, dict)
        or derived.get("version") != INDEX_VERSION
    ):
        return None
    source = SavedTracks(folder)
    parts = read_parts(
        folder.path, manifest, songs=source.size, features=len(source.features), file=folder.file
    )
    return QueryIndex(source, parts)


class SavedTracks:
    """The track table of a saved atlas as the `SongSource` of a `QueryIndex`: each column
    read from ``tracks.parquet`` when first asked for."""

    def __init__(self, folder: CheckedFolder) -> None:
        self.folder = folder
        path, manifest = folder.path, folder.manifest
        config, _, methods = manifest_fields(path, manifest)
        self.features = tuple(config.features)
        self.methods = tuple(methods)
        self.sampled = False
        tracks = folder.file(_TRACKS)
        with reading(path, _TRACKS):
            self._file = pq.ParquetFile(tracks, memory_map=True)
            self.schema = self._file.schema_arrow
            self.size = self._file.metadata.num_rows
        self._columns: dict[str, pa.ChunkedArray] = {}
        # What every question reads, in one pass.
        each = [c for m in self.methods for c in (LABEL_COLUMNS[m], PERSONA_COLUMNS[m])]
        self.read([c for c in ("track_id", "name", "popularity", *each) if self.has(c)])
        model = read_model(path, folder.file(MODEL))
        with reading(path, _PERSONAS):
            personas = pq.ParquetFile(folder.file(_PERSONAS))
            self._personas = personas.read(columns=["method", "cluster", "persona"]).to_pydict()
        check_agree(
            path,
            manifest,
            config=config,
            model=model,
            columns=set(self.schema.names),
            songs=self.size,
            labels=self._labels_if_any,
            clusters=lambda m: set(self._named(m)),
        )
        self.center = model["scaler_center"].astype(np.float64)
        self.scale = model["scaler_scale"].astype(np.float64)

    def _labels_if_any(self, method: str) -> np.ndarray | None:
        """A method's labels, or None when the table has no whole-number column of them."""
        column = LABEL_COLUMNS[method]
        if column not in self.schema.names:
            return None
        if not pa.types.is_integer(self.schema.field(column).type):
            return None
        return self.labels(method)

    def column(self, name: str) -> pa.ChunkedArray:
        """One column of the track table, read on first use."""
        self.read([name])
        return self._columns[name]

    def read(self, names: list[str]) -> None:
        """Read the columns ``names`` not read yet, in one pass over the file."""
        wanted = [n for n in dict.fromkeys(names) if n not in self._columns]
        if wanted:
            with reading(self.folder.path, _TRACKS):
                table = self._file.read(columns=wanted)
            self._columns |= dict(zip(table.column_names, table.columns, strict=True))

    def scaled(self) -> np.ndarray:
        """Scaled features, as `Scaler.transform` gives them."""
        self.read(list(self.features))
        raw = np.column_stack([self.floats(f) for f in self.features])
        return (raw - self.center) / self.scale

    def has(self, column: str) -> bool:
        """Whether the track table has ``column``."""
        return column in self.schema.names

    def text(self, column: str) -> pa.Array:
        """A text column as an Arrow large_string array."""
        values = self.column(column).cast(pa.large_string())
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)

    def floats(self, column: str) -> np.ndarray:
        """A numeric column as float64, NaN where missing."""
        return to_numpy(self.column(column).cast(pa.float64()))

    def lists(self, column: str, rows: np.ndarray | None = None) -> list[list[str]]:
        """A column of name lists for ``rows`` (all when None); ``[]`` for none."""
        values = self.column(column)
        if rows is not None:
            values = values.take(to_arrow(np.asarray(rows, dtype=np.int64)))
        return [[] if names is None else names for names in values.to_pylist()]

    def labels(self, method: str) -> np.ndarray:
        """Each song's cluster of ``method``."""
        return to_numpy(self.column(LABEL_COLUMNS[method])).astype(np.int32)

    def personas(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """Each song's persona of ``method``: codes into names, as `load_atlas` makes the
        column's categories (the saved dictionary, else the persona table's order)."""
        values = self.column(PERSONA_COLUMNS[method])
        if pa.types.is_dictionary(values.type):
            combined = values.unify_dictionaries().combine_chunks()
            codes = np.nan_to_num(to_numpy(combined.indices), nan=-1).astype(np.int64)
            return codes, to_objects(combined.dictionary)
        names = list(dict.fromkeys(self._named(method).values()))
        code_of = {name: code for code, name in enumerate(names)}
        codes = [code_of.get(name, -1) for name in values.to_pylist()]
        return np.asarray(codes, dtype=np.int64), np.asarray(names, dtype=object)

    def cluster_names(self, method: str) -> dict[int, str]:
        """The persona name of each cluster of ``method``."""
        return self._named(method)

    def _named(self, method: str) -> dict[int, str]:
        table = self._personas
        return {
            int(c): str(p)
            for m, c, p in zip(table["method"], table["cluster"], table["persona"], strict=True)
            if m == method
        }

    def values(self, column: str, rows: np.ndarray) -> object:
        """A column's values at ``rows`` as `load_atlas` reads them (whole numbers with a
        missing value anywhere become floats)."""
        values = self.column(column)
        if values.null_count and pa.types.is_integer(values.type):
            values = values.cast(pa.float64())
        return to_numpy(values.take(to_arrow(np.asarray(rows, dtype=np.int64))))
