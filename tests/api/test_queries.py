"""Each route's query is one Pydantic model validated in one call (`query_of`), and the OpenAPI
schema still names every field as a query parameter, as FastAPI's own extraction did."""

from __future__ import annotations

import pytest
from apiserver import error_of

from soundatlas.api.context import Strict, query_parameters
from soundatlas.api.spotify import TUNABLE

pytestmark = pytest.mark.realdata


def _parameters(client, path: str) -> dict[str, dict]:
    operation = client.get("/openapi.json").json()["paths"][path]["get"]
    return {p["name"]: p for p in operation["parameters"]}


def test_the_schema_names_every_query_parameter(client) -> None:
    found = _parameters(client, "/v1/recommendations")
    limits = {f"{p}_{c}" for c in TUNABLE for p in ("min", "max", "target")}
    assert set(found) == {"seed_tracks", "seed_artists", "seed_genres", "limit", "market"} | limits
    assert len(found) == 47 and all(p["in"] == "query" for p in found.values())
    assert found["limit"]["schema"] | {"title": ""} == {
        "default": 20, "maximum": 100, "minimum": 1, "type": "integer", "title": ""
    }  # fmt: skip
    assert found["seed_tracks"]["description"] == "Track ids, commas."
    assert not found["seed_tracks"]["required"]
    search = _parameters(client, "/v1/search")
    assert search["q"]["required"] and search["type"]["required"]
    track = _parameters(client, "/v1/tracks/{id}")
    assert track["id"]["in"] == "path" and track["market"]["in"] == "query"
    playlist = _parameters(client, "/soundatlas/v1/playlist")
    assert playlist["seed"]["schema"]["type"] == "array"


def test_the_schema_is_the_same_whenever_it_is_made(client) -> None:
    """Declaring the parameters again (another app from the same routers) adds none."""
    from soundatlas.api import create_app

    create_app(client.app.state.holder.path, poll=0)
    assert len(_parameters(client, "/v1/search")) == 6


def test_repeated_parameters(client, atlas) -> None:
    """A list field takes every value given; another field the last, as FastAPI did."""
    seeds = "&".join(f"seed=s{i}" for i in range(6))
    response = client.get(f"/soundatlas/v1/playlist?{seeds}")
    assert response.status_code == 400
    assert "seed: List should have at most 5 items" in error_of(response)["message"]
    found = client.get("/v1/search?q=zzzz&q=love&type=track&limit=3&limit=2").json()
    assert "q=love" in found["tracks"]["href"] and found["tracks"]["limit"] == 2


def test_query_parameters_of_a_model() -> None:
    from pydantic import Field

    class Query(Strict):
        needed: str = Field(..., description="Must be given.")
        count: int = Field(3, ge=1)

    first, second = query_parameters(Query)
    assert first == {
        "name": "needed",
        "in": "query",
        "required": True,
        "schema": {"description": "Must be given.", "title": "Needed", "type": "string"},
        "description": "Must be given.",
    }
    assert second["name"] == "count" and not second["required"]
    assert second["schema"]["minimum"] == 1 and second["schema"]["default"] == 3
