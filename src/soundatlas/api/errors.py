"""Every error of the HTTP API in Spotify's shape: ``{"error": {"status": 400, "message": …}}``.

Library errors keep their words; only the status is chosen here: a lookup that found nothing is
404, any other `SoundAtlasError` a bad request (400). A request FastAPI cannot parse (a missing
or malformed parameter, an unknown parameter) is 400 with the parameter, the rule and the value
found. An unexpected exception is 500 with one sentence and never a traceback.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from soundatlas.errors import LookupFailed, SoundAtlasError

log = logging.getLogger("soundatlas.api")
SHOWN_VALUE = 60
"""Longest part of a bad value quoted back in a message."""


class ErrorDetail(BaseModel):
    status: int
    message: str


class ErrorBody(BaseModel):
    """Spotify's error object."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "A parameter is missing, malformed, out of range or unknown."),
        (401, "The bearer token is missing or wrong (only when the server has tokens)."),
        (404, "No song, artist, genre or cluster of the atlas has this id."),
        (429, "Too many requests for this token; retry after Retry-After seconds."),
    )
}
"""The error statuses every route may answer, for the OpenAPI schema."""


class ApiError(Exception):
    """An error the API answers with a status of its own choosing (not from the library)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def error_body(status: int, message: str) -> bytes:
    """An error's JSON."""
    return orjson.dumps({"error": {"status": status, "message": message}})


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The JSON response of an error."""
    return Response(
        error_body(status, message),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def shown(value: object) -> str:
    """A value quoted in a message, cut to a readable length."""
    text = str(value)
    return repr(text if len(text) <= SHOWN_VALUE else text[:SHOWN_VALUE] + "…")


def validation_message(exc: RequestValidationError) -> str:
    """One sentence per broken rule: the parameter, FastAPI's rule and the value found."""
    parts = []
    for problem in exc.errors()[:3]:
        where = [str(p) for p in problem.get("loc", ()) if p not in ("query", "path", "body")]
        name = ".".join(where) or "request"
        if problem.get("type") == "extra_forbidden":
            parts.append(f"{name}: is not a parameter of this endpoint; remove it")
            continue
        found = f" (got {shown(problem['input'])})" if "input" in problem else ""
        parts.append(f"{name}: {problem.get('msg', 'invalid')}{found}")
    return "; ".join(parts) + "."


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in Spotify's shape."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError):
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(LookupFailed)
    async def _lookup(request: Request, exc: LookupFailed):
        return error_response(404, str(exc))

    @app.exception_handler(SoundAtlasError)
    async def _library(request: Request, exc: SoundAtlasError):
        return error_response(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return error_response(400, validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            message = f"no endpoint at {shown(request.url.path)}; see /docs for the endpoints."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {shown(request.url.path)}; use GET."
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return error_response(500, "internal error: the server's log has the details.")
