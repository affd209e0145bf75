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

- ``directory.*.npy`` / ``directory.*.arrow``: the sort orders of the ids and title keys, the
  popularity rank of each title in that order, and the list of artists (`sort_parts`), written
  with the rest and memory-mapped, so a server finds any song by id or title and any artist by
  a binary search (about 24 reads, tens of microseconds) without first sorting 10,000,000 ids
  (a minute and more), and the most popular of the titles starting with a word without
  sorting them (`SongDirectory.title_matches`). An atlas built before gets them from
  `soundatlas reindex` (`soundatlas.discovery.reindex`; one whose saved parts lack only the
  ranks gets just those); without them they are built when first needed (a server does so
  before it serves: `SongDirectory.sort_ids`), and a one-off id lookup is one vectorised pass
  over the id column.

The directory of an atlas is opened and kept by its `soundatlas.discovery.index.DiscoveryIndex`;
`soundatlas.discovery.wholecatalog` answers from it.
"""

from __future__ import annotations

import threading
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
from soundatlas.discovery.artistgenres import GENRE_PARTS, artist_genres
from soundatlas.discovery.catalogartists import (
    CatalogArtists,
    artist_parts,
    primary_artist_codes,
)
from soundatlas.discovery.indexfiles import read_part, write_part
from soundatlas.discovery.nearest import unit_rows
from soundatlas.discovery.recordings import first_recordings, same_recording
from soundatlas.discovery.song import SONG_VALUES, Artist, Song
from soundatlas.discovery.sortedtext import SortedStrings, sort_order, take_rows
from soundatlas.discovery.text import (
    folded_names,
    name_id,
    name_keys,
    normalise_text,
    recording_titles,
)
from soundatlas.discovery.textindex import Parts
from soundatlas.errors import AmbiguousQuery, AtlasError, LookupFailed
from soundatlas.ingest.schema import AUDIO_FEATURES

SONGS_FILE = "songs.arrow"
INDEX_FILE = "similar.faiss"
PROBES = 32
"""Inverted lists scanned per query (of `lists_for` lists)."""
TRAINING_SONGS_PER_LIST = 64
BATCH = 200_000
SHOWN_CANDIDATES = 10
DETAILS = ("popularity", "release_year", "duration_ms", "explicit")
SORTED_VERSION = 3
"""Changes whenever what `sort_parts` derives changes: saved parts of another version are
ignored (and built when first needed) until `soundatlas reindex` writes them again. Version 1
lacked ``titles.popular`` and the ranked artist parts, version 2 the ranked artist parts
(``artists.primary``, ``artists.genres*``); their other parts are still used
(`usable_sorted`), and without the ranked ones the primary artists' names are folded per query
(`SongDirectory.one_per_recording`) and an artist's genres counted from their songs."""
_READABLE_SORTED = (1, 2, SORTED_VERSION)
_SORTED_PREFIX = "directory."
WHOLE_VALUES = ("key", "mode", "time_signature")
"""Kept for each song when the catalog has them (audio-features objects show them)."""


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
    present = pq.ParquetFile(folder / parts[0]).schema_arrow.names if parts else []
    columns = _source_columns(scaler, methods, present)
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
    songs = open_songs(folder / SONGS_FILE)
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
        "sorted": write_sorted(folder, songs),
    }


def sort_parts(songs: pa.Table, have: Parts | None = None) -> Parts:
    """The directory's lookups that take a sort of every song: the sort order of the track ids
    (``ids.order``) and of the title keys (``titles.order``), each title's popularity rank in
    that order (``titles.popular``: `popularity_ranks`), and the catalog's artists
    (``artists.*``: `soundatlas.discovery.catalogartists.artist_parts`) and each song's
    primary artist (``artists.primary``: `primary_artist_codes`) and each artist's genres
    ranked (``artists.genres``, ``genres_ptr``, ``genre_names``:
    `soundatlas.discovery.artistgenres.artist_genres`); those in ``have``
    (saved by an older version) are taken as they are."""
    parts = dict(have or {})
    if "ids.order" not in parts:
        parts["ids.order"] = sort_order(songs["track_id"])
    if "titles.order" not in parts:
        parts["titles.order"] = sort_order(songs["title_key"])
    if "titles.popular" not in parts:
        parts["titles.popular"] = popularity_ranks(songs, parts["titles.order"])
    if any(f"artists.{name}" not in parts for name in _ARTIST_PARTS):
        parts.update({f"artists.{n}": v for n, v in artist_parts(songs).items()})
    if "artists.primary" not in parts:
        parts["artists.primary"] = primary_artist_codes(songs)
    if any(f"artists.{name}" not in parts for name in GENRE_PARTS):
        genres = artist_genres(songs, parts["artists.rows"], parts["artists.ptr"])
        parts.update({f"artists.{n}": v for n, v in genres.items()})
    return parts


