"""API keys (and OAuth access tokens) from any of the four accepted headers, as a Principal.

API keys are resolved on the event loop by ``reportd.app.authentication.KeyAuthenticator``
(one statement, remembered until the store's auth version moves: a revocation in any process
takes effect in every process at once). Access tokens are checked on every use, in a thread,
through the tenants use case: revoking a client acts at once too.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from reportd.app.authentication import KeyAuthenticator
from reportd.app.tokens import looks_like_token
from reportd.bootstrap import App
from reportd.domain.models import Principal
from reportd.entrypoints.api.ratelimit import enforce


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


def core_of(request: Request) -> App:
    """The composed use cases of this API process (``reportd.bootstrap.App``)."""
    return request.app.state.core  # type: ignore[no-any-return]


async def authenticate(request: Request) -> Principal:
    """The caller of ``request`` as of now (``AuthenticationFailed`` otherwise).

    Also what a long-lived response (an SSE stream) calls again while it runs, so a key
    revoked after the stream opened ends it within seconds, not when the report ends.
    """
    secret = key_from_headers(request)
    keys: KeyAuthenticator | None = getattr(request.app.state, "keys", None)
    if keys is not None and not (secret and looks_like_token(secret)):
        return await keys.authenticate(secret)
    # an access token, or an app without async reads (an in-memory store)
    return await run_in_threadpool(core_of(request).tenants.authenticate, secret)


async def principal(request: Request) -> Principal:
    """FastAPI dependency: the authenticated caller (401 otherwise), within its rate limits.

    Limits are counted here, where the caller is known, so every authenticated route of every
    router is limited and nothing else is (signed links, health); GET counts as a read.
    """
    core = core_of(request)
    caller = await authenticate(request)
    if core.rate_limiter is not None:  # the counters live in the database
        await run_in_threadpool(enforce, request, core.rate_limiter, caller)
    return caller
