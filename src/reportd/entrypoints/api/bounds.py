"""The bounds of ``reportd.domain.bounds`` at the HTTP edge, before any route parses anything.

Why a pure ASGI middleware, outermost: a body nested 300 levels, not UTF-8 or carrying a
5,000-digit number breaks the parsers themselves (FastAPI's, the idempotency fingerprint's),
so it must be refused before either runs, on every route of every door alike. The refusal is
rendered by ``errors.render``, so under a dialect's prefix it is in that dialect's body.
Values inside a well-formed body (options, filters, search patterns) are bounded by the use
cases, where every door's request passes; this module only guards the bytes.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from reportd.domain import bounds
from reportd.domain.errors import PayloadTooLarge, ReportdError
from reportd.entrypoints.api.asgi_body import read_body, replaying
from reportd.entrypoints.api.errors import render

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BoundsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            receive = await _checked(scope, receive)
        except ReportdError as exc:
            await render(Request(scope), exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _checked(scope: Scope, receive: Receive) -> Receive:
    """``receive`` for the app once headers and body are within bounds; else the error."""
    for name, value in scope.get("headers", ()):
        bounds.check_header(name.decode("latin-1"), value)
    _check_target(scope)
    if scope["method"] not in BODY_METHODS:
        return receive
    headers = Headers(scope=scope)
    declared = headers.get("content-length", "")
    if declared.isdigit() and len(declared) < 20 and int(declared) > bounds.MAX_BODY_BYTES:
        raise _too_large()
    body = await read_body(receive, limit=bounds.MAX_BODY_BYTES)
    if body is None:
        raise _too_large()
    if _is_json(headers.get("content-type")):
        bounds.check_json_bytes(body)
    return replaying(body, receive)


def _check_target(scope: Scope) -> None:
    """The path and the query, percent-decoded, are UTF-8 without a NUL: each becomes an id or
    a value in SQL (a NUL in ``/v1/reports/a%00`` was a 500 on PostgreSQL)."""
    path: str = scope.get("path", "")
    bounds.check_encoding(path.encode("utf-8", "surrogateescape"), what="path")
    query: bytes = scope.get("query_string", b"")
    if query:
        bounds.check_encoding(unquote_to_bytes(query.replace(b"+", b" ")), what="query")


def _is_json(content_type: str | None) -> bool:
    """What FastAPI would parse as JSON: no content type, or any ``*json`` one."""
    if content_type is None:
        return True
    return "json" in content_type.split(";", 1)[0].lower()


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the body is larger than {bounds.MAX_BODY_BYTES} bytes",
        details={"limit": "body_bytes", "max": bounds.MAX_BODY_BYTES},
    )
