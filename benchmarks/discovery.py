"""Discovery benchmark: latency of similar songs, search, playlists and artist profiles.

Run from the repository root::

    .venv/bin/python benchmarks/discovery.py                    # 95,837 and 1,000,000 songs
    .venv/bin/python benchmarks/discovery.py --sizes 95837 --queries 500
    .venv/bin/python benchmarks/discovery.py --index-only        # index build, best of 5 builds

The catalogs are synthetic scale-ups of real data (`soundatlas.demo`, whose per-genre
distributions are measured on the real tables), written and built once and cached under
``benchmarks/out/``. The 95,837-song atlas is built with all three methods; the 1,000,000-song
atlas with K-Means only, to keep its build to minutes (discovery cost does not depend on how
many methods ran, beyond one label column each).

Latencies are measured after the atlas is loaded and its discovery index built (the index
build is reported on its own line), one query at a time in this process, on queries drawn with
a fixed seed. Similar-song search is exact (a compiled one-pass top-k over float32 unit
vectors), so its recall@10 is 1 by construction; the benchmark checks it against a NumPy
brute-force top-10 anyway.

The demo catalog credits one artist per song, but real ones credit featured artists too, and a
song by several artists is what the per-artist cap of playlists must handle with care. So the
playlists are measured again on the same atlas with a second artist credited on 20% of songs
(``--featured``; rows marked "featured artists").
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from soundatlas.discovery.save import save_atlas

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
SIZES = (95_837, 1_000_000)
LABEL = "synthetic scale-up of real data"
FEATURED = 0.2


def atlas_for(size: int):
    """The cached atlas of ``size`` synthetic songs, written and built first if missing."""
    from soundatlas.atlas.build import build_atlas
    from soundatlas.atlas.model import load_atlas
    from soundatlas.config import BuildConfig
    from soundatlas.demo import write_catalog
    from soundatlas.ingest.catalog import load_catalog

    methods = ("kmeans", "dbscan", "hierarchical") if size < 200_000 else ("kmeans",)
    folder = OUT / f"discovery-atlas-{size}-{'-'.join(methods)}"
    if not (folder / "manifest.json").is_file():
        catalog_file = OUT / f"discovery-catalog-{size}.parquet"
        if not catalog_file.is_file():
            print(f"writing {size:,} synthetic songs to {catalog_file} …", file=sys.stderr)
            write_catalog(catalog_file, size, random_state=0)
        print(f"building the {size:,}-song atlas ({', '.join(methods)}) …", file=sys.stderr)
        started = time.perf_counter()
        catalog = load_catalog(catalog_file, name=f"{size:,} songs ({LABEL})")
        save_atlas(build_atlas(catalog, BuildConfig(methods=methods)), folder)
        print(f"  built in {time.perf_counter() - started:,.0f} s", file=sys.stderr)
    return load_atlas(folder, verify=False), methods


def with_featured_artists(atlas, share: float, rng: np.random.Generator):
    """The same atlas with a second artist (another song's) credited on ``share`` of its
    songs, as real catalogs credit featured artists. Only discovery sees the difference."""
    tracks = atlas.tracks.copy()
    artists = tracks["artists"].to_numpy(dtype=object)
    credited = artists.copy()
    songs = rng.choice(len(tracks), size=int(share * len(tracks)), replace=False)
    guests = artists[rng.integers(0, len(tracks), size=len(songs))]
    credited[songs] = [[*a, *g[:1]] for a, g in zip(artists[songs], guests, strict=True)]
    tracks["artists"] = credited
    return dataclasses.replace(atlas, tracks=tracks)


def timed(calls: list[Callable[[], object]]) -> np.ndarray:
    """Milliseconds of each call (after one untimed warm-up call)."""
    calls[0]()
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return np.asarray(times)


def search_queries(index, rows: np.ndarray, rng: np.random.Generator) -> list[str]:
    """What people type, drawn from the catalog: a title word, the start of a title, an
    artist's surname, the start of an artist's name without accents (the demo's "(demo)" and
    "Demo Artist ·" markers are left out: every song has them)."""
    from soundatlas.discovery import normalise_text

    marker = {"demo", "artist"}
    queries = []
    for i, row in enumerate(rows):
        title = [w for w in normalise_text(index.names[row]).split() if w not in marker]
        artist = str(index.artists["artist"].iat[rng.integers(len(index.artists))])
        name = [w for w in normalise_text(artist).split() if w not in marker]
        options = [
            title[rng.integers(len(title))] if title else "",
            " ".join(title)[: 4 + int(rng.integers(8))],
            name[-1] if name else "",
            " ".join(name)[: 3 + int(rng.integers(6))],
        ]
        queries.append(options[i % 4].strip() or "love")
    return queries


def workloads(atlas, count: int, rng: np.random.Generator) -> dict[str, list[Callable[[], object]]]:
    """The calls measured: queries drawn from the catalog itself."""
    from soundatlas.discovery import artist_profile, search, similar_tracks
    from soundatlas.discovery.index import discovery_index

    index = discovery_index(atlas)
    tracks = atlas.tracks
    rows = rng.choice(len(tracks), size=count, replace=False)
    ids = tracks["track_id"].to_numpy(dtype=object)[rows]
    texts = search_queries(index, rows, rng)
    artist_names = index.artists["artist"].to_numpy(dtype=object)
    chosen_artists = artist_names[rng.choice(len(artist_names), size=count, replace=False)]
    return {
        "similar songs (by row)": [lambda r=int(r): similar_tracks(atlas, r, n=10) for r in rows],
        "similar songs (by track id)": [
            lambda t=str(t): similar_tracks(atlas, t, n=10) for t in ids
        ],
        "similar songs, same cluster + other artists": [
            lambda r=int(r): similar_tracks(
                atlas, r, n=10, same_cluster="kmeans", exclude_same_artist=True
            )
            for r in rows
        ],
        "similar songs, 5% of songs allowed (filters)": [
            lambda r=int(r), m=mask: similar_tracks(atlas, r, n=10, allowed=m)
            for r, mask in zip(rows, _masks(len(tracks), len(rows), rng), strict=True)
        ],
        "search (songs and artists)": [lambda q=q: search(atlas, q, limit=20) for q in texts],
        **playlist_workloads(atlas, count, rng),
        "artist profile": [lambda n=str(n): artist_profile(atlas, n) for n in chosen_artists],
    }


def _masks(size: int, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Sidebar-filter-like masks (a band of energy), each keeping about 5% of songs; a few
    distinct ones, reused."""
    masks = []
    for _ in range(min(count, 8)):
        keep = np.zeros(size, dtype=bool)
        start = int(rng.integers(0, size - size // 20))
        keep[start : start + size // 20] = True
        masks.append(keep[rng.permutation(size)])
    return [masks[i % len(masks)] for i in range(count)]


def playlist_workloads(
    atlas, count: int, rng: np.random.Generator, suffix: str = ""
) -> dict[str, list[Callable[[], object]]]:
    """Playlist requests drawn from the catalog: from a cluster, from two seed songs with
    limits, and from one seed song with nothing but the threshold (the most songs pass)."""
    from soundatlas.discovery import PlaylistRequest, generate_playlist

    tracks = atlas.tracks
    ids = tracks["track_id"].to_numpy(dtype=object)[rng.choice(len(tracks), size=count)]
    clusters = atlas.personas_of("kmeans")["cluster"].to_numpy()
    playlist_count = max(count // 5, 10)
    return {
        f"playlist (cluster, 20 songs, threshold 0.8){suffix}": [
            lambda c=int(c): generate_playlist(atlas, PlaylistRequest(cluster=c, size=20))
            for c in rng.choice(clusters, size=playlist_count)
        ],
        f"playlist (2 seed songs, limits, smooth order){suffix}": [
            lambda a=int(a), b=int(b): generate_playlist(
                atlas,
                PlaylistRequest(
                    method=None,
                    seeds=(str(ids[a]), str(ids[b])),
                    threshold=0.75,
                    maximum={"tempo": 130},
                    allow_explicit=False,
                    order="smooth",
                ),
            )
            for a, b in rng.integers(0, count, size=(playlist_count, 2))
        ],
        f"playlist (1 seed song, threshold 0.7 only){suffix}": [
            lambda a=str(a): generate_playlist(
                atlas, PlaylistRequest(method=None, seeds=(a,), threshold=0.7)
            )
            for a in ids[:playlist_count]
        ],
    }


def recall_at_10(atlas, count: int, rng: np.random.Generator) -> float:
    """Share of the NumPy brute-force top-10 (query and its copies removed) that our search
    returns, averaged over ``count`` queries."""
    from soundatlas.discovery import similar_tracks
    from soundatlas.discovery.index import discovery_index

    index = discovery_index(atlas)
    hits = 0
    for row in rng.choice(index.size, size=count, replace=False):
        scores = index.unit @ index.unit[row]
        scores[index.releases_of(int(row))] = -np.inf
        order = np.argsort(-scores, kind="stable")
        expected, seen = [], set()
        for candidate in order:
            group = int(index.recording[candidate])
            if group not in seen:
                seen.add(group)
                expected.append(int(candidate))
            if len(expected) == 10:
                break
        found = similar_tracks(atlas, int(row), n=10)
        # Ties at the 10th place may be broken differently; compare scores, not rows.
        cut = scores[expected[-1]]
        hits += int(np.sum(found["similarity"].to_numpy() >= cut - 1e-6))
    return hits / (10 * count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--queries", type=int, default=300, help="Queries per operation.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--index-only",
        action="store_true",
        help="Only time the discovery index build (best and median of 5 builds).",
    )
    parser.add_argument(
        "--featured",
        type=float,
        default=FEATURED,
        help="Share of songs given a second artist for the playlist rerun (0 skips it).",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    from soundatlas.discovery.index import DiscoveryIndex, discovery_index

    rows = []
    for size in args.sizes:
        started = time.perf_counter()
        atlas, methods = atlas_for(size)
        loaded = time.perf_counter() - started
        if args.index_only:
            builds = timed([lambda a=atlas: DiscoveryIndex(a)] * 5) / 1000
            print(
                f"{size:,} songs ({LABEL}): discovery index built in {builds.min():.2f} s "
                f"(best of {len(builds)}; median {np.median(builds):.2f} s)"
            )
            del atlas
            continue
        started = time.perf_counter()
        index = discovery_index(atlas)
        indexed = time.perf_counter() - started
        started = time.perf_counter()
        index.text  # noqa: B018  (built on the first text query; timed on its own)
        text_indexed = time.perf_counter() - started
        rng = np.random.default_rng(args.seed)
        print(
            f"\n{size:,} songs ({LABEL}; methods: {', '.join(methods)}): atlas loaded in "
            f"{loaded:.1f} s, discovery index built in {indexed:.2f} s (+ {text_indexed:.2f} s "
            "for the name lookups, on the first text query)"
        )
        for name, calls in workloads(atlas, args.queries, rng).items():
            times = timed(calls)
            rows.append((size, name, len(times), *np.percentile(times, [50, 95])))
            print(f"  {name:<64} p50 {rows[-1][3]:8.2f} ms   p95 {rows[-1][4]:8.2f} ms")
        recall = recall_at_10(atlas, min(100, args.queries), rng)
        print(f"  recall@10 of similar songs against NumPy brute force: {recall:.3f} (exact)")
        if args.featured > 0:
            featured = with_featured_artists(atlas, args.featured, rng)
            started = time.perf_counter()
            discovery_index(featured)
            print(
                f"  with a second artist on {args.featured:.0%} of songs: discovery index built "
                f"in {time.perf_counter() - started:.2f} s"
            )
            suffix = ", featured artists"
            for name, calls in playlist_workloads(featured, args.queries, rng, suffix).items():
                times = timed(calls)
                rows.append((size, name, len(times), *np.percentile(times, [50, 95])))
                print(f"  {name:<64} p50 {rows[-1][3]:8.2f} ms   p95 {rows[-1][4]:8.2f} ms")
            del featured
        del atlas
    if args.index_only:
        return 0
    print(f"\nDiscovery latency after load ({LABEL}; one query at a time; {os.cpu_count()} CPUs)")
    print(f"{'songs':>10}  {'operation':<64} {'queries':>7} {'p50 ms':>9} {'p95 ms':>9}")
    for size, name, count, p50, p95 in rows:
        print(f"{size:>10,}  {name:<64} {count:>7} {p50:>9.2f} {p95:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
