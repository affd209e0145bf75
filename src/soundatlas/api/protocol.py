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
  connection, as uvicorn does.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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
        super().on_headers_complete()

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


def _first_non_ascii(data: bytes) -> int:
    return next(i for i, byte in enumerate(data) if byte > 127)


def _plain(message: str) -> str:
    """uvicorn's parser error message, as a sentence that says what to do."""
    return (
        f"{message.rstrip('.')}: the request line or a header is not valid HTTP/1.1 (a byte "
        "above 127 in the request line must be percent-encoded as %XX)."
    )
