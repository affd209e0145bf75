"""The server's HTTP protocol (httptools) answers what it cannot parse in Spotify's error shape:
a request target over 64 kB, raw bytes above 127, a head over 1 MiB; and passes every other
request to the app as uvicorn's own protocol does."""

from __future__ import annotations

import asyncio
import gc
import json

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
from uvicorn.server import ServerState

from soundatlas.api.protocol import MAX_HEAD_BYTES, SpotifyShapedHttpTools


class Transport(asyncio.Transport):
    """Collects what the protocol writes."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.writes: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name, default=None):
        return default

    def write(self, data) -> None:
        self.written += bytes(data)
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        pass


async def answer(scope, receive, send) -> None:
    """An app answering ``{}``."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def exchange(*chunks: bytes, app=answer) -> tuple[Transport, list[dict]]:
    """``chunks`` sent to the protocol over one connection, ``app`` answering in between; the
    transport and the scopes the app saw."""
    seen: list[dict] = []

    async def watched(scope, receive, send) -> None:
        seen.append(scope)
        await app(scope, receive, send)

    async def run() -> Transport:
        config = Config(watched, lifespan="off", log_level="critical")
        protocol = SpotifyShapedHttpTools(config, ServerState(), {})
        transport = Transport()
        protocol.connection_made(transport)
        for data in chunks:
            protocol.data_received(data)
            for _ in range(5):
                await asyncio.sleep(0)
        closed = transport.closed  # by the protocol (connection_lost closes it anyway)
        protocol.connection_lost(None)
        transport.closed = closed
        return transport

    return asyncio.run(run()), seen


def request(target: bytes, headers: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"


def refusal(transport: Transport) -> str:
    head, _, body = transport.written.rpartition(b"\r\n\r\n")
    assert b"HTTP/1.1 400 Bad Request\r\n" in head
    assert b"content-type: application/json" in head and transport.closed
    error = json.loads(body)["error"]
    assert error["status"] == 400
    return error["message"]


def test_a_query_string_too_long_to_parse_gets_the_guards_message() -> None:
    transport, seen = exchange(request(b"/v1/search?type=track&q=" + b"a" * 100_000))
    assert not seen
    assert refusal(transport).startswith("query string of 100,013 bytes: at most 16,384")


def test_a_path_too_long_to_parse() -> None:
    transport, seen = exchange(request(b"/" + b"a" * 70_000))
    assert not seen and refusal(transport).startswith("request target of 70,001 bytes")


@pytest.mark.parametrize("target", [b"/v1/search?q=\xff\xfe", b"/v1/search?q=caf\xc3\xa9"])
def test_raw_bytes_above_127(target) -> None:
    transport, seen = exchange(request(target))
    assert not seen and "percent-encoded" in refusal(transport)


def test_a_head_over_the_limit_after_a_good_request() -> None:
    big = b"x-big: " + b"b" * MAX_HEAD_BYTES + b"\r\n"
    transport, seen = exchange(request(b"/v1/tracks/a"), request(b"/v1/tracks/b", big))
    assert [s["path"] for s in seen] == ["/v1/tracks/a"]
    assert transport.written.startswith(b"HTTP/1.1 200 OK")
    assert refusal(transport).startswith("request head (request line and headers) over")


def test_ordinary_requests_reach_the_app() -> None:
    transport, seen = exchange(request(b"/v1/search?q=caf%C3%A9&type=track"))
    assert transport.written.startswith(b"HTTP/1.1 200 OK") and not transport.closed
    assert seen[0]["path"] == "/v1/search"
    assert seen[0]["query_string"] == b"q=caf%C3%A9&type=track"


def test_a_response_goes_out_in_one_write_each() -> None:
    async def sized(scope, receive, send) -> None:
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    twice = request(b"/v1/tracks/a") + request(b"/v1/tracks/b")
    transport, seen = exchange(twice, app=sized)
    assert len(seen) == 2 and len(transport.writes) == 2
    for written in transport.writes:
        head, _, body = written.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 2" in head
        assert body == b"{}"


def test_a_streamed_response_keeps_its_parts_in_order() -> None:
    async def streamed(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"[1,", b"2]"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    transport, _ = exchange(request(b"/v1/tracks/a"), app=streamed)
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK")
    assert transport.writes[0].endswith(b"transfer-encoding: chunked\r\n\r\n3\r\n[1,\r\n")
    assert transport.writes[1:] == [b"2\r\n2]\r\n", b"0\r\n\r\n"]


def test_the_head_of_a_head_request_is_written_at_once() -> None:
    transport, _ = exchange(request(b"/v1/tracks/a").replace(b"GET", b"HEAD", 1))
    assert len(transport.writes) == 1 and transport.written.endswith(b"\r\n\r\n")
    assert transport.written.startswith(b"HTTP/1.1 200 OK") and not transport.closed


def test_100_continue_is_written_before_the_answer() -> None:
    async def reading(scope, receive, send) -> None:
        await receive()
        await answer(scope, receive, send)

    body = b"POST /soundatlas/v1/assign HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
    transport, _ = exchange(body + b"Content-Length: 2\r\n\r\n", b"{}", app=reading)
    assert transport.writes[0] == b"HTTP/1.1 100 Continue\r\n\r\n"
    head, _, body = transport.writes[1].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and body == b"2\r\n{}\r\n0\r\n\r\n"


def test_an_app_failing_after_its_head_still_sends_the_head_then_closes() -> None:
    async def failing(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("broken after the head")

    transport, _ = exchange(request(b"/v1/tracks/a"), app=failing)
    assert transport.written.startswith(b"HTTP/1.1 200 OK") and transport.closed


def test_a_request_leaves_no_reference_cycle() -> None:
    """The head holder knows its cycle only weakly: a request's objects are freed when it ends,
    not left to the garbage collector."""
    gc.collect()
    gc.disable()
    try:
        exchange(request(b"/v1/tracks/a"), request(b"/v1/tracks/b"))
        assert not [o for o in gc.get_objects() if isinstance(o, RequestResponseCycle)]
    finally:
        gc.enable()
