"""Library CPU per request of each endpoint, in one process: the calls a route of
``soundatlas serve`` makes and the objects it builds, without HTTP.

The atlas is loaded once (and warmed as the server warms it); the requests are drawn as
``benchmarks/api_load.py`` draws its URLs (songs found by searching each vowel; 50 pairs of
seed tracks with ``target_energy`` and ``min_tempo``, 50 lists of 100 ids, 50 title words, 50
songs), so the figures compare with its "server CPU" column less HTTP. CPU is
``time.process_time`` with one BLAS thread, as the server runs. ``--profile`` adds cProfile's
top functions per endpoint.

Usage::

    python benchmarks/route_cpu.py /path/to/atlas
    python benchmarks/route_cpu.py /path/to/atlas --endpoints search --profile
    git archive OLD src | tar -x -C /tmp/old  # the same on an older version
    PYTHONPATH=/tmp/old/src python benchmarks/route_cpu.py /path/to/atlas
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REQUESTS = 50
ENDPOINTS = ("recommendations", "audio-features", "search", "similar")
BASE = "http://127.0.0.1"


def routes(atlas_dir: Path) -> dict[str, Callable[[int], object]]:
    """Each endpoint's work for request number 0 to `REQUESTS` - 1."""
    from soundatlas import discovery, load_atlas
    from soundatlas.api.holder import warmed
    from soundatlas.api.native import column_records
    from soundatlas.api.objects import artist_object, audio_features_object, track_object
    from soundatlas.discovery import (
        PlaylistRequest,
        find_artist,
        find_song,
        find_songs,
        playlist_rows,
        search,
        seed_pools,
        similar_columns,
        songs_at,
    )
    from soundatlas.discovery.index import discovery_index
    from soundatlas.discovery.text import name_id

    atlas = warmed(load_atlas(atlas_dir))
    index = discovery_index(atlas)
    found = []
    for letter in "aeiou":
        for offset in (0, 50, 100):
            page = search(atlas, letter, limit=50, offset=offset).songs
            found += songs_at(atlas, page["row"].tolist(), page["track_id"].tolist())
    songs = [s for s in found if s is not None]
    ids = list(dict.fromkeys(s.track_id for s in songs))
    words = sorted(
        {w.lower() for s in songs for w in s.name.split() if len(w) >= 4 and w.isalpha()}
    )
    rng = np.random.default_rng(0)
    seeds = rng.choice(ids, size=(REQUESTS, 2), replace=False)
    energy = rng.uniform(0.3, 0.9, REQUESTS)
    tempo = rng.integers(70, 130, REQUESTS)
    lists = [list(rng.choice(ids, 100, replace=False)) for _ in range(REQUESTS)]
    queries = list(rng.choice(words, REQUESTS, replace=False))
    similar = list(rng.choice(ids, REQUESTS, replace=False))

    def recommendations(n: int) -> object:
        for track_id in seeds[n]:
            find_song(atlas, track_id)
        request = PlaylistRequest(
            method=None,
            seeds=tuple(seeds[n]),
            target={"energy": round(float(energy[n]), 2)},
            minimum={"tempo": float(tempo[n])},
        )
        if hasattr(discovery, "recommend"):  # the route's one call
            rows, pools = discovery.recommend(atlas, request)
        else:  # a version before it: the route's two calls
            rows, pools = playlist_rows(atlas, request), seed_pools(atlas, request)
        return pools, [track_object(BASE, s) for s in index.songs(rows)]

    def audio_features(n: int) -> object:
        return [s and audio_features_object(BASE, s) for s in find_songs(atlas, lists[n])]

    def search_catalog(n: int) -> object:
        if hasattr(discovery, "search_page"):  # the route's one call
            found = discovery.search_page(atlas, queries[n], limit=20)
            return (
                [track_object(BASE, s) for s in found.songs],
                [
                    artist_object(BASE, a.name, genres=list(a.genres), artist_id=a.artist_id)
                    for a in found.artists
                ],
            )
        result = search(atlas, queries[n], limit=20)  # a version before it
        page = result.songs
        tracks = songs_at(atlas, page["row"].tolist(), page["track_id"].tolist())
        artists = [find_artist(atlas, name_id(a)) for a in result.artists["artist"]]
        return (
            [track_object(BASE, s) for s in tracks if s is not None],
            [artist_object(BASE, a.name, genres=list(a.genres)) for a in artists],
        )

    def similar_songs(n: int) -> object:
        song = find_song(atlas, similar[n])
        query = song.track_id if song.row is None else song.row
        # The route's calls: the result's columns as records, without a DataFrame.
        return column_records(similar_columns(atlas, [query], n=10))

    return {
        "recommendations": recommendations,
        "audio-features": audio_features,
        "search": search_catalog,
        "similar": similar_songs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("atlas", type=Path)
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()
    threadpool_limits(limits=1)  # numpy is imported: the limit reaches its BLAS
    clock = time.perf_counter()
    work = routes(options.atlas)
    print(f"loaded and warmed in {time.perf_counter() - clock:.1f} s")
    print("| endpoint | mean ms | median ms | p95 ms |\n|---|---|---|---|")
    for name in options.endpoints.split(","):
        route = work[name]
        route(0)
        profile = cProfile.Profile() if options.profile else None
        samples = []
        for number in range(REQUESTS):
            start = time.process_time()
            if profile is not None:
                profile.enable()
            route(number)
            if profile is not None:
                profile.disable()
            samples.append(1000 * (time.process_time() - start))
        print(f"| {name} | {np.mean(samples):.1f} | {np.median(samples):.1f} | "
              f"{np.percentile(samples, 95):.1f} |")  # fmt: skip
        if profile is not None:
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(30)
            print(text.getvalue())


if __name__ == "__main__":
    main()
