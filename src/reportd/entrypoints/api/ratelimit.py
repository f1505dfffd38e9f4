"""Rate limits at the HTTP edge: counted where the caller is resolved, told in headers.

``enforce`` runs inside the ``principal`` dependency, so exactly the authenticated routes
are limited (signed file links, health and metrics are not) and a dialect's own error
handler renders the 429. The ``RateLimit-*`` fields it leaves in the request state are
added to whatever answer goes out, success or error, by ``RateLimitHeadersMiddleware``:
neither every route nor the error handlers need to know about them.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reportd.app.ratelimits import Category, RateLimiter
from reportd.domain.models import Principal

STATE_KEY = "ratelimit_headers"


def enforce(request: Request, limiter: RateLimiter | None, caller: Principal) -> None:
    """Count this request against the caller's limits; RateLimited (429) when over."""
    if limiter is None:
        return
    category = Category.of_method(request.method)
    decision = limiter.check(caller.tenant_id, caller.key_id, category, time.time())
    if decision is None:
        return
    setattr(request.state, STATE_KEY, decision.headers())
    if not decision.allowed:
        raise decision.error()


class RateLimitHeadersMiddleware:
    """Adds the ``RateLimit-*`` fields ``enforce`` computed to the response it belongs to."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                fields = scope.get("state", {}).get(STATE_KEY)
                if fields:
                    extra = [(k.lower().encode(), v.encode()) for k, v in fields.items()]
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