def popularity_ranks(songs: pa.Table, titles_order: np.ndarray) -> np.ndarray:
    """For each position of the titles' sort order, its rank when the positions are ordered
    most popular first (no popularity last, ties by position): the titles starting with a
    word are a run of positions, and its most popular ones the run's lowest ranks."""
    popularity = np.nan_to_num(_floats(songs["popularity"]), nan=-1.0)
    by_popularity = np.argsort(-popularity[titles_order], kind="stable")
    ranks = np.empty(len(by_popularity), dtype=titles_order.dtype)
    ranks[by_popularity] = np.arange(len(by_popularity), dtype=titles_order.dtype)
    return ranks


def write_sorted(
    folder: Path, songs: pa.Table, kept: dict[str, str] | None = None
) -> dict[str, Any]:
    """Write `sort_parts` of the directory ``songs`` into the atlas folder being saved, but
    those ``kept`` (part name -> file of the folder, saved by an older version); the directory
    entry's ``sorted`` field (``{"version", "files"}``)."""
    kept = kept or {}
    have = {name: read_part(folder, file) for name, file in kept.items()}
    parts = sort_parts(songs, have)
    files = {
        name: kept.get(name) or write_part(folder, f"{_SORTED_PREFIX}{name}", values)
        for name, values in parts.items()
    }
    return {"version": SORTED_VERSION, "files": files}


def has_sorted(entry: dict[str, Any]) -> bool:
    """Whether a directory entry of a manifest lists `sort_parts` of this `SORTED_VERSION`."""
    sorted_entry = entry.get("sorted")
    return isinstance(sorted_entry, dict) and sorted_entry.get("version") == SORTED_VERSION


def usable_sorted(entry: dict[str, Any]) -> dict[str, str]:
    """The saved `sort_parts` files (part name -> file) of a directory entry that this version
    reads (its own, or version 1's, which lack ``titles.popular``); empty when none."""
    sorted_entry = entry.get("sorted")
    if isinstance(sorted_entry, dict) and sorted_entry.get("version") in _READABLE_SORTED:
        return dict(sorted_entry.get("files") or {})
    return {}


def _sorted_problem(parts: Parts, songs: int) -> tuple[str, str] | None:
    """(part, what is wrong) when saved `sort_parts` do not fit a directory of ``songs``
    songs (copied in from another atlas, say), else None. Shapes and ranges only: the
    checksums in the manifest vouch for the contents."""
    names = ("ids.order", "titles.order", *(f"artists.{n}" for n in _ARTIST_PARTS))
    missing = [name for name in names if name not in parts]
    if missing:
        return missing[0], "the directory lacks it"
    ranked = ("titles.popular",) if "titles.popular" in parts else ()
    for name in ("ids.order", "titles.order", "artists.rows", *ranked):
        values = parts[name]
        if len(values) and (values.max() >= songs or values.min() < 0):
            return name, "its rows are out of range"
    primary = ("artists.primary",) if "artists.primary" in parts else ()
    if primary and len(parts["artists.primary"]) and parts["artists.primary"].min() < -1:
        return "artists.primary", "its artist numbers are out of range"
    for name in ("ids.order", "titles.order", *ranked, *primary):
        if len(parts[name]) != songs:
            return name, f"it orders {len(parts[name]):,} of {songs:,} songs"
    artists = len(parts["artists.ids"])
    if len(parts["artists.names"]) != artists or len(parts["artists.ids_order"]) != artists:
        return "artists.names", f"it does not name the {artists:,} artists"
    pointers = parts["artists.ptr"]
    if len(pointers) != artists + 1 or pointers[-1] != len(parts["artists.rows"]):
        return "artists.ptr", "its artist pointers do not span the artists' songs"
    if all(f"artists.{name}" in parts for name in GENRE_PARTS):
        genres, ranked = parts["artists.genres"], parts["artists.genres_ptr"]
        if len(ranked) != artists + 1 or ranked[-1] != len(genres):
            return "artists.genres_ptr", "its pointers do not span the artists' genres"
        if len(genres) and (genres.min() < 0 or genres.max() >= len(parts["artists.genre_names"])):
            return "artists.genres", "its genres are out of range"
    return None


