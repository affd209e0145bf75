"""Count what the one-recording rule merges in track tables (`soundatlas.discovery.recordings`).

For each table: its songs, the recordings discovery sees, the rows merged into another release
by each rule on its own (same primary artist and title without release qualifiers; same primary
artist and audio features within rounding) and by both together, and the recordings listed
more than once. Run from the repository root::

    .venv/bin/python scripts/recording_merges.py                 # the shared real tables
    .venv/bin/python scripts/recording_merges.py my_catalog.csv

Tables are read and validated as ``soundatlas build`` reads them; the clustering is a quick
two-cluster K-Means, which the rule does not depend on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared" / "data"
SHARED_FILES = ("tophits_2k.csv", "tracks_11k_genres.csv", "seed_schema_sample.csv")


def merges(path: Path) -> dict[str, int]:
    """The counts of one table (see the module docstring)."""
    from soundatlas.atlas.build import build_atlas
    from soundatlas.config import BuildConfig
    from soundatlas.discovery.index import discovery_index
    from soundatlas.discovery.recordings import (
        recording_groups,
        recording_sound,
        recording_title_codes,
    )
    from soundatlas.ingest.catalog import load_catalog

    catalog = load_catalog(path, min_tracks=2)
    atlas = build_atlas(catalog, BuildConfig(methods=("kmeans",), k=2))
    index = discovery_index(atlas)
    size = index.size
    names = pa.array(index.names, type=pa.large_string())
    titles = recording_title_codes(names, index.title_keys)
    sound = recording_sound(atlas.tracks)
    unmeasured = np.full((size, 1), np.nan)
    by_title = recording_groups(index.primary_artist, titles, unmeasured)
    by_sound = recording_groups(index.primary_artist, np.arange(size), sound)
    return {
        "songs": size,
        "recordings": len(index.releases),
        "merged by title": size - (int(by_title.max(initial=-1)) + 1),
        "merged by sound": size - (int(by_sound.max(initial=-1)) + 1),
        "merged in all": size - len(index.releases),
        "listed twice or more": int((index.releases > 1).sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=[SHARED / f for f in SHARED_FILES])
    args = parser.parse_args(argv)
    rows = [(path.name, merges(path)) for path in args.files]
    headers = list(rows[0][1]) if rows else []
    print(f"{'table':<28}" + "".join(f"{h:>22}" for h in headers))
    for name, counts in rows:
        print(f"{name:<28}" + "".join(f"{counts[h]:>22,}" for h in headers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
