"""``soundatlas serve`` in a child process on a free loopback port, and the checks every API
error must pass."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time

import httpx
from cliprocess import CLI

TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``soundatlas serve`` in a child process."""

    def __init__(self, *args: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*CLI, "serve", *map(str, args), "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, timeout: float = 90, headers: dict | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.process.communicate()}")
            try:
                httpx.get(f"{self.url}/openapi.json", headers=headers, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("server did not start in time")

    def stop(self) -> None:
        """SIGTERM first, so that the server stops its forked workers (a SIGKILL would leave
        them holding the output pipes, and `communicate` would wait for ever); SIGKILL only
        if it has not exited within 20 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.communicate(timeout=20)
                return
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.communicate()


def error_of(response) -> dict:
    """The Spotify error object of a response, checked for shape."""
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message"}
    assert body["error"]["status"] == response.status_code
    assert "Traceback" not in response.text
    return body["error"]


def asgi_get(app, path: bytes, query: bytes = b"") -> tuple[int, bytes]:
    """A GET sent straight to an ASGI app, bytes as given (HTTP clients refuse URLs over
    64 kB, and re-encode bytes that are not UTF-8)."""
    from urllib.parse import unquote_to_bytes

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote_to_bytes(path).decode("utf-8", "replace"),
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body
