"""API keys from any of the four accepted headers, resolved to a Principal."""

from __future__ import annotations

from fastapi import Request

from reportd.api.ratelimit import enforce
from reportd.domain.models import Principal
from reportd.service import ReportService


def key_from_headers(request: Request) -> str | None:
    """``Authorization: Bearer|Token KEY``, ``X-API-Key: KEY`` or ``X-DC-DEVKEY: KEY``."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in ("bearer", "token") and value.strip():
            return value.strip()
        return None
    return request.headers.get("x-api-key") or request.headers.get("x-dc-devkey") or None


def service_of(request: Request) -> ReportService:
    return request.app.state.service  # type: ignore[no-any-return]


def principal(request: Request) -> Principal:
    """FastAPI dependency: the authenticated caller (401 otherwise), within its rate limits.

    Limits are counted here, where the caller is known, so every authenticated route of every
    router is limited and nothing else is (signed links, health); GET counts as a read.
    """
    service = service_of(request)
    caller = service.authenticate(key_from_headers(request))
    enforce(request, service.rate_limiter, caller)
    return caller
