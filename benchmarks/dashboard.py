"""Server time of dashboard interactions at 95,837 and 1,000,000 songs.

Drives the real app with Streamlit's AppTest (the server-side script run, no browser) and prints,
per catalog size, the median and 95th-percentile time of: first load (atlas loaded; the
dashboard's filter index, the discovery index and its name lookups built, once for every visitor;
Overview drawn), a filter change, a method switch, and a switch to each section.

The catalogs are synthetic scale-ups from `soundatlas.demo.generate_catalog` (statistically
faithful demo songs, not real data), built once and cached under ``benchmarks/out/``. The
1,000,000-song atlas is built with K-Means and DBSCAN only (the hierarchical tree of a million
songs alone takes many minutes); the dashboard hides what an atlas lacks.

Usage::

    .venv/bin/python benchmarks/dashboard.py                  # 95,837 and 1,000,000 songs
    .venv/bin/python benchmarks/dashboard.py --sizes 95837 --repeats 20
    .venv/bin/python benchmarks/dashboard.py --build-only     # just build the cached atlases
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from soundatlas.discovery.save import save_atlas

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
APP = HERE.parent / "src" / "soundatlas" / "dashboard" / "app.py"
SIZES = (95_837, 1_000_000)
FULL_METHODS_LIMIT = 200_000
"""Above this many songs the benchmark atlas skips the hierarchical method."""


def atlas_for(size: int) -> Path:
    """The cached benchmark atlas of ``size`` synthetic songs, built on first use."""
    from soundatlas.atlas.build import build_atlas
    from soundatlas.config import BuildConfig
    from soundatlas.demo import generate_catalog
    from soundatlas.ingest.catalog import load_catalog

    methods = (
        ("kmeans", "dbscan", "hierarchical") if size <= FULL_METHODS_LIMIT else ("kmeans", "dbscan")
    )
    folder = OUT / f"atlas-{size}-{'-'.join(methods)}"
    if (folder / "manifest.json").is_file():
        return folder
    clock = time.perf_counter()
    print(f"building the {size:,}-song synthetic atlas ({', '.join(methods)}) …", flush=True)
    songs = generate_catalog(size, random_state=0)
    name = f"synthetic scale-up ({size:,} demo songs, seed 0)"
    catalog = load_catalog(songs, name=name)
    del songs
    save_atlas(build_atlas(catalog, BuildConfig(methods=methods)), folder)
    print(f"  built in {time.perf_counter() - clock:,.0f} s -> {folder}", flush=True)
    return folder


def _timed(step) -> float:
    clock = time.perf_counter()
    step()
    return (time.perf_counter() - clock) * 1000


def measure(folder: Path, repeats: int) -> dict[str, list[float]]:
    """Milliseconds per interaction, ``repeats`` times each (first load once)."""
    import warnings

    from streamlit.testing.v1 import AppTest

    warnings.simplefilter("ignore")
    os.environ["SOUNDATLAS_DASHBOARD_ATLAS"] = str(folder)
    timings: dict[str, list[float]] = {}
    at = AppTest.from_file(str(APP), default_timeout=600)
    timings["first load (load + indexes + Overview)"] = [_timed(at.run)]
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    at.run()  # a warm rerun, so later steps measure interaction, not one-off imports
    popularity = at.slider(key="pop")
    energy = at.slider(key="energy")
    for i in range(repeats):
        low = 10 + (i % 5) * 5
        popularity.set_value((low, 90))
        energy.set_value((0.1 + 0.05 * (i % 3), 0.9))
        timings.setdefault("filter change (Overview)", []).append(_timed(at.run))
    methods = at.selectbox(key="method").options
    for i in range(repeats):
        at.selectbox(key="method").set_value(methods[(i + 1) % len(methods)])
        timings.setdefault("method switch (Overview)", []).append(_timed(at.run))
    at.selectbox(key="method").set_value(methods[0])
    at.run()
    pages = {
        "Cluster distribution": "app_pages/distribution.py",
        "Audio features": "app_pages/features.py",
        "Playlists": "app_pages/playlists.py",
        "Search": "app_pages/search.py",
        "Export & reports": "app_pages/exports.py",
        "Overview": "app_pages/overview.py",
    }
    for title, page in pages.items():
        for _ in range(max(1, repeats // 4)):
            at.switch_page(page)
            timings.setdefault(f"section switch -> {title}", []).append(_timed(at.run))
            if at.exception:
                raise RuntimeError(f"{title}: {at.exception[0].value}")
    at.switch_page("app_pages/features.py")
    at.run()
    for i in range(repeats):
        at.slider(key="pop").set_value((10 + (i % 5) * 5, 90))
        timings.setdefault("filter change (Audio features)", []).append(_timed(at.run))
    return timings


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the atlases, time the interactions, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args(argv)
    folders = {size: atlas_for(size) for size in args.sizes}
    if args.build_only:
        return 0
    results = {size: measure(folder, args.repeats) for size, folder in folders.items()}
    steps = list(next(iter(results.values())))
    header = "| interaction | " + " | ".join(
        f"{size:,} songs median / p95 (ms)" for size in results
    )
    print("\nServer time per interaction (Streamlit AppTest script run; synthetic catalogs)")
    print(header + " |")
    print("|---|" + "---|" * len(results))
    for step in steps:
        cells = []
        for size in results:
            values = results[size].get(step, [])
            if not values:
                cells.append("—")
            elif len(values) == 1:
                cells.append(f"{values[0]:,.0f}")
            else:
                cells.append(f"{statistics.median(values):,.0f} / {_p95(values):,.0f}")
        print(f"| {step} | " + " | ".join(cells) + " |")
    print(
        "\nTarget: a filter change re-renders in <= 150 ms server time at 95,837 songs. "
        "Methods: 95,837 = K-Means, DBSCAN, hierarchical; 1,000,000 = K-Means, DBSCAN."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
