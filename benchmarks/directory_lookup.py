"""How fast a song outside a sampled atlas's sample is found by id.

    python benchmarks/directory_lookup.py ATLAS            # a sampled atlas (spark engine)
    python benchmarks/directory_lookup.py --synthetic N    # N synthetic ids, memory-mapped

With an atlas: the time to open the directory and sort its ids (once per process), then p50
and p95 of `find_song` (sorted-id lookup plus reading the song's record) for up to 1,000 songs
outside the sample. Synthetic: the same id lookup (`SortedStrings`), and 20 unsorted passes (what
a one-off command does), on N random 22-character ids written as a memory-mapped Arrow file in
the directory's 200,000-row batches. One run each; say the machine's load (``uptime``) with the
figures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from soundatlas import load_atlas
from soundatlas.discovery import find_song
from soundatlas.discovery.directory import BATCH
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.sortedtext import SortedStrings

LOOKUPS = 1_000


def _percentiles(seconds: list[float]) -> str:
    p50, p95 = np.percentile(np.asarray(seconds) * 1e6, [50, 95])
    return f"p50 {p50:,.0f} µs, p95 {p95:,.0f} µs over {len(seconds):,} lookups"


def measure_atlas(path: Path) -> None:
    atlas = load_atlas(path)
    index = discovery_index(atlas)
    started = time.perf_counter()
    directory = index.directory
    if directory is None:
        raise SystemExit(f"{path}: holds every song in memory; give a sampled atlas.")
    first = str(directory.songs["track_id"][0])
    directory.sort_ids()
    assert directory.row_of_id(first) is not None
    print(
        f"open the directory and sort {directory.size:,} ids: {time.perf_counter() - started:.2f} s"
    )
    rng = np.random.default_rng(0)
    rows = rng.choice(directory.size, size=min(directory.size, 4 * LOOKUPS), replace=False)
    ids = [str(directory.songs["track_id"][int(r)]) for r in rows]
    outside = [i for i in ids if index.row_of_id(i) is None][:LOOKUPS]
    seconds = []
    for track_id in outside:
        clock = time.perf_counter()
        song = find_song(atlas, track_id)
        seconds.append(time.perf_counter() - clock)
        assert song.row is None and song.track_id == track_id
    print(f"find_song, songs outside the sample: {_percentiles(seconds)}")


def measure_synthetic(songs: int) -> None:
    rng = np.random.default_rng(0)
    alphabet = np.frombuffer(
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "S1"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ids.arrow"
        schema = pa.schema([("track_id", pa.string())])
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
            for start in range(0, songs, BATCH):
                count = min(BATCH, songs - start)
                chars = alphabet[rng.integers(0, len(alphabet), size=(count, 22))]
                ids = chars.view("S22").ravel().astype(str)
                writer.write_table(pa.table({"track_id": pa.array(ids, pa.string())}))
        table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
        started = time.perf_counter()
        lookup = SortedStrings(table["track_id"])
        print(f"sort {songs:,} synthetic ids: {time.perf_counter() - started:.2f} s")
        rows = rng.integers(0, songs, size=LOOKUPS)
        seconds = []
        for row in rows.tolist():
            wanted = str(table["track_id"][row])
            clock = time.perf_counter()
            found = lookup.row_of(wanted)
            seconds.append(time.perf_counter() - clock)
            assert found is not None and str(table["track_id"][found]) == wanted
        print(f"SortedStrings.row_of: {_percentiles(seconds)}")
        scans = []
        for row in rows[:20].tolist():
            clock = time.perf_counter()
            pc.index(table["track_id"], str(table["track_id"][row]))
            scans.append(time.perf_counter() - clock)
        print(f"one pass over the ids (no sort): {_percentiles(scans)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("atlas", nargs="?", type=Path)
    parser.add_argument("--synthetic", type=int, default=0)
    args = parser.parse_args()
    if args.synthetic:
        measure_synthetic(args.synthetic)
    if args.atlas:
        measure_atlas(args.atlas)


if __name__ == "__main__":
    main()
