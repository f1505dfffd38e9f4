"""Expiring download links signed with HMAC-SHA256, so a link needs no other credential.

The signed message is ``f"{path}\\n{expires}"``: ``path`` is whatever identifies the content
(the HTTP layer passes the request path plus any query parameter that selects the file, such
as ``format``), ``expires`` a Unix time in whole seconds. The signature is checked before the
expiry, so a link whose ``expires`` was edited is ``invalid_signature``, never
``link_expired``: an expired answer would confirm the rest of the link was genuine.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from reportd.domain.errors import InvalidSignature, LinkExpired

__all__ = ["LinkSigner"]

_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_EXPIRES = re.compile(r"[0-9]{1,15}")


class LinkSigner:
    """Signs and verifies link paths with one server secret."""

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if not key:
            raise ValueError("the link signing secret must not be empty")
        self._key = key

    def sign(self, path: str, expires: int) -> str:
        """Hex HMAC-SHA256 of ``path`` and ``expires`` (Unix seconds)."""
        return self._digest(path, str(int(expires)))

    def signed_query(self, path: str, expires_at: int) -> dict[str, str]:
        """The query parameters to append to ``path`` to make it a signed link."""
        expires = str(int(expires_at))
        return {"expires": expires, "signature": self._digest(path, expires)}

    def verify(
        self,
        path: str,
        expires: str | None,
        signature: str | None,
        *,
        now: float | None = None,
    ) -> None:
        """Raise InvalidSignature or LinkExpired unless the link is genuine and current.

        ``expires`` is verified exactly as received (no int round trip), so ``0123`` for
        ``123`` is a different, unsigned message.
        """
        if not expires or not signature:
            raise InvalidSignature("The download link is missing its expires or signature.")
        if not _EXPIRES.fullmatch(expires) or not _SIGNATURE.fullmatch(signature):
            raise InvalidSignature()
        expected = self._digest(path, expires)
        if not hmac.compare_digest(expected, signature):
            raise InvalidSignature()
        if (time.time() if now is None else now) >= int(expires):
            raise LinkExpired()

    def _digest(self, path: str, expires: str) -> str:
        message = f"{path}\n{expires}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "LinkSigner(secret=<hidden>)"
