"""The one place where domain errors become the native error body.

``{"error": {"code": ..., "message": ..., "details": ...}}`` with the error's status.
Dialects install their own handlers for their own routes (see ``dialects/``); every renderer,
native or dialect, takes its headers from ``error_headers`` (when to retry, how to authenticate).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportd.domain.errors import MethodNotAllowed, ReportdError, RouteNotFound
from reportd.entrypoints.api.problems import error_headers, error_response

log = logging.getLogger("reportd.entrypoints.api")


def render(request: Request, exc: ReportdError) -> Response:
    """The body of ``exc`` in the shape of whoever owns the request's path: the dialect whose
    route ran (``request.state.error_handler``) or whose prefix the path is under, else native.
    """
    response = _dialect_response(request, exc)
    if response is None:
        return error_response(exc)
    # Whatever the body, a client told to wait is told how long (RFC 9110 Retry-After).
    for name, value in error_headers(exc, response.status_code).items():
        response.headers.setdefault(name, value)
    return response


def _dialect_response(request: Request, exc: ReportdError) -> Response | None:
    handler = getattr(request.state, "error_handler", None)
    if handler is not None:
        return handler(exc)  # type: ignore[no-any-return]
    # (pattern, renderer) pairs the dialects registered (``dialects.routing.register_prefixes``);
    # read here without importing the dialects, which import this module's neighbours. A
    # middleware wrapped around a bare ASGI app has no ``app`` in its scope: native then.
    app = request.scope.get("app")
    prefixes = getattr(getattr(app, "state", None), "dialect_prefixes", None) or ()
    for pattern, render_error in prefixes:
        if pattern.match(request.url.path):
            return render_error(request, exc)  # type: ignore[no-any-return]
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