_ARTIST_PARTS = ("names", "ids", "ids_order", "rows", "ptr")
_RANKED_PARTS = ("primary", *GENRE_PARTS)
"""Artist parts of sort orders 3 that older ones lack: searched without them (more slowly)."""


def _source_columns(scaler: Scaler, methods: Sequence[str], present: Sequence[str]) -> list[str]:
    labels = [c for m in methods for c in (LABEL_COLUMNS[m], PERSONA_COLUMNS[m])]
    features = [f for f in AUDIO_FEATURES if f not in scaler.features]
    whole = [c for c in WHOLE_VALUES if c in present and c not in scaler.features]
    return [
        "track_id",
        "name",
        "artists",
        "genres",
        *labels,
        *DETAILS,
        *scaler.features,
        *features,
        *whole,
    ]


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


def open_songs(path: Path) -> pa.Table:
    """The directory's songs file at ``path``, memory-mapped."""
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
        # One query is one vector: faiss's OpenMP threads would only compete for the cores
        # (and OpenMP's thread pool does not survive a fork).
        faiss.omp_set_num_threads(1)
        folder = Path(atlas.manifest["path"])
        self.songs = open_songs(folder / entry["songs_file"])
        self.unit = _unit_matrix(self.songs)
        self.index = faiss.read_index(str(folder / entry["index_file"]), faiss.IO_FLAG_MMAP)
        _no_prefetch(self.index)
        self.index.nprobe = int(entry.get("probes", PROBES))
        self.methods = tuple(atlas.methods)
        self.scaler = atlas.scaler
        self.size = len(self.songs)
        self._ids: SortedStrings | None = None
        self._titles: SortedStrings | None = None
        self._popular: np.ndarray | None = None
        self._primary: np.ndarray | None = None
        self._credits: CatalogArtists | None = None
        self._sample_ids = atlas.tracks["track_id"]
        self._in_sample: np.ndarray | None = None
        saved = usable_sorted(entry)
        if saved:
            self._open_sorted(folder, saved)
        labels = [c for m in self.methods for c in (LABEL_COLUMNS[m], PERSONA_COLUMNS[m])]
        self._record_columns = [
            c
            for c in ("track_id", "name", "artists", "genres", *labels, *SONG_VALUES)
            if c in self.songs.column_names
        ]
        self._single_precision = [
            c for c in self._record_columns if pa.types.is_float32(self.songs.schema.field(c).type)
        ]
        self._ids_lock = threading.Lock()

    def resolve(self, query: str) -> int:
        """The row of the song a query names: a track id, or a title (with its artist)."""
        text = str(query).strip()
        found = self.row_of_id(text)
        rows = np.zeros(0, dtype=np.int64) if found is None else np.array([found])
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
        if len(rows) > 1:
            rows = self.one_per_recording(rows)
        if len(rows) > 1:
            candidates = self.table(rows[:SHOWN_CANDIDATES])[["track_id", "name", "artists"]]
            raise AmbiguousQuery(
                f"'{text}' matches {len(rows):,} songs; name one by its track id or add the "
                "artist.",
                candidates,
            )
        return int(rows[0])

    def _open_sorted(self, folder: Path, files: dict[str, str]) -> None:
        """Map the `sort_parts` saved with the atlas (see `write_sorted`)."""
        parts = {name: read_part(folder, file) for name, file in files.items()}
        problem = _sorted_problem(parts, self.size)
        if problem is not None:
            name, what = problem
            raise AtlasError(
                f"{folder}: {files.get(name, name)} does not belong with the atlas's "
                f"directory of {self.size:,} songs ({what}); a file was replaced or edited. "
                "Rebuild the atlas with `soundatlas build`."
            )
        self._ids = SortedStrings(self.songs["track_id"], parts["ids.order"])
        self._titles = SortedStrings(self.songs["title_key"], parts["titles.order"])
        self._popular = parts.get("titles.popular")
        self._primary = parts.get("artists.primary")
        self._credits = CatalogArtists(
            self.songs,
            {
                n: parts[f"artists.{n}"]
                for n in (*_ARTIST_PARTS, *_RANKED_PARTS)
                if f"artists.{n}" in parts
            },
        )

    def sort_ids(self) -> None:
        """Sort the ids and the title keys, and list the artists, once, so that every later
        `row_of_id`, `title_matches` and `artist` is a binary search (a server does this before
        it serves; the atlas may hold them: `write_sorted`); and mark the loaded sample's
        songs (`in_sample`)."""
        if self._ids is None:
            with self._ids_lock:
                if self._ids is None:
                    self._titles = SortedStrings(self.songs["title_key"])
                    self._ids = SortedStrings(self.songs["track_id"])
        if self._titles is not None:
            self._popularity_ranks(self._titles)
        self._catalog_artists().warm()
        if self._in_sample is None:
            with self._ids_lock:
                if self._in_sample is None:
                    ids = pa.array(np.asarray(self._sample_ids, dtype=object))
                    column = self.songs["track_id"]
                    found = pc.is_in(column, value_set=ids.cast(column.type))
                    self._in_sample = _mask(found)

    def in_sample(self, rows: np.ndarray) -> np.ndarray | None:
        """Whether each song at ``rows`` is one of the atlas's loaded sample (the same track
        id), once `sort_ids` has marked them (one pass over every id, about a second at
        10,000,000 songs: a server does it before it serves, a search then checks a thousand
        songs without reading their ids); None before."""
        marked = self._in_sample
        return None if marked is None else marked[np.asarray(rows, dtype=np.int64)]

    def artist(self, artist_id: str) -> Artist | None:
        """The artist of the whole catalog with this id (`CatalogArtists`), or None; the
        artists are listed on the first call unless `sort_ids` has run."""
        return self._catalog_artists().find(artist_id)

    def artist_popularity(self, artist_id: str) -> float | None:
        """The popularity of the most popular song of the artist with this id, or None
        (`CatalogArtists.best_popularity`)."""
        return self._catalog_artists().best_popularity(artist_id)

    def artist_rows(self, artist: str) -> np.ndarray | None:
        """The rows of every song crediting an artist named by id or by exact name (case,
        accents and punctuation aside), or None."""
        artist_id = self.artist_id_of(artist)
        return None if artist_id is None else self._catalog_artists().rows_of(artist_id)

    def artist_id_of(self, artist: str) -> str | None:
        """The id of the artist of the catalog named by id or by exact name, or None."""
        catalog = self._catalog_artists()
        for candidate in (str(artist), name_id(str(artist))):
            if catalog.rows_of(candidate) is not None:
                return candidate
        return None

    def scaled(self, rows: np.ndarray) -> np.ndarray:
        """The scaled audio features (the atlas's scaler) of the songs at ``rows``."""
        features = list(self.scaler.features)
        taken = take_rows(self.songs, np.asarray(rows, dtype=np.int64), features)
        raw = np.column_stack([_floats(taken[f]) for f in features])
        return (raw - self.scaler.center) / self.scaler.scale

    def releases(self, row: int) -> np.ndarray:
        """The rows of every release of the recording of the song at ``row`` (itself too)."""
        recording = self.recording(row)
        artists = self.songs["artists"][row].as_py() or []
        rows = self.artist_rows(artists[0]) if artists else None
        if rows is None:
            return np.array([row], dtype=np.int64)
        same = [same_recording(recording, other) for other in self.recordings(rows)]
        return rows[np.asarray(same, dtype=bool)]

    def _catalog_artists(self) -> CatalogArtists:
        if self._credits is None:
            with self._ids_lock:
                if self._credits is None:
                    self._credits = CatalogArtists(self.songs)
        return self._credits

    def title_matches(self, key: str, most: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows whose normalised title equals a normalised ``key``, and rows whose title
        starts with it (without those equal), each most popular first (ties in title order);
        the first ``most`` of each when given.

        With the titles sorted, the matches are a run of the sort order and their popularity
        ranks (`popularity_ranks`) a run too: the best ``most`` are a partition of the ranks,
        not a sort of a hundred thousand songs' popularity read from the table."""
        if self._titles is None:  # a one-off query: one pass, no sort of every title
            starting = np.flatnonzero(_mask(pc.starts_with(self.songs["title_key"], key)))
            taken = take_rows(self.songs, starting, ["title_key", "popularity"])
            equal = _mask(pc.equal(taken["title_key"], key))
            popularity = taken["popularity"]
            order = np.argsort(-np.nan_to_num(_floats(popularity), nan=-1.0), kind="stable")
            best = slice(0, most)
            return starting[order][equal[order]][best], starting[order][~equal[order]][best]
        titles = self._titles
        ranks = self._popularity_ranks(titles)
        start, equal, end = titles.span(key)
        return (
            _most_popular(titles.order, ranks, slice(start, equal), most),
            _most_popular(titles.order, ranks, slice(equal, end), most),
        )

    def _popularity_ranks(self, titles: SortedStrings) -> np.ndarray:
        """`popularity_ranks` of the ``titles``' sort order: saved with the atlas, or made once
        (an atlas saved before them, until `soundatlas reindex` adds them)."""
        if self._popular is None:
            with self._ids_lock:
                if self._popular is None:
                    self._popular = popularity_ranks(self.songs, titles.order)
        return self._popular

    def row_of_id(self, track_id: str) -> int | None:
        """The row of the song with exactly this track id, or None: a binary search once
        `sort_ids` has run, else one vectorised pass over the id column (cheaper than a sort
        for a process that asks once, such as a CLI command)."""
        if self._ids is not None:
            return self._ids.row_of(track_id)
        found = pc.index(self.songs["track_id"], str(track_id)).as_py()
        return None if found < 0 else int(found)

    def song(self, row: int) -> Song:
        """The song at ``row`` of the directory."""
        return self.songs_at([row])[0]

    def songs_at(self, rows: Sequence[int]) -> list[Song]:
        """The songs at ``rows`` of the directory, each column read once for all of them (one
        value at a time, 40 columns of 20 songs cost a search 5 ms)."""
        taken = take_rows(self.songs, np.asarray(rows, dtype=np.int64), self._record_columns)
        columns = {c: taken[c].to_pylist() for c in self._record_columns}
        for column in self._single_precision:  # stored as float32: shown as written, 0.3
            columns[column] = [
                None if v is None else float(str(np.float32(v))) for v in columns[column]
            ]
        return [
            Song(
                track_id=str(columns["track_id"][i]),
                name=str(columns["name"][i]),
                artists=tuple(columns["artists"][i] or ()),
                genres=tuple(columns["genres"][i] or ()),
                values={c: columns[c][i] for c in SONG_VALUES if c in columns},
                clusters={
                    m: (int(columns[LABEL_COLUMNS[m]][i]), str(columns[PERSONA_COLUMNS[m]][i]))
                    for m in self.methods
                },
                row=None,
            )
            for i in range(len(taken))
        ]

    def _artists(self, row: int) -> str:
        return ", ".join(self.songs["artists"][row].as_py() or [])

    def recording(self, row: int) -> tuple[str, str, np.ndarray]:
        """What identifies a song's recording: its primary artist, its title without release
        qualifiers, and its audio features (see `same_recording`)."""
        return self.recordings(np.array([row]))[0]

    def recordings(self, rows: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
        """`recording` of each of ``rows``, read in one take of each column (a search lists up
        to `soundatlas.discovery.search.OUTSIDE_MATCHES` songs: read one value at a time, their
        recordings took a third of a second)."""
        rows = np.asarray(rows, dtype=np.int64)
        sound = [f for f in AUDIO_FEATURES if f in self.songs.column_names]
        taken = take_rows(self.songs, rows, ["artists", "recording_key", *sound])
        credited = taken["artists"].to_pylist()
        primary = [a[0] if a else None for a in credited]
        keys = folded_names(pa.array(primary, pa.large_string())).to_pylist()
        features = np.column_stack([_floats(taken[f]) for f in sound]) if sound else None
        titles = taken["recording_key"].to_pylist()
        return [
            (
                keys[i] if credited[i] else f"\0{int(row)}",
                str(titles[i]),
                features[i] if features is not None else np.zeros(0),
            )
            for i, row in enumerate(rows)
        ]

    def one_per_recording(self, rows: np.ndarray) -> np.ndarray:
        """The first of ``rows`` of each recording, in their order.

        Only songs whose primary artist has another song among ``rows`` can repeat a
        recording, so only their titles and sounds are read and compared one by one (a search
        checks a thousand songs, most of them by artists it lists once)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) < 2:
            return rows.copy()
        artist = self._primary_artist_codes(rows)
        shared = np.bincount(artist)[artist] > 1
        kept = ~shared
        if shared.any():
            at = np.flatnonzero(shared)
            sound = [f for f in AUDIO_FEATURES if f in self.songs.column_names]
            taken = take_rows(self.songs, rows[at], ["recording_key", *sound])
            titles = [str(t) for t in taken["recording_key"].to_pylist()]
            features = np.column_stack([_floats(taken[f]) for f in sound]) if sound else None
            if features is None:
                features = np.zeros((len(at), 0))
            kept[at] = first_recordings(artist[at], titles, features)
        return rows[kept]

    def _primary_artist_codes(self, rows: np.ndarray) -> np.ndarray:
        """A code per row (0 and up), equal for rows whose first credited artist has the same
        key (`name_key`); a row crediting nobody gets a code of its own (as in `recording`).
        Read from the saved ``artists.primary`` when the atlas has it, else folded here."""
        if self._primary is not None:
            primary = np.asarray(self._primary[rows], dtype=np.int64)
        else:
            primary = primary_artist_codes(take_rows(self.songs, rows, ["artists"]))
        distinct, codes = np.unique(primary, return_inverse=True)
        nobody = primary < 0
        codes[nobody] = len(distinct) + np.arange(int(nobody.sum()))
        return codes.reshape(-1)

    def neighbours(self, row: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``count`` rows nearest ``row`` by the index (itself included), best first."""
        scores, rows = self.index.search(self.unit[row : row + 1], count)
        found = rows[0] >= 0
        return rows[0][found].astype(np.int64), scores[0][found]

    def table(self, rows: np.ndarray) -> pd.DataFrame:
        """The songs at ``rows``, with artists and genres as text (`columns` as a table)."""
        return pd.DataFrame(self.columns(rows))

    def columns(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The songs at ``rows`` column by column (name → NumPy array, in the directory's
        order): artists and genres as text, personas as their names, whole numbers with a
        missing value as floats (NaN), as pandas reads them. For a caller that writes the rows
        out itself (similar songs over HTTP): pandas' conversion of the taken rows, its
        categoricals above all, took half of a similar-songs request on the 10,000,000-song
        atlas."""
        shown = [c for c in self.songs.column_names if c not in _LOOKUP_COLUMNS]
        taken = take_rows(self.songs, np.asarray(rows, dtype=np.int64), shown)
        return {name: _plain_column(taken[name]) for name in shown}


_LOOKUP_COLUMNS = ("unit", "title_key", "recording_key")
"""Columns of ``songs.arrow`` for lookups only, never shown (`SongDirectory.table`)."""


def _most_popular(order: np.ndarray, ranks: np.ndarray, run: slice, most: int | None) -> np.ndarray:
    """The rows at the positions ``run`` of a sort ``order``, the ``most`` of lowest ``ranks``
    (all when None), lowest first."""
    within = np.asarray(ranks[run])
    chosen = np.arange(len(within))
    if most is not None and most < len(within):
        chosen = np.argpartition(within, most - 1)[:most]
    chosen = chosen[np.argsort(within[chosen])]
    return np.asarray(order[run][chosen], dtype=np.int64)


def _no_prefetch(index: Any) -> None:
    """Turn off the prefetch threads of a memory-mapped IVF index's lists.

    faiss maps the lists as `OnDiskInvertedLists`, which on every search starts threads
    (``prefetch_nthread``, 32 by default) to touch the pages of the lists it will scan, and
    joins the previous search's. A server searches once while warming, then forks its workers:
    a worker's first search joined threads that exist only in the parent and segfaulted in
    ``__pthread_clockjoin_ex`` (the `--workers 2` runs on the 10,000,000-song atlas that died
    partway). The pages are the page cache's either way; without prefetch there are no threads.
    """
    import faiss

    lists = faiss.downcast_InvertedLists(faiss.extract_index_ivf(index).invlists)
    if hasattr(lists, "prefetch_nthread"):
        lists.prefetch_nthread = 0


def _plain_column(values: pa.ChunkedArray) -> np.ndarray:
    """A column of taken rows as `SongDirectory.columns` gives it."""
    kind = values.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        joined = [", ".join(v) if v is not None else "" for v in values.to_pylist()]
        return np.array(joined, dtype=object)
    if pa.types.is_integer(kind) and values.null_count:
        return _floats(values)
    if (pa.types.is_integer(kind) or pa.types.is_floating(kind)) or (
        pa.types.is_boolean(kind) and not values.null_count
    ):
        return values.to_numpy()
    plain = np.empty(len(values), dtype=object)  # text, personas' names, missing as None
    plain[:] = values.to_pylist()
    return plain


def _floats(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)
