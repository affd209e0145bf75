"""The server's HTTP/1.1 protocol: uvicorn's httptools protocol (llhttp, in C), refusing what
it cannot parse in Spotify's error shape instead of plain text.

httptools costs a request about 0.1 ms less server CPU than h11 (pure Python; measured with
``benchmarks/api_stack.py``: a bare ASGI answer 0.11 against 0.04 ms), but uvicorn's
protocol over it answers with a plain-text 400 whatever it cannot parse, and cannot parse a
request target over 64 kB (httptools' URL parser counts in 16 bits), where a query string of
100 kB must get the guard's Spotify-shaped 400 naming its size. This protocol:

- refuses a request target over 64 kB, or not ASCII (bytes above 127 that a client did not
  percent-encode), with the guard's own message where the guard has one
  (`soundatlas.api.guard.unreadable`);
- caps a request's head (target and headers) at `MAX_HEAD_BYTES`, as h11 was, rather than
  letting a client grow it without end;
- answers every refusal as ``{"error": {"status": 400, "message": …}}`` and closes the
  connection, as uvicorn does;
- writes a response's head (status line and headers) together with its body, in one write
  (`HeadWithBody`), where uvicorn writes them one after the other: one system call and one
  TCP segment a response instead of two (with ``TCP_NODELAY`` each write leaves at once, so
  the client was also woken twice).
"""

from __future__ import annotations

import weakref
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from soundatlas.api.errors import error_body
from soundatlas.api.guard import MAX_QUERY_BYTES, unreadable

MAX_HEAD_BYTES = 1 << 20
"""Largest request head (target and headers): 10,000 ids of 22 characters take 230 kB, which
reach the guard and get its 400 naming the query string's size."""
MAX_TARGET_BYTES = 65_535
"""httptools' URL parser counts offsets in 16 bits."""


class Refused(Exception):
    """A request this protocol answers with a 400 itself."""


class SpotifyShapedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with every refusal in Spotify's shape (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._refusal: str | None = None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        target = self.url
        if len(target) > MAX_TARGET_BYTES or not target.isascii():
            path, _, query = target.partition(b"?")
            problem = unreadable(query, path) or (
                f"request target of {len(target):,} bytes: at most {MAX_TARGET_BYTES:,}; ask "
                "for fewer ids per request."
                if target.isascii()
                else f"request target: byte {_first_non_ascii(target)} is above 127; "
                "percent-encode it (%XX), as HTTP clients do."
            )
            self._refuse(problem)
        cycle = self.cycle
        super().on_headers_complete()
        if self.cycle is not cycle:  # a request to answer (not a protocol upgrade)
            self.cycle.transport = HeadWithBody(self.transport, self.cycle)

    def send_400_response(self, msg: str) -> None:
        message, self._refusal = self._refusal or _plain(msg), None
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        body = error_body(400, message)
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(
                f"request head (request line and headers) over {MAX_HEAD_BYTES:,} bytes; send "
                f"shorter headers and at most {MAX_QUERY_BYTES:,} bytes of query string."
            )

    def _refuse(self, message: str) -> None:
        """Stop parsing this request: httptools raises the exception again as a parser error,
        which uvicorn answers with `send_400_response` and closes the connection."""
        self._refusal = message
        raise Refused(message)


class HeadWithBody:
    """The transport as one request's `RequestResponseCycle` sees it: writes go to the
    connection, except the response's head, which waits for the first part of the body and
    goes out with it in one write.

    uvicorn's cycle writes the head as soon as the app sends ``http.response.start``, then the
    body on ``http.response.body``: two system calls and, with ``TCP_NODELAY``, two segments
    for every answer. The head is the cycle's first write once its response has started (a
    ``100 Continue`` is written before that and passes at once). Every response but one to
    ``HEAD`` writes its body, even an empty one; a ``HEAD`` response writes none, so its head
    is not held. A head still held when the cycle closes the connection (an app that failed
    after starting its response) is written first, as uvicorn would have. The cycle is known
    by a weak reference: the cycle holds this object, and a reference cycle would leave every
    request's objects to the garbage collector instead of freeing them when it ends.
    """

    __slots__ = ("_cycle", "_head", "_hold", "_transport", "_waiting")

    def __init__(self, transport: Any, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle = weakref.ref(cycle)
        self._hold = cycle.scope["method"] != "HEAD"
        self._waiting = True  # for the head
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._waiting and self._started():
            self._waiting = False
            if self._hold:
                self._head = data
                return
        elif self._head is not None:
            data, self._head = self._head + data, None
        self._transport.write(data)

    def _started(self) -> bool:
        cycle = self._cycle()
        return cycle is not None and cycle.response_started

    def close(self) -> None:
        if self._head is not None:
            self._transport.write(self._head)
            self._head = None
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()


def _first_non_ascii(data: bytes) -> int:
    return next(i for i, byte in enumerate(data) if byte > 127)


def _plain(message: str) -> str:
    """uvicorn's parser error message, as a sentence that says what to do."""
    return (
        f"{message.rstrip('.')}: the request line or a header is not valid HTTP/1.1 (a byte "
        "above 127 in the request line must be percent-encoded as %XX)."
    )
