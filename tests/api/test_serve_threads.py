"""`soundatlas serve` runs every BLAS with one thread, numpy's too, although numpy is imported
after the limit is set (with the atlas)."""

from __future__ import annotations

import json
import subprocess
import sys

CHECK = """
import json, sys
from soundatlas.cli.serve_commands import one_blas_thread
assert "numpy" not in sys.modules  # as when the command runs
one_blas_thread()
import numpy  # noqa: F401  (loaded afterwards, as the atlas loads it)
from threadpoolctl import threadpool_info
print(json.dumps([(i["internal_api"], i["num_threads"]) for i in threadpool_info()]))
"""


def test_blas_loaded_after_the_limit_runs_one_thread() -> None:
    found = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=120
    )
    pools = json.loads(found.stdout)
    assert any(api == "openblas" for api, _ in pools)
    assert all(threads == 1 for api, threads in pools if api == "openblas"), pools
