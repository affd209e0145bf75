"""The HTTP API's application: `create_app` over an atlas folder.

Routes: the Spotify-compatible ``/v1`` (`soundatlas.api.spotify`) and SoundAtlas's own
``/soundatlas/v1`` (`soundatlas.api.native`); ``/openapi.json`` and ``/docs``. Every request
first passes `soundatlas.api.guard.Guard` (readable request, bearer token, rate limit); every
error is answered in Spotify's shape (`soundatlas.api.errors`).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from soundatlas.api import native, spotify
from soundatlas.api.context import declare_queries
from soundatlas.api.errors import install_error_handlers
from soundatlas.api.guard import Guard, RateLimit, TokenBuckets
from soundatlas.api.holder import AtlasHolder


def create_app(
    atlas_path: str | Path,
    *,
    tokens: tuple[str, ...] = (),
    rate_limit: RateLimit | None = None,
    poll: float = 1.0,
) -> FastAPI:
    """The API over the atlas folder ``atlas_path``.

    Parameters
    ----------
    atlas_path
        A saved atlas folder; loaded now (errors surface before the server starts) and again
        whenever it is rebuilt in place (checked every ``poll`` seconds; 0: never).
    tokens
        Bearer tokens accepted; none: no authentication.
    rate_limit
        Requests a second per token (default `RateLimit`), counted across the workers forked
        from this process; ``RateLimit(rate=0)`` disables it.

    Raises
    ------
    AtlasError
        If the folder is not a loadable atlas.
    """
    holder = AtlasHolder(atlas_path, poll=poll)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        holder.start()
        try:
            yield
        finally:
            holder.stop()

    app = FastAPI(
        title="SoundAtlas API",
        version="1",
        summary="Spotify-compatible recommendations over your own catalog.",
        lifespan=lifespan,
    )
    app.state.holder = holder
    install_error_handlers(app)
    for router in (spotify.router, native.router):
        declare_queries(router)
        app.include_router(router)
    # Made here, before workers are forked, so that they share the buckets (the middleware
    # itself is built in each worker, on its first request).
    keys = tuple(t.encode() for t in tokens)
    limit = rate_limit or RateLimit()
    buckets = TokenBuckets(keys, limit) if keys and limit.rate > 0 else None
    app.add_middleware(Guard, tokens=keys, buckets=buckets)
    return app
