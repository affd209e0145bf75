"""The HTTP API over the chart table's atlas: in process, and as a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from apiserver import Server
from realdata import TOPHITS


@pytest.fixture(scope="session")
def atlas_dir(built_atlases) -> Path:
    """The folder of the chart table's atlas (built once per session; skips without data)."""
    from realdata import shared_file

    shared_file(TOPHITS)
    return Path(built_atlases(TOPHITS).manifest["path"])


@pytest.fixture(scope="session")
def client(atlas_dir):
    """A test client of the API app, in process, without tokens."""
    from fastapi.testclient import TestClient

    from soundatlas.api import create_app

    with TestClient(create_app(atlas_dir, poll=0)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def atlas(atlas_dir, client):
    """The atlas the client answers from."""
    return client.app.state.holder.atlas


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """``start_server(*args)``: a started ``soundatlas serve ARGS`` (killed after the test)."""
    started: list[Server] = []

    def start(*args: object, ready: bool = True, headers: dict | None = None) -> Server:
        server = Server(*args)
        started.append(server)
        if ready:
            server.wait_ready(headers=headers)
        return server

    yield start
    for server in started:
        server.stop()
