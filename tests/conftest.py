"""Shared fixtures: the real track tables in ../shared/data and atlases built from them.

Tests that need something the machine may lack skip without it: the real tables
(``SOUNDATLAS_REQUIRE_DATA``), Debian's Chromium (``SOUNDATLAS_REQUIRE_BROWSER``) and Spark with
Java (``SOUNDATLAS_REQUIRE_SPARK``). Each variable follows one rule (`required.required`): ``1``,
``true`` or ``yes`` turns the skip into a failure (CI sets all three); unset, empty, ``0``,
``false`` or ``no`` lets the test skip; anything else fails, naming the variable.
"""

from __future__ import annotations

import pytest
from realdata import SHARED_DATA, shared_file

from soundatlas.discovery.save import save_atlas


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep the demo atlas cache out of the user's home during tests."""
    monkeypatch.setenv("SOUNDATLAS_HOME", str(tmp_path_factory.getbasetemp() / "home"))


@pytest.fixture(scope="session")
def built_atlases(tmp_path_factory: pytest.TempPathFactory):
    """``built_atlases(name)``: the atlas of a shared file, built, saved and loaded once per
    session (on first use, so a test run that needs one file builds only that one)."""
    from soundatlas.atlas.build import build_atlas
    from soundatlas.atlas.model import load_atlas

    atlases = {}

    def get(name: str):
        if name not in atlases:
            folder = tmp_path_factory.mktemp("atlas") / name.removesuffix(".csv")
            save_atlas(build_atlas(SHARED_DATA / name), folder)
            atlases[name] = load_atlas(folder)
        return atlases[name]

    return get


@pytest.fixture
def atlas_of(built_atlases):
    """``atlas_of(name)``: the saved-and-loaded atlas of a shared file (skips without it)."""

    def get(name: str):
        shared_file(name)
        return built_atlases(name)

    return get
