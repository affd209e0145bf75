"""Start-up: what each entry point imports, checked in a fresh interpreter.

Timing is for `benchmarks/startup.py`; these tests guard the structure that makes start-up
fast, which timing on a shared machine cannot: the command line's help loads no numerical
library, a query loads no clustering library, and numba's cache goes to a writable folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from soundatlas import build_atlas
from soundatlas.demo import generate_catalog
from soundatlas.discovery.save import save_atlas

HEAVY = ("pandas", "numpy", "pyarrow", "scipy", "sklearn", "numba", "fast_hdbscan")
FRONT_END = ("streamlit", "plotly", "matplotlib")
BUILD_ONLY = (
    "sklearn",
    "fast_hdbscan",
    "threadpoolctl",
    "scipy.optimize",
    "scipy.sparse",
    "scipy.spatial",
    "streamlit",
)
"""Libraries only building needs."""
QUERY_FREE = (*BUILD_ONLY, "numba", "scipy")
"""Nor does a similar-songs query or a search need a compiler or SciPy (the search is NumPy)."""


def _imported_after(code: str, watched: tuple[str, ...]) -> list[str]:
    """The modules of ``watched`` loaded once ``code`` has run in a new interpreter."""
    report = f"import json, sys\nprint(json.dumps([m for m in {watched!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def tiny_atlas_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup") / "atlas"
    save_atlas(build_atlas(generate_catalog(150, random_state=2)), folder)
    return folder


def test_importing_the_command_line_loads_no_numerical_library():
    assert _imported_after("import soundatlas.cli", HEAVY + FRONT_END) == []


@pytest.mark.parametrize("argv", [["--help"], ["build", "--help"], ["similar", "--help"]])
def test_help_loads_no_numerical_library(argv):
    code = (
        "import sys\nfrom soundatlas.cli import app\n"
        f"try:\n    app({argv!r})\nexcept SystemExit:\n    pass"
    )
    assert _imported_after(code, HEAVY + FRONT_END) == []


def test_a_query_loads_no_clustering_library(tiny_atlas_dir: Path):
    code = (
        "from soundatlas import load_atlas\nfrom soundatlas.discovery import search\n"
        f"search(load_atlas({str(tiny_atlas_dir)!r}), 'a')"
    )
    assert _imported_after(code, BUILD_ONLY) == []


@pytest.mark.parametrize("command", ["similar", "search"])
def test_similar_and_search_load_no_compiler(tiny_atlas_dir: Path, command: str):
    code = (
        "from soundatlas.cli import app\n"
        f"try:\n    app([{command!r}, {str(tiny_atlas_dir)!r}, 'a', '--json'])\n"
        "except SystemExit:\n    pass"
    )
    assert _imported_after(code, QUERY_FREE) == []


def test_numba_cache_goes_to_soundatlas_home_unless_set(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    code = "import soundatlas, numba\nprint(numba.config.CACHE_DIR)"
    ours = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "SOUNDATLAS_HOME": str(tmp_path)},
    )
    assert ours.stdout.strip() == str(tmp_path / "numba")
    theirs = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "SOUNDATLAS_HOME": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "x")},
    )
    assert theirs.stdout.strip() == str(tmp_path / "x")


@pytest.mark.parametrize(
    ("command", "text"), [("similar", None), ("similar", "song"), ("search", "a")]
)
def test_similar_and_search_on_a_saved_index_load_no_pandas(tiny_atlas_dir: Path, command, text):
    """The command line answers from the atlas's saved index and the few track columns it
    reads (`soundatlas.discovery.saved`): pandas alone took longer to import than the rest."""
    import pyarrow.parquet as pq

    if text is None:  # a track id
        tracks = pq.read_table(tiny_atlas_dir / "tracks.parquet", columns=["track_id"])
        text = tracks["track_id"][0].as_py()
    code = (
        "from soundatlas.cli import app\n"
        f"try:\n    app([{command!r}, {str(tiny_atlas_dir)!r}, {text!r}])\n"
        "except SystemExit as exit:\n    assert exit.code in (0, 2), exit.code"
    )
    assert _imported_after(code, ("pandas", *QUERY_FREE)) == []
