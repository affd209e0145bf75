"""Shared fixtures: the real track tables in ../shared/data and atlases built from them."""

from __future__ import annotations

import pytest
from realdata import SHARED_DATA, SHARED_FILES, shared_file


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep the demo atlas cache out of the user's home during tests."""
    monkeypatch.setenv("SOUNDATLAS_HOME", str(tmp_path_factory.getbasetemp() / "home"))


@pytest.fixture(scope="session")
def built_atlases(tmp_path_factory: pytest.TempPathFactory):
    """Atlases of the three shared files, built once per session and saved, keyed by file name."""
    from soundatlas.atlas import build_atlas
    from soundatlas.store import load_atlas

    atlases = {}
    for name in SHARED_FILES:
        path = SHARED_DATA / name
        if not path.is_file():
            continue
        folder = tmp_path_factory.mktemp("atlas") / name.removesuffix(".csv")
        build_atlas(path).save(folder)
        atlases[name] = load_atlas(folder)
    return atlases


@pytest.fixture
def atlas_of(built_atlases):
    """``atlas_of(name)``: the saved-and-loaded atlas of a shared file."""

    def get(name: str):
        shared_file(name)
        return built_atlases[name]

    return get
