"""Every song of an atlas too big to load whole, and the songs that sound most like one of them.

Above `soundatlas.atlas.store.IN_MEMORY_SONGS` an atlas loads a stated sample of its songs; similar
songs must still come from the whole catalog. The atlas then also holds:

- ``songs.arrow``: one row per song (id, title, artists, clusters, personas, popularity, year,
  the audio features and the song's unit vector as seen from the catalog's mean), an
  uncompressed Arrow file that is memory-mapped, so opening it costs nothing and a lookup only
  reads the pages it touches;
- ``similar.faiss``: an inverted-file index (faiss IVF-Flat, inner product on the unit vectors,
  i.e. cosine similarity) that answers a top-10 query by scanning a few thousand songs instead of
  millions; its recall@10 against exact search is measured by ``benchmarks/scale.py``.

`exact_neighbours` searches every song (one pass over the memory-mapped vectors) for checks.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.features import Scaler
from soundatlas.clustering.result import LABEL_COLUMNS, PERSONA_COLUMNS
from soundatlas.discovery.nearest import top_cosine, unit_rows
from soundatlas.discovery.recordings import same_recording
from soundatlas.discovery.text import name_keys, normalise_text, recording_titles
from soundatlas.errors import AmbiguousQuery, AtlasError, ConfigError, LookupFailed
from soundatlas.ingest.schema import AUDIO_FEATURES

SONGS_FILE = "songs.arrow"
INDEX_FILE = "similar.faiss"
PROBES = 32
"""Inverted lists scanned per query (of `lists_for` lists)."""
TRAINING_SONGS_PER_LIST = 64
BATCH = 200_000
SHOWN_CANDIDATES = 10
DETAILS = ("popularity", "release_year", "duration_ms", "explicit")


def lists_for(songs: int) -> int:
    """Inverted lists for a catalog: about the square root of its size, 64 to 4,096, and
    never more than one per 39 songs (faiss's k-means wants at least 39 points a list)."""
    return int(max(1, min(4096, max(64, round(np.sqrt(songs))), songs // 39)))


def write_song_directory(
    folder: Path,
    parts: Sequence[str],
    *,
    scaler: Scaler,
    centre: np.ndarray,
    methods: Sequence[str],
    random_state: int = 0,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Write ``songs.arrow`` and ``similar.faiss`` for the tracks in Parquet ``parts`` (in
    order: row i of the directory is the i-th track), streaming them in batches.

    Returns
    -------
    dict
        The manifest entry: files, songs, index kind, lists, probes, training sample.
    """
    import faiss

    tick = progress or (lambda fraction: None)
    total = sum(pq.ParquetFile(folder / name).metadata.num_rows for name in parts)
    lists = lists_for(total)
    wanted = min(total, TRAINING_SONGS_PER_LIST * lists)
    rng = np.random.default_rng(random_state)
    training: list[np.ndarray] = []
    columns = _source_columns(scaler, methods)
    writer: pa.ipc.RecordBatchFileWriter | None = None
    done = 0
    with pa.OSFile(str(folder / SONGS_FILE), "wb") as sink:
        for name in parts:
            for batch in pq.ParquetFile(folder / name).iter_batches(BATCH, columns=columns):
                table = _directory_batch(pa.Table.from_batches([batch]), scaler, centre, methods)
                if writer is None:
                    writer = pa.ipc.new_file(sink, table.schema)
                writer.write_table(table)
                unit = _unit_matrix(table)
                training.append(unit[rng.random(len(unit)) < wanted / total])
                done += len(unit)
                tick(0.5 * done / total)
        if writer is not None:
            writer.close()
    width = len(scaler.features)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(width), width, lists, faiss.METRIC_INNER_PRODUCT)
    sample = np.ascontiguousarray(np.concatenate(training), dtype=np.float32)
    index.train(sample)
    songs = _open_songs(folder / SONGS_FILE)
    unit = _unit_matrix(songs)
    for start in range(0, len(unit), BATCH):
        index.add(np.ascontiguousarray(unit[start : start + BATCH]))
        tick(0.5 + 0.5 * min(len(unit), start + BATCH) / len(unit))
    faiss.write_index(index, str(folder / INDEX_FILE))
    return {
        "songs_file": SONGS_FILE,
        "index_file": INDEX_FILE,
        "songs": total,
        "index": "faiss IVF-Flat, inner product on unit vectors (cosine)",
        "lists": lists,
        "probes": PROBES,
        "trained_on": len(sample),
    }


def _source_columns(scaler: Scaler, methods: Sequence[str]) -> list[str]:
    labels = [c for m in methods for c in (LABEL_COLUMNS[m], PERSONA_COLUMNS[m])]
    features = [f for f in AUDIO_FEATURES if f not in scaler.features]
    return ["track_id", "name", "artists", "genres", *labels, *DETAILS, *scaler.features, *features]


def _directory_batch(
    table: pa.Table, scaler: Scaler, centre: np.ndarray, methods: Sequence[str]
) -> pa.Table:
    raw = np.column_stack(
        [table[f].to_numpy(zero_copy_only=False).astype(np.float64) for f in scaler.features]
    )
    unit = unit_rows((raw - scaler.center) / scaler.scale, centre)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(unit.ravel()), unit.shape[1])
    for feature in [*scaler.features, *(f for f in AUDIO_FEATURES if f in table.column_names)]:
        if feature in table.column_names and pa.types.is_float64(table[feature].type):
            at = table.schema.get_field_index(feature)
            table = table.set_column(at, feature, table[feature].cast(pa.float32()))
    names = table["name"].combine_chunks().cast(pa.large_string())
    keys = name_keys(names)
    recordings = name_keys(recording_titles(names))
    recordings = pc.if_else(pc.equal(recordings, ""), keys, recordings)
    out = table.append_column("title_key", keys).append_column("recording_key", recordings)
    return out.append_column("unit", vectors)


def _unit_matrix(table: pa.Table) -> np.ndarray:
    column = table["unit"].combine_chunks()
    width = column.type.list_size
    return column.values.to_numpy(zero_copy_only=True).reshape(-1, width)


def _open_songs(path: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()


class SongDirectory:
    """The memory-mapped songs of an atlas and its similarity index (read-only, thread-safe)."""

    def __init__(self, atlas: Atlas) -> None:
        try:
            import faiss
        except ImportError:
            raise AtlasError(
                f"{atlas.manifest.get('path', 'this atlas')}: its similar-songs index needs "
                "faiss; install it with pip install 'soundatlas[spark]'."
            ) from None
        entry = (atlas.manifest.get("parts") or {}).get("directory")
        if not entry:
            raise AtlasError(
                "this atlas holds every song in memory; use similar_tracks (no directory)."
            )
        folder = Path(atlas.manifest["path"])
        self.songs = _open_songs(folder / entry["songs_file"])
        self.unit = _unit_matrix(self.songs)
        self.index = faiss.read_index(str(folder / entry["index_file"]), faiss.IO_FLAG_MMAP)
        self.index.nprobe = int(entry.get("probes", PROBES))
        self.methods = tuple(atlas.methods)
        self.size = len(self.songs)

    def resolve(self, query: str) -> int:
        """The row of the song a query names: a track id, or a title (with its artist)."""
        text = str(query).strip()
        rows = np.flatnonzero(_mask(pc.equal(self.songs["track_id"], text)))
        if not len(rows):
            key = normalise_text(text)
            keys = self.songs["title_key"]
            rows = np.flatnonzero(_mask(pc.equal(keys, key)))
            if not len(rows):
                words = key.split()
                for cut in range(len(words) - 1, 0, -1):
                    title, artist = " ".join(words[:cut]), " ".join(words[cut:])
                    titled = np.flatnonzero(_mask(pc.equal(keys, title)))
                    rows = np.array(
                        [r for r in titled if artist in normalise_text(self._artists(r))],
                        dtype=np.int64,
                    )
                    if len(rows):
                        break
        if not len(rows):
            raise LookupFailed(
                f"no song matches '{text}' among the atlas's {self.size:,} songs. Use a track "
                "id, or the exact title (optionally followed by the artist)."
            )
        rows = self._one_per_recording(rows)
        if len(rows) > 1:
            candidates = self.table(rows[:SHOWN_CANDIDATES])[["track_id", "name", "artists"]]
            raise AmbiguousQuery(
                f"'{text}' matches {len(rows):,} songs; name one by its track id or add the "
                "artist.",
                candidates,
            )
        return int(rows[0])

    def _artists(self, row: int) -> str:
        return ", ".join(self.songs["artists"][row].as_py() or [])

    def recording(self, row: int) -> tuple[str, str, np.ndarray]:
        """What identifies a song's recording: its primary artist, its title without release
        qualifiers, and its audio features (see `same_recording`)."""
        artists = self.songs["artists"][row].as_py() or []
        primary = normalise_text(artists[0]) if artists else f"\0{row}"
        sound = np.array(
            [self.songs[f][row].as_py() for f in AUDIO_FEATURES if f in self.songs.column_names],
            dtype=np.float64,
        )
        return primary, str(self.songs["recording_key"][row].as_py()), sound

    def _one_per_recording(self, rows: np.ndarray) -> np.ndarray:
        kept: list[int] = []
        seen: list[tuple[str, str, np.ndarray]] = []
        for row in rows:
            recording = self.recording(int(row))
            if not any(same_recording(recording, other) for other in seen):
                seen.append(recording)
                kept.append(int(row))
        return np.asarray(kept, dtype=np.int64)

    def neighbours(self, row: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``count`` rows nearest ``row`` by the index (itself included), best first."""
        scores, rows = self.index.search(self.unit[row : row + 1], count)
        found = rows[0] >= 0
        return rows[0][found].astype(np.int64), scores[0][found]

    def table(self, rows: np.ndarray) -> pd.DataFrame:
        """The songs at ``rows``, with artists and genres as text.

        One zero-copy slice per row: ``take`` on the memory-mapped table (56 chunks at
        10,000,000 songs) joined every chunk of its text and list columns first, 0.6 s a call.
        """
        shown = self.songs.drop_columns(["unit", "title_key", "recording_key"])
        if len(rows):
            taken = pa.concat_tables([shown.slice(int(row), 1) for row in rows])
        else:
            taken = shown.slice(0, 0)
        frame = taken.to_pandas()
        frame["artists"] = [", ".join(a) if a is not None else "" for a in frame["artists"]]
        frame["genres"] = [", ".join(g) if g is not None else "" for g in frame["genres"]]
        return frame


_DIRECTORIES: dict[int, SongDirectory] = {}
_LOCK = threading.Lock()


def song_directory(atlas: Atlas) -> SongDirectory:
    """The directory of ``atlas``, opened on first use and kept while the atlas lives."""
    key = id(atlas)
    with _LOCK:
        directory = _DIRECTORIES.get(key)
        if directory is None:
            directory = _DIRECTORIES[key] = SongDirectory(atlas)
            weakref.finalize(atlas, _DIRECTORIES.pop, key, None)
    return directory


def similar_in_catalog(
    atlas: Atlas,
    query: str,
    *,
    n: int = 10,
    same_cluster: str | None = None,
    exclude_same_artist: bool = False,
) -> pd.DataFrame:
    """The ``n`` songs of the whole catalog that sound most like one song, by the atlas's
    approximate index (for atlases too big to load whole; see the module docstring).

    Never the query or another release of its recording (same primary artist and title once
    release suffixes are removed); each recording once.

    Returns
    -------
    DataFrame
        ``rank, track_id, name, artists, similarity`` (cosine from the catalog's mean), each
        method's cluster and persona, genres, popularity, year, duration, explicit and the
        audio features.
    """
    if not 1 <= n <= 500:
        raise ConfigError(f"n={n}: ask for 1 to 500 similar songs.")
    if same_cluster is not None:
        atlas.require_method(same_cluster)
    directory = song_directory(atlas)
    row = directory.resolve(query)
    songs = directory.songs
    banned = set(songs["artists"][row].as_py() or []) if exclude_same_artist else set()
    label = LABEL_COLUMNS[same_cluster] if same_cluster else None
    wanted = songs[label][row].as_py() if label else None
    count = max(4 * n, 50)
    while True:
        rows, scores = directory.neighbours(row, min(count, directory.size))
        seen = [directory.recording(row)]
        kept, kept_scores = [], []
        for candidate, score in zip(rows.tolist(), scores.tolist(), strict=True):
            if label and songs[label][candidate].as_py() != wanted:
                continue
            if banned and banned & set(songs["artists"][candidate].as_py() or []):
                continue
            recording = directory.recording(candidate)
            if any(same_recording(recording, other) for other in seen):
                continue
            seen.append(recording)
            kept.append(candidate)
            kept_scores.append(score)
            if len(kept) == n:
                break
        if len(kept) == n or count >= min(directory.size, 64 * max(n, 50)):
            break
        count *= 4
    table = directory.table(np.asarray(kept, dtype=np.int64))
    table.insert(0, "similarity", np.round(kept_scores, 4))
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def exact_neighbours(atlas: Atlas, row: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` rows nearest ``row`` by exact search over every song (itself included),
    for measuring the index's recall."""
    directory = song_directory(atlas)
    return top_cosine(directory.unit, directory.unit[row], count)


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)
