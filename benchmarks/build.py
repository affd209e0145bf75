"""Build benchmark: wall time and peak memory per stage, ours against the way users do it today.

Run from the repository root::

    .venv/bin/python benchmarks/build.py                 # real tables + 95,837 synthetic songs
    .venv/bin/python benchmarks/build.py --sizes 95837 1000000

Datasets: the shared real tables in ../shared/data, and synthetic scale-ups of real data
(SoundAtlas's demo generator, whose per-genre distributions are measured on the real tables)
of the sizes asked for. Each build runs in a fresh process so its peak memory is its own: the
peak proportional set size of the build process and its Ward worker together, sampled every
0.1 s. "Today" is the notebook pipeline users run now: scikit-learn KMeans (n_init=10) for
k=2..10 scored by a 10,000-song silhouette, DBSCAN(eps=0.5) on every song, and
AgglomerativeClustering(ward) on a 3,000-song sample.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from soundatlas.discovery.save import save_atlas

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
SHARED = ROOT.parent / "shared" / "data"
REAL = ("tophits_2k.csv", "tracks_11k_genres.csv")
STAGES = ("read", "kmeans", "dbscan", "hierarchical_tree", "pca", "personas", "save")
TODAY_LIMIT_SECONDS = 900


class PeakMemory:
    """Peak proportional set size (PSS) of this process and its descendants, sampled every
    0.1 s. PSS splits shared pages between processes, so the Ward worker and short-lived
    helper processes (forks sharing the parent's pages) are counted once, not twice."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._measure()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self._measure()

    def _measure(self) -> None:
        total = sum(_pss_kb(pid) for pid in _tree(os.getpid()))
        self.peak_kb = max(self.peak_kb, total)


def _tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return pids


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_ours(path: Path) -> dict:
    """Build and save an atlas of ``path`` in this process; timings per stage and peak memory."""
    from soundatlas.atlas.build import build_atlas

    with PeakMemory() as memory:
        started = time.perf_counter()
        atlas = build_atlas(path)
        saving = time.perf_counter()
        save_atlas(atlas, OUT / f"atlas-{path.stem}")
        finished = time.perf_counter()
    timings = dict(atlas.manifest["timings"])
    timings["save"] = finished - saving
    return {
        "songs": len(atlas.tracks),
        "total": finished - started,
        "stages": timings,
        "peak_mb": memory.peak_mb,
        "k": atlas.methods["kmeans"].params["k"],
        "ward": atlas.methods["hierarchical"].details["variant"],
    }


def run_today(path: Path) -> dict:
    """The notebook pipeline users run today, timed the same way."""
    import numpy as np
    from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    from soundatlas.ingest.catalog import load_catalog
    from soundatlas.ingest.schema import AUDIO_FEATURES

    memory = PeakMemory().__enter__()
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
    total = time.perf_counter() - started
    memory.__exit__(None, None, None)
    return {"songs": len(x), "total": total, "stages": stages, "peak_mb": memory.peak_mb}


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
        "total is wall time. Peak GB = proportional set size of the build process and its Ward "
        "worker together, sampled every 0.1 s."
    )


if __name__ == "__main__":
    main()
