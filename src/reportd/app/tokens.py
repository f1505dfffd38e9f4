"""Access and refresh tokens: signed JWTs (PyJWT, HS256) checked against their holder's row.

Why JWTs that are still looked up: the signature and ``exp`` refuse a forged or expired token
without the database, and the one primary-key read of the holder's row (client or user) on
every use makes revocation take effect at once, in every process: revoking bumps the row's
``version``, which the token carries as ``ver``. The signing key is derived from the server
secret (``[server] secret``) so every process of one deployment verifies every token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

import jwt

from reportd.domain.credentials import Holder, TokenClaims

__all__ = ["ISSUER", "TokenSigner", "looks_like_token"]

ISSUER: Final = "reportd"
_ALGORITHM: Final = "HS256"
_KEY_LABEL: Final = b"reportd oauth tokens v1"


def looks_like_token(secret: str) -> bool:
    """A JWT is three base64url parts; reportd's API keys (``rk_...``) have no dots."""
    return secret.count(".") == 2 and secret.startswith("eyJ")


class TokenSigner:
    def __init__(self, server_secret: str) -> None:
        self._key = hmac.new(server_secret.encode(), _KEY_LABEL, hashlib.sha256).digest()

    def issue(
        self,
        *,
        holder: Holder,
        subject: str,
        tenant_id: str,
        scopes: Iterable[str],
        version: int,
        ttl: int,
        refresh: bool = False,
        now: datetime | None = None,
    ) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "hld": holder.value,
            "tid": tenant_id,
            "scope": " ".join(sorted(scopes)),
            "ver": version,
            "typ": "refresh" if refresh else "access",
            "iat": int(issued.timestamp()),
            "exp": int((issued + timedelta(seconds=ttl)).timestamp()),
            "jti": secrets.token_urlsafe(12),
        }
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def verify(self, token: str) -> TokenClaims | None:
        """The claims of a well-signed, unexpired reportd token, else None."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss", "ver", "tid", "hld", "typ"]},
            )
            return TokenClaims(
                holder=Holder(claims["hld"]),
                subject=str(claims["sub"]),
                tenant_id=str(claims["tid"]),
                scopes=frozenset(str(claims.get("scope", "")).split()),
                version=int(claims["ver"]),
                refresh=claims["typ"] == "refresh",
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError):
            return None
