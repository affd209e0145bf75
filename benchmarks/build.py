"""Build benchmark: wall time and peak memory per stage, ours against the way users do it today.

Run from the repository root::

    .venv/bin/python benchmarks/build.py                 # real tables + 95,837 synthetic songs
    .venv/bin/python benchmarks/build.py --sizes 95837 1000000

Datasets: the shared real tables in ../shared/data, and synthetic scale-ups of real data
(SoundAtlas's demo generator, whose per-genre distributions are measured on the real tables)
of the sizes asked for. Each build runs in a fresh process so its peak memory is its own; the
peak reported is the build process plus its Ward worker process (an upper bound on the two
together). "Today" is the notebook pipeline users run now: scikit-learn KMeans (n_init=10) for
k=2..10 scored by a 10,000-song silhouette, DBSCAN(eps=0.5) on every song, and
AgglomerativeClustering(ward) on a 3,000-song sample.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
SHARED = ROOT.parent / "shared" / "data"
REAL = ("tophits_2k.csv", "tracks_11k_genres.csv")
STAGES = ("read", "kmeans", "dbscan", "hierarchical_tree", "pca", "personas", "save")
TODAY_LIMIT_SECONDS = 900


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def run_ours(path: Path) -> dict:
    """Build and save an atlas of ``path`` in this process; timings per stage and peak memory."""
    from soundatlas.atlas import build_atlas

    started = time.perf_counter()
    atlas = build_atlas(path)
    saving = time.perf_counter()
    atlas.save(OUT / f"atlas-{path.stem}")
    finished = time.perf_counter()
    timings = dict(atlas.manifest["timings"])
    timings["save"] = finished - saving
    return {
        "songs": len(atlas.tracks),
        "total": finished - started,
        "stages": timings,
        "peak_mb": _peak_mb(),
        "k": atlas.methods["kmeans"].params["k"],
        "ward": atlas.methods["hierarchical"].details["variant"],
    }


def run_today(path: Path) -> dict:
    """The notebook pipeline users run today, timed the same way."""
    import numpy as np
    from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    from soundatlas.catalog import load_catalog
    from soundatlas.schema import AUDIO_FEATURES

    started = time.perf_counter()
    tracks = load_catalog(path).tracks
    x = StandardScaler().fit_transform(tracks[list(AUDIO_FEATURES)].to_numpy(float))
    rng = np.random.default_rng(0)
    stages = {"read": time.perf_counter() - started}
    clock = time.perf_counter()
    for k in range(2, 11):
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(x)
        silhouette_score(x, labels, sample_size=min(10_000, len(x)), random_state=0)
    stages["kmeans"] = time.perf_counter() - clock
    clock = time.perf_counter()
    DBSCAN(eps=0.5, min_samples=5).fit(x)
    stages["dbscan"] = time.perf_counter() - clock
    clock = time.perf_counter()
    sample = x[rng.choice(len(x), size=min(3_000, len(x)), replace=False)]
    AgglomerativeClustering(n_clusters=6, linkage="ward").fit(sample)
    stages["hierarchical_tree"] = time.perf_counter() - clock
    return {
        "songs": len(x),
        "total": time.perf_counter() - started,
        "stages": stages,
        "peak_mb": _peak_mb(),
    }


def _in_subprocess(kind: str, path: Path, limit: float | None = None) -> dict:
    command = [sys.executable, __file__, "--one", kind, str(path)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=limit, check=True, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {limit:.0f} s"}
    except subprocess.CalledProcessError as exc:
        return {"error": exc.stderr.strip().splitlines()[-1] if exc.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _dataset(size: int) -> Path:
    from soundatlas.demo import write_catalog

    path = OUT / f"synthetic-{size}.csv"
    if not path.exists():
        write_catalog(path, size, random_state=0)
    return path


def _row(label: str, who: str, result: dict) -> str:
    if "error" in result:
        return f"| {label} | {who} | {result['error']} |" + " |" * (len(STAGES) + 1)
    stages = result["stages"]
    cells = [f"{stages[s]:.1f}" if s in stages else "—" for s in STAGES]
    return (
        f"| {label} | {who} | {result['total']:.1f} | "
        + " | ".join(cells)
        + f" | {result['peak_mb'] / 1024:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[95_837])
    parser.add_argument("--no-today", action="store_true", help="skip the baseline pipeline")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, path = args.one
        result = (run_ours if kind == "ours" else run_today)(Path(path))
        print(json.dumps(result))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    datasets = [(name, SHARED / name) for name in REAL if (SHARED / name).exists()]
    datasets += [
        (f"synthetic {size:,} (scale-up of real data)", _dataset(size)) for size in args.sizes
    ]
    header = "| dataset | pipeline | total s | " + " | ".join(STAGES) + " | peak GB |"
    print(header)
    print("|" + "---|" * (len(STAGES) + 4))
    for label, path in datasets:
        ours = _in_subprocess("ours", path)
        print(_row(label, "SoundAtlas (every song)", ours), flush=True)
        if not args.no_today:
            today = _in_subprocess("today", path, TODAY_LIMIT_SECONDS)
            print(_row(label, "today (samples)", today), flush=True)
            if "error" not in ours and "error" not in today:
                ratio = today["total"] / ours["total"]
                print(f"|  | ratio today / ours: {ratio:.2f}× |" + " |" * (len(STAGES) + 2))
    print(
        "\nStages in seconds. K-Means includes choosing k (2-12, every k scored); Ward runs in "
        "a second process in parallel with K-Means and DBSCAN, so stage times overlap and the "
        "total is wall time. Peak GB = build process + Ward worker."
    )


if __name__ == "__main__":
    main()
