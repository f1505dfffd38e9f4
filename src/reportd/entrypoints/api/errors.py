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

from reportd.domain.errors import RateLimited, ReportdError, Unavailable

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


_HTTP_CODES = {
    404: ("not_found", "No such route."),
    405: ("method_not_allowed", "Method not allowed on this route."),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReportdError)
    async def _reportd(request: Request, exc: ReportdError) -> Response:
        handler = getattr(request.state, "error_handler", None)
        if handler is not None:
            return handler(exc)  # type: ignore[no-any-return]
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        error = _validation(f"{where}: {first['message']}", details)
        handler = getattr(request.state, "error_handler", None)
        if handler is not None:
            return handler(error)  # type: ignore[no-any-return]
        return error_response(error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"action": "crash", "path": request.url.path})
        return JSONResponse(error_body("internal_error", "Internal server error."), status_code=500)


def _validation(message: str, details: Any) -> ReportdError:
    from reportd.domain.errors import ValidationError

    return ValidationError(message, details=details)
