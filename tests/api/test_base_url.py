"""`context.base_url` (kept per scheme, server, root path and Host header) is what Starlette's
``request.base_url`` gives for every request, whatever was asked before it."""

from __future__ import annotations

import itertools

import pytest
from starlette.requests import Request

from soundatlas.api.context import LONGEST_CACHED_HOST, base_url

SCHEMES = ("http", "https")
SERVERS = (("127.0.0.1", 8000), ("::1", 443), ("host", 80), ["testserver", 80], None)
ROOTS = ("", "/api", "/api/")
HOSTS = (None, b"example.com", b"example.com:8080", b"[::1]:99", b"bad host", b"x:port", b"")


def scope_of(scheme, server, root, host) -> dict:
    headers = [(b"accept", b"*/*")]
    if host is not None:
        headers += [(b"host", host), (b"host", b"second.example")]  # the first one counts
    return {"type": "http", "scheme": scheme, "server": server, "root_path": root,
            "path": f"{root}/v1/search", "query_string": b"q=a", "headers": headers}  # fmt: skip


def starlettes(scope: dict) -> str:
    return str(Request(scope).base_url).rstrip("/")


def test_every_combination_in_turn_twice() -> None:
    combinations = list(itertools.product(SCHEMES, SERVERS, ROOTS, HOSTS))
    for scheme, server, root, host in combinations * 2:  # the second round from the cache
        scope = scope_of(scheme, server, root, host)
        assert base_url(scope) == starlettes(scope), scope


@pytest.mark.parametrize("length", [LONGEST_CACHED_HOST, LONGEST_CACHED_HOST + 1, 100_000])
def test_long_host_headers(length: int) -> None:
    host = b"h" * (length - 5) + b":8080"
    scope = scope_of("http", ("127.0.0.1", 8000), "", host)
    assert base_url(scope) == starlettes(scope)
