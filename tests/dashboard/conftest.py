"""Fixtures for the dashboard tests: a synthetic catalog with hostile names, built once (no real
data needed), and AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard.hostile import APP, hostile_catalog

from soundatlas.discovery.save import save_atlas


@pytest.fixture(scope="session")
def hostile_atlas_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of the atlas of `hostile_catalog` (synthetic songs), built and saved once."""
    from soundatlas.atlas.build import build_atlas

    folder = tmp_path_factory.mktemp("dashboard")
    source = hostile_catalog(folder / "hits.csv")
    save_atlas(build_atlas(source), folder / "atlas")
    return folder / "atlas"


@pytest.fixture(scope="session")
def hostile_atlas(hostile_atlas_path: Path):
    """The loaded hostile atlas (read it, never change it: tests share it)."""
    from soundatlas.atlas.model import load_atlas

    return load_atlas(hostile_atlas_path)


@pytest.fixture(scope="session")
def songs(hostile_atlas) -> int:
    """Songs in the hostile atlas."""
    return len(hostile_atlas.tracks)


@pytest.fixture
def app(hostile_atlas_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``app(**query_params)``: the dashboard as an AppTest on the hostile atlas, run once."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SOUNDATLAS_DASHBOARD_ATLAS", str(hostile_atlas_path))

    def start(page: str | None = None, **params: object) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=90)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        if page is not None:
            at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return start


def texts(at) -> str:
    """Every piece of text an AppTest run shows (markdown, captions, alerts, titles, metrics)."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "text",
        "error",
        "warning",
        "info",
        "success",
    ):
        parts += [str(element.value) for element in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


@pytest.fixture
def text_of():
    """`texts`: all the text a run shows, for assertions on messages."""
    return texts
