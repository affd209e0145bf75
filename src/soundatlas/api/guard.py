"""What every request passes before a route sees it: a readable request line, the bearer
token, and the token's request rate.

- The query string is at most `MAX_QUERY_BYTES` and, like the path, valid UTF-8 once
  percent-decoded; otherwise 400 (frameworks would silently replace the bad bytes).
- With tokens, ``Authorization: Bearer TOKEN`` must name one of them (401 otherwise).
- Each token may send `RateLimit.rate` requests a second, in bursts of up to ``burst``
  (a token bucket per token); past that, 429 with ``Retry-After``. The buckets live in shared
  memory made with the app, before ``--workers`` are forked (`soundatlas.api.workers`), so a
  token gets its rate from all workers together, not once per worker.

It is plain ASGI so it costs one function call per request.
"""

from __future__ import annotations

import hmac
import math
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

from soundatlas.api.errors import error_response
from soundatlas.errors import ConfigError

MAX_QUERY_BYTES = 16_384
"""100 ids of 22 characters with encoded commas take about 2.5 kB."""


def read_tokens(path: str | Path) -> tuple[str, ...]:
    """The tokens of a token file: one per line; blank lines and ``#`` comments ignored.

    Raises
    ------
    ConfigError
        If the file cannot be read, holds no token, or a token has spaces or fewer than 16
        characters.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the token file ({exc}); give a UTF-8 text file."
        ) from None
    tokens = []
    for number, line in enumerate(lines, start=1):
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        if len(token) < 16 or any(ch.isspace() for ch in token):
            raise ConfigError(
                f"{path}, line {number}: a token must be at least 16 characters without "
                f"spaces (found {len(token)} characters); use e.g. `openssl rand -hex 24`."
            )
        tokens.append(token)
    if not tokens:
        raise ConfigError(f"{path}: holds no token; write one token per line.")
    return tuple(tokens)


@dataclass(frozen=True)
class RateLimit:
    """Requests a second each token may send on average, and the largest burst."""

    rate: float = 50.0
    burst: int = 100


class TokenBuckets:
    """One token bucket per token, in memory shared with every process forked after it is made.

    Each bucket is two doubles (level, time of the last update) in an anonymous shared mapping
    (`multiprocessing.RawArray`), updated under one process-shared lock: workers forked from
    the process that made it draw from the same buckets. ``time.monotonic`` is the system's
    monotonic clock, the same in every process. Only the tokens given have buckets (the guard
    refuses any other token before asking).
    """

    def __init__(self, tokens: tuple[bytes, ...], limit: RateLimit) -> None:
        self.limit = limit
        self._slot = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
        now = time.monotonic()
        self._state = multiprocessing.RawArray("d", [limit.burst, now] * len(self._slot))
        self._lock = multiprocessing.Lock()

    def wait(self, token: bytes) -> float:
        """0 if a request may go now (and count it), else the seconds until one may."""
        at = 2 * self._slot[token]
        rate, burst = self.limit.rate, float(self.limit.burst)
        state = self._state
        with self._lock:
            now = time.monotonic()
            level = min(burst, state[at] + max(0.0, now - state[at + 1]) * rate)
            state[at + 1] = now
            if level >= 1.0:
                state[at] = level - 1.0
                return 0.0
            state[at] = level
            return (1.0 - level) / rate


class Guard:
    """ASGI middleware: request hygiene, bearer tokens and the per-token rate limit."""

    def __init__(self, app, *, tokens: tuple[bytes, ...] = (), buckets: TokenBuckets | None):
        self.app = app
        self.tokens = tokens
        self.buckets = buckets

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = unreadable(scope.get("query_string", b""), scope.get("raw_path") or b"")
        if problem:
            await error_response(400, problem)(scope, receive, send)
            return
        if self.tokens:
            token = _bearer(scope)
            if token is None:
                await _unauthorised("no token provided: send Authorization: Bearer TOKEN.")(
                    scope, receive, send
                )
                return
            known = next((t for t in self.tokens if hmac.compare_digest(token, t)), None)
            if known is None:
                await _unauthorised("invalid access token.")(scope, receive, send)
                return
            if self.buckets is not None:
                wait = self.buckets.wait(known)
                if wait:
                    retry = str(max(1, math.ceil(wait)))
                    message = (
                        f"rate limit exceeded: at most {self.buckets.limit.rate:g} requests a "
                        f"second per token; retry after {retry} s."
                    )
                    await error_response(429, message, {"Retry-After": retry})(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def unreadable(query: bytes, path: bytes) -> str | None:
    """Why a request's raw query string and path cannot be read (too long, or not UTF-8 once
    percent-decoded), or None. Also asked by `soundatlas.api.protocol` for request targets
    too long to parse."""
    if len(query) > MAX_QUERY_BYTES:
        return (
            f"query string of {len(query):,} bytes: at most {MAX_QUERY_BYTES:,}; ask for fewer "
            "ids per request."
        )
    for what, raw in (("query string", query), ("path", path)):
        if raw.isascii() and b"%" not in raw:
            continue  # nothing percent-encoded, and ASCII is UTF-8: the common case
        try:
            unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError as exc:
            return (
                f"{what}: byte {exc.start} is not UTF-8 once percent-decoded; encode text as UTF-8."
            )
    return None


def _bearer(scope) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = value.partition(b" ")
            if kind.lower() == b"bearer" and token.strip():
                return token.strip()
    return None


def _unauthorised(message: str):
    return error_response(401, message, {"WWW-Authenticate": "Bearer"})
