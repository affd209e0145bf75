"""Same-genre precision@10 of similar songs: by sound alone, and by sound + context.

For every real table with genres in ``../shared/data`` (or the files given), builds the atlas
(or loads it with ``--atlas-dir``), asks for the 10 songs most similar to each song that has a
genre (or to a stated random sample of them) and prints, per table and per kind of similarity,
the share of those results that share a genre with the query, beside the base rate (the chance
that a random other song does). "sound+context, no genre" leaves genres out of the context, to
show how much of the gain popularity, year and duration bring on their own.

    .venv/bin/python benchmarks/similarity.py [FILE ...] [--queries 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from soundatlas import build_atlas
from soundatlas.discovery import context as context_module
from soundatlas.discovery import similar_tracks
from soundatlas.discovery.context import SOUND, SOUND_CONTEXT, genre_set
from soundatlas.errors import SoundAtlasError

SHARED = Path(
    os.environ.get(
        "SOUNDATLAS_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)
KINDS = ((SOUND, "sound", None), (SOUND_CONTEXT, "sound+context, no genre", 0.0))
KINDS += ((SOUND_CONTEXT, "sound+context", None),)


def precision_at_10(atlas, rows: np.ndarray, kind: str, genre_weight: float | None) -> float:
    """Share of the top-10 results (over the query ``rows``) sharing a genre with the query."""
    saved = context_module.GENRE_WEIGHT
    if genre_weight is not None:
        context_module.GENRE_WEIGHT = genre_weight
    try:
        genres = atlas.tracks["genres"].to_numpy(dtype=object)
        hits = shown = 0
        for row in rows:
            try:
                found = similar_tracks(atlas, int(row), n=10, similarity=kind)
            except SoundAtlasError:
                continue
            wanted = genre_set(genres[row])
            hits += sum(bool(genre_set(genres[r]) & wanted) for r in found["row"])
            shown += len(found)
        return hits / shown if shown else float("nan")
    finally:
        context_module.GENRE_WEIGHT = saved


def base_rate(atlas, rows: np.ndarray, rng: np.random.Generator) -> float:
    """Chance that a random other song shares a genre with a query song."""
    genres = atlas.tracks["genres"].to_numpy(dtype=object)
    others = rng.integers(0, len(genres), size=(len(rows), 10))
    hits = [
        bool(genre_set(genres[o]) & genre_set(genres[q]))
        for q, row in zip(rows, others, strict=True)
        for o in row
        if o != q
    ]
    return float(np.mean(hits))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--queries", type=int, default=2000, help="query songs per table")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    files = args.files or sorted(SHARED.glob("*.csv"))
    print("| table | songs with genres | queries | base rate | " + " | ".join(k[1] for k in KINDS))
    print("|---|---|---|---|" + "---|" * len(KINDS))
    for path in files:
        atlas = build_atlas(path)
        has = np.flatnonzero([bool(genre_set(g)) for g in atlas.tracks["genres"]])
        if len(has) < 2:
            print(f"| {path.name} | {len(has)} | – | – | no genres |", file=sys.stderr)
            continue
        rng = np.random.default_rng(args.seed)
        rows = has if len(has) <= args.queries else np.sort(rng.choice(has, args.queries, False))
        started = time.perf_counter()
        cells = [f"{precision_at_10(atlas, rows, k, w):.1%}" for k, _, w in KINDS]
        took = time.perf_counter() - started
        print(
            f"| {path.name} | {len(has):,} | {len(rows):,} | {base_rate(atlas, rows, rng):.1%} | "
            + " | ".join(cells)
            + f" |  ({took:.0f} s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
