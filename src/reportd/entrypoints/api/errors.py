"""The one place where domain errors become the native error body.

``{"error": {"code": ..., "message": ..., "details": ...}}`` with the error's status.
Dialects install their own handlers for their own routes (see ``dialects/``).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportd.domain.errors import (
    MethodNotAllowed,
    RateLimited,
    ReportdError,
    RouteNotFound,
    Unavailable,
)

log = logging.getLogger("reportd.entrypoints.api")
UNAVAILABLE_RETRY_AFTER = 5  # seconds a client should wait while a dependency is away


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def error_response(exc: ReportdError) -> JSONResponse:
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, Unavailable):
        headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=headers
    )


def render(request: Request, exc: ReportdError) -> Response:
    """The body of ``exc`` in the shape of whoever owns the request's path: the dialect whose
    route ran (``request.state.error_handler``) or whose prefix the path is under, else native.
    """
    response = _dialect_response(request, exc)
    if response is None:
        return error_response(exc)
    # Whatever the body, a client told to wait is told how long (RFC 9110 Retry-After).
    if isinstance(exc, RateLimited):
        response.headers.setdefault("Retry-After", str(exc.retry_after))
    elif isinstance(exc, Unavailable):
        response.headers.setdefault("Retry-After", str(UNAVAILABLE_RETRY_AFTER))
    return response


def _dialect_response(request: Request, exc: ReportdError) -> Response | None:
    handler = getattr(request.state, "error_handler", None)
    if handler is not None:
        return handler(exc)  # type: ignore[no-any-return]
    table = getattr(request.app.state, "dialect_prefixes", None)
    if table:
        from reportd.entrypoints.api.dialects.routing import renderer_for

        found = renderer_for(table, request.url.path)
        if found is not None:
            return found(request, exc)
    return None


def _http_error(exc: StarletteHTTPException) -> ReportdError:
    if exc.status_code == 404:
        return RouteNotFound()
    if exc.status_code == 405:
        return MethodNotAllowed()
    error = ReportdError(str(exc.detail))
    error.status = exc.status_code  # type: ignore[misc]  # an HTTP status nothing else names
    error.code = "http_error"  # type: ignore[misc]
    return error


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReportdError)
    async def _reportd(request: Request, exc: ReportdError) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return render(request, _validation(f"{where}: {first['message']}", details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        response = render(request, _http_error(exc))
        for name, value in (exc.headers or {}).items():  # e.g. 405's Allow
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"action": "crash", "path": request.url.path})
        return render(request, ReportdError("Internal server error."))


def _validation(message: str, details: Any) -> ReportdError:
    from reportd.domain.errors import ValidationError

    return ValidationError(message, details=details)
