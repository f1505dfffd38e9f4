"""API keys (and OAuth access tokens) from any of the four accepted headers, as a Principal.

A resolved key is remembered by this API process for ``PRINCIPAL_TTL`` seconds (by its hash),
so a request does not pay a database round trip and a thread hop to authenticate. The cost:
a key revoked (or a tenant's features changed) by another process keeps working here for at
most that long. Unknown keys are never remembered, so a new key works at once. Access tokens
are never remembered: each use reads its holder's row, so revoking a client acts at once.
"""

from __future__ import annotations

import time

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from reportd.app.service import ReportService, hash_key
from reportd.app.tokens import looks_like_token
from reportd.domain.models import Principal
from reportd.entrypoints.api.ratelimit import enforce

PRINCIPAL_TTL = 5.0  # seconds; see the module docstring
PRINCIPAL_CACHE_SIZE = 10_000  # keys remembered at most; past it the cache starts afresh


def key_from_headers(request: Request) -> str | None:
    """``X-DC-DEVKEY: KEY``, ``Authorization: Bearer|Token KEY`` or ``X-API-Key: KEY``.

    ``X-DC-DEVKEY`` comes first: DigiCert's clients send it, and whatever else they send
    (an ``Authorization`` header a proxy or a library adds) must not hide it.
    The value may be an API key or an access token (``reportd.app.oauth``).
    """
    devkey = request.headers.get("x-dc-devkey")
    if devkey:
        return devkey
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in ("bearer", "token") and value.strip():
            return value.strip()
        return None
    return request.headers.get("x-api-key") or None


def service_of(request: Request) -> ReportService:
    return request.app.state.service  # type: ignore[no-any-return]


class PrincipalCache:
    """Key hash -> (Principal, monotonic expiry), for ``PRINCIPAL_TTL`` seconds."""

    def __init__(self, ttl: float = PRINCIPAL_TTL, size: int = PRINCIPAL_CACHE_SIZE) -> None:
        self.ttl = ttl
        self.size = size
        self._known: dict[str, tuple[Principal, float]] = {}

    def get(self, key_hash: str) -> Principal | None:
        found = self._known.get(key_hash)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def put(self, key_hash: str, caller: Principal) -> None:
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[key_hash] = (caller, time.monotonic() + self.ttl)


def _principal_cache(request: Request) -> PrincipalCache:
    state = request.app.state
    cache: PrincipalCache | None = getattr(state, "principal_cache", None)
    if cache is None:
        cache = state.principal_cache = PrincipalCache()
    return cache


async def principal(request: Request) -> Principal:
    """FastAPI dependency: the authenticated caller (401 otherwise), within its rate limits.

    Limits are counted here, where the caller is known, so every authenticated route of every
    router is limited and nothing else is (signed links, health); GET counts as a read.
    """
    service = service_of(request)
    secret = key_from_headers(request)
    cache = _principal_cache(request)
    key_hash = hash_key(secret) if secret else ""
    token = bool(secret) and looks_like_token(secret or "")
    caller = cache.get(key_hash) if secret and not token else None
    if caller is None:
        caller = await run_in_threadpool(service.authenticate, secret)
        if not token:  # a token is checked on every use: its revocation takes effect at once
            cache.put(key_hash, caller)
    if service.rate_limiter is not None:  # the counters live in the database
        await run_in_threadpool(enforce, request, service.rate_limiter, caller)
    return caller
