"""Error answers without the app: the native body, and the headers every renderer sends.

Why a module of its own: the bodies differ by door, but when to retry (``Retry-After``) and how
to authenticate (``WWW-Authenticate``) do not; ``error_headers`` is written once here, for the
native renderer, each dialect's and OAuth's, and imports nothing that imports them.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from reportd.domain.errors import RateLimited, ReportdError, Unavailable

__all__ = ["UNAVAILABLE_RETRY_AFTER", "error_body", "error_headers", "error_response"]

UNAVAILABLE_RETRY_AFTER = 5  # seconds a client should wait while a dependency is away


def error_headers(
    exc: ReportdError, status: int | None = None, *, challenge: str = "Bearer"
) -> dict[str, str]:
    """The headers an error answer carries, whatever its body looks like.

    ``Retry-After`` when a retry can succeed later (a rate limit, a dependency away);
    ``WWW-Authenticate`` on a 401 (``status``: the one the renderer sends, if not the error's).
    """
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, Unavailable):
        headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    if (status or exc.status) == 401:
        headers["WWW-Authenticate"] = challenge
    return headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def error_response(exc: ReportdError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details),
        status_code=exc.status,
        headers=error_headers(exc),
    )
