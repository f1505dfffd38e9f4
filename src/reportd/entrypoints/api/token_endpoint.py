"""RFC 6749 token endpoints on the wire: the form in, the token or the RFC's error body out.

Every door that hands out tokens (``/oauth/token``, getbill's ``/token``, PingOne's
``/{envID}/as/token``) is this one function over ``reportd.app.oauth``; each names only what
its vendor documents (a tenant in the path, refresh tokens). The form is parsed here, not by
FastAPI's ``Form``, so reportd needs no multipart parser and can refuse a repeated parameter
as RFC 6749 section 3.2 asks.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final
from urllib.parse import parse_qsl, unquote_plus

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from reportd.domain.errors import OAuthError, ReportdError
from reportd.entrypoints.api.auth import core_of
from reportd.entrypoints.api.problems import error_headers

__all__ = [
    "basic_credentials",
    "oauth_error_response",
    "read_form",
    "render_oauth_error",
    "serve_token",
]

FORM: Final = "application/x-www-form-urlencoded"
MAX_FORM: Final = 16_384  # bytes; a token request is a few hundred
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def read_form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise OAuthError("invalid_request", f"the request body must be {FORM}")
    body = await request.body()
    if len(body) > MAX_FORM:
        raise OAuthError("invalid_request", "the request body is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", "the request body is not a valid form") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"{name} is given more than once")
        form[name] = value
    return form


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """HTTP Basic client credentials, each part form-decoded (RFC 6749 section 2.3.1)."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401) from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401)
    return unquote_plus(client_id), unquote_plus(secret)


def oauth_error_response(exc: OAuthError) -> JSONResponse:
    headers = {**_NO_STORE, **error_headers(exc, challenge='Basic realm="reportd"')}
    body = {"error": exc.error, "error_description": exc.message}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def render_oauth_error(request: Request, exc: ReportdError) -> JSONResponse:
    """Any error on a token endpoint's path in the RFC's shape: what the app refuses before
    the endpoint runs (a body beyond ``domain.bounds``, a wrong method) included."""
    if isinstance(exc, OAuthError):
        return oauth_error_response(exc)
    if exc.status >= 500:
        return _other_error(exc)
    return oauth_error_response(OAuthError("invalid_request", exc.message, status=exc.status))


def _other_error(exc: ReportdError) -> JSONResponse:
    """A failure that is not the request's fault, still in the RFC's shape."""
    error = "temporarily_unavailable" if exc.status == 503 else "server_error"
    headers = {**_NO_STORE, **error_headers(exc)}
    body = {"error": error, "error_description": exc.message}
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def serve_token(
    request: Request, *, tenant_id: str | None = None, with_refresh: bool = False
) -> Response:
    oauth = core_of(request).oauth
    if oauth is None:
        return oauth_error_response(OAuthError("unsupported_grant_type", "OAuth is off"))
    try:
        form = await read_form(request)
        basic = basic_credentials(request)
        grant = await run_in_threadpool(
            oauth.grant, form, basic, tenant_id=tenant_id, with_refresh=with_refresh
        )
    except OAuthError as exc:
        return oauth_error_response(exc)
    except ReportdError as exc:
        return _other_error(exc)
    body: dict[str, str | int] = {
        "access_token": grant.access_token,
        "token_type": grant.token_type,
        "expires_in": grant.expires_in,
        "scope": grant.scope,
    }
    if grant.refresh_token is not None:
        body["refresh_token"] = grant.refresh_token
    return JSONResponse(body, headers=_NO_STORE)
