"""Server CPU per request of ``soundatlas serve``'s endpoints, in one process, through the app.

The app (`soundatlas.api.create_app`) answers in this process through httpx's ASGI transport,
with one BLAS thread as ``serve`` runs it; each request's cost is the process's CPU time
(`time.process_time`) from sending it to reading the answer: routing, parameter extraction,
the library, the objects and the JSON, without the HTTP server and the sockets. Process CPU
time is far less disturbed than wall time by other work on the same cores, so the old and new
versions of the code can be compared on a shared machine, run after one another in the same
session (``--source OLD/src`` runs an older checkout: ``git archive COMMIT src | tar -x -C OLD``).

The URLs are `api_load.endpoint_urls`'s: 50 per endpoint, each with other seeds, targets, ids,
words or songs, every one asked ``--rounds`` times in a shuffled order. Printed per endpoint:
the median and mean milliseconds of CPU, and for the mix (`api_load.MIX`) the mean weighted by
its shares, which sets how many requests a second the cores can answer.

Usage::

    python benchmarks/api_cpu.py ATLAS [--rounds 4] [--source OLD/src --source src] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from api_load import MIX, endpoint_urls

BASE = "http://testserver"


async def _measure(app, jobs: list[tuple[str, str]]) -> dict[str, list[float]]:
    import httpx

    spent: dict[str, list[float]] = {name: [] for name, _ in jobs}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        for name, url in jobs:
            clock = time.process_time()
            answer = await client.get(url)
            spent[name].append(time.process_time() - clock)
            if answer.status_code != 200:
                raise SystemExit(f"{url}: {answer.status_code} {answer.text[:200]}")
    return spent


def measure(atlas: Path, rounds: int) -> dict[str, dict[str, float]]:
    """Per endpoint: median and mean CPU milliseconds per request (and the mix's mean)."""
    from fastapi.testclient import TestClient
    from threadpoolctl import threadpool_limits

    from soundatlas.api import create_app
    from soundatlas.api.holder import warmed

    threadpool_limits(limits=1)  # as `serve` runs
    app = create_app(atlas, poll=0)
    with TestClient(app, base_url=BASE) as client:  # runs the app's start-up
        warmed(app.state.holder.atlas)
        urls = endpoint_urls(BASE, client=client)
        jobs = [(name, url) for name, listed in urls.items() for url in listed]
        asyncio.run(_measure(app, jobs))  # every URL once, unmeasured: lazy parts, caches
        order = np.random.default_rng(1).permutation(len(jobs) * rounds) % len(jobs)
        spent = asyncio.run(_measure(app, [jobs[i] for i in order]))
    found = {
        name: {
            "median": 1000 * float(np.median(times)),
            "mean": 1000 * float(np.mean(times)),
            "requests": len(times),
        }
        for name, times in spent.items()
    }
    found["mix"] = {
        "median": float("nan"),
        "mean": sum(share * found[name]["mean"] for name, share in MIX.items()),
        "requests": sum(len(t) for t in spent.values()),
    }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("atlas", type=Path)
    parser.add_argument("--rounds", type=int, default=4, help="Times each URL is asked.")
    parser.add_argument(
        "--source",
        type=Path,
        action="append",
        help="Measure the soundatlas under this src; given twice or more, all at once (one "
        "process each, at the same time, so that both meet the same load from other work).",
    )
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    options = parser.parse_args()
    if options.source:
        command = [sys.executable, __file__, str(options.atlas), "--rounds", str(options.rounds)]
        running = [
            subprocess.Popen(
                command + (["--json", f"{options.json}.{i}"] if options.json else []),
                env={**os.environ, "PYTHONPATH": str(source.resolve())},
                stdout=subprocess.PIPE,
                text=True,
            )
            for i, source in enumerate(options.source)
        ]
        for process in running:
            print(process.communicate()[0], end="")
        raise SystemExit(max(process.returncode for process in running))
    import soundatlas

    found = measure(options.atlas, options.rounds)
    print(f"soundatlas from {Path(soundatlas.__file__).parent}; load {os.getloadavg()[0]:.2f}")
    print(f"{'endpoint':<16} {'median ms':>10} {'mean ms':>9} {'requests':>9}")
    for name, figures in found.items():
        print(
            f"{name:<16} {figures['median']:>10.2f} {figures['mean']:>9.2f} "
            f"{figures['requests']:>9}"
        )
    if options.json is not None:
        options.json.write_text(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
