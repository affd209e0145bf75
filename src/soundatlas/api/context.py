"""What a route needs from the request: the atlas (taken once), its lookups and this server's
base URL; the parsing of comma-separated id lists shared by the routes; and how a route answers.

Routes are ``async def`` and do their work on the event loop: a request's work is a few
milliseconds of Python holding the GIL, so handing it to a thread pool only added the hand-over
and let 40 threads take turns on the GIL, finishing a burst of requests all late instead of one
after another (measured in ``benchmarks/api_load.py``; README, "HTTP API"). A route answers with
`json_answer`: the JSON encoded once by orjson, rather than validated against the route's
response model and encoded again by FastAPI (the schema still names the model).

A route's query is one Pydantic model validated in one call (`query_of`), not FastAPI's
extraction field by field: for the 47 fields of ``/v1/recommendations`` FastAPI spent 0.30 ms
a request, one validation of the same dict 0.01 ms. `declare_queries` writes the model's
fields into the OpenAPI schema as the route's query parameters, as FastAPI would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, get_origin

import orjson
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from soundatlas.api.errors import ApiError, shown
from soundatlas.atlas.model import Atlas
from soundatlas.discovery.index import DiscoveryIndex, discovery_index


class Strict(BaseModel):
    """Query parameters of a route: an unknown parameter is refused (400), not ignored."""

    model_config = ConfigDict(extra="forbid")


class NoParameters(Strict):
    """The query of an endpoint that takes no parameters (any given is refused)."""


def query_of(model: type[Strict]) -> Any:
    """A route parameter's type: the request's query validated as ``model`` in one call.

    As FastAPI reads a query model: a field whose type is a list takes every value of its
    parameter (``seed=a&seed=b``), another field the last; a parameter that is no field is
    refused by ``extra="forbid"``. A broken rule raises `RequestValidationError` located in
    the query, so it is answered like FastAPI's own (400 naming the parameter).
    """
    lists = frozenset(
        name for name, field in model.model_fields.items() if get_origin(field.annotation) is list
    )

    async def parse(request: Request) -> Strict:
        params = request.query_params
        given: dict[str, Any] = dict(params)
        for name in lists.intersection(given):
            given[name] = params.getlist(name)
        try:
            return model.model_validate(given)
        except ValidationError as exc:
            problems = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(problems) from None

    parse.query_model = model  # type: ignore[attr-defined]  # read by `declare_queries`
    return Annotated[model, Depends(parse)]


def declare_queries(router: APIRouter) -> None:
    """Name each route's `query_of` model's fields in the OpenAPI schema as its query
    parameters (the schema Schemathesis and clients read), since FastAPI sees only a
    dependency. Call it before the router is included; calling it again changes nothing."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        for dependency in route.dependant.dependencies:
            model = getattr(dependency.call, "query_model", None)
            if model is not None:
                route.openapi_extra = {"parameters": query_parameters(model)}


def query_parameters(model: type[Strict]) -> list[dict[str, Any]]:
    """OpenAPI query parameter objects for the fields of ``model`` (FastAPI's shape)."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        parameter = {"name": name, "in": "query", "required": name in required, "schema": field}
        if "description" in field:
            parameter["description"] = field["description"]
        parameters.append(parameter)
    return parameters


LIMIT_PREFIXES = {"minimum": "min", "maximum": "max", "target": "target"}
"""`PlaylistRequest` field → query parameter prefix (``min_energy``, ``target_tempo``)."""


def with_limits(name: str, base: type[Strict], columns: tuple[str, ...]) -> type[Strict]:
    """``base`` plus optional finite ``min_``, ``max_`` and ``target_`` numbers for ``columns``."""
    fields = {
        f"{prefix}_{column}": (float | None, Field(None, allow_inf_nan=False))
        for column in columns
        for prefix in LIMIT_PREFIXES.values()
    }
    return create_model(name, __base__=base, **fields)


def limits_of(query: Strict, columns: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """The ``minimum``, ``maximum`` and ``target`` dicts of a `PlaylistRequest`, from a query
    made by `with_limits` (parameters not given are left out)."""
    given = query.model_dump()
    return {
        field: {c: given[f"{p}_{c}"] for c in columns if given[f"{p}_{c}"] is not None}
        for field, p in LIMIT_PREFIXES.items()
    }


@dataclass(frozen=True)
class Context:
    atlas: Atlas
    index: DiscoveryIndex
    base: str


async def context(request: Request) -> Context:
    """The atlas this request is answered from (it keeps it even if a rebuild is swapped in)."""
    atlas = request.app.state.holder.atlas
    return Context(atlas, discovery_index(atlas), base_url(request.scope))


LONGEST_CACHED_HOST = 255
"""Host headers up to this many bytes (a DNS name has at most 253) have their base URL kept."""


def base_url(scope: dict[str, Any]) -> str:
    """This server's base URL as the request names it (Starlette's ``request.base_url``
    without its final slash), the prefix of every ``href`` and ``uri`` in an answer.

    Starlette builds it from the scheme, the server address, the root path and the ``Host``
    header anew for every request (a parsed URL object: about a tenth of FastAPI's share of a
    request); clients send the same few, so the last `_base_url` answers are kept.
    """
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    root = scope.get("app_root_path", scope.get("root_path", ""))
    server = scope.get("server")
    key = (scope.get("scheme", "http"), server and tuple(server), root, host)
    if host is not None and len(host) > LONGEST_CACHED_HOST:
        return _base_url.__wrapped__(*key)
    return _base_url(*key)


@lru_cache(maxsize=64)
def _base_url(scheme: str, server: tuple[str, int] | None, root: str, host: bytes | None) -> str:
    headers = [] if host is None else [(b"host", host)]
    scope = {"type": "http", "scheme": scheme, "server": server, "root_path": root,
             "path": root, "query_string": b"", "headers": headers}  # fmt: skip
    return str(Request(scope).base_url).rstrip("/")


def json_answer(content: object) -> Response:
    """A route's answer: ``content`` (plain JSON types) encoded as JSON."""
    return Response(orjson.dumps(content), media_type="application/json")


def id_list(name: str, text: str, most: int) -> list[str]:
    """``a,b,c`` as a list of 1 to ``most`` non-empty ids (400 otherwise)."""
    ids = [part.strip() for part in text.split(",")]
    if len(ids) > most:
        raise ApiError(400, f"{name}: {len(ids):,} ids given; at most {most} per request.")
    if not all(ids):
        raise ApiError(400, f"{name}={shown(text)}: an empty id; give ids separated by commas.")
    return ids


Ctx = Annotated[Context, Depends(context)]
"""A route's parameter for its `Context`."""
NoQuery = query_of(NoParameters)
"""The query of a route that takes no parameters."""
TrackId = Annotated[str, Path(max_length=200, description="A track id of the catalog.")]
