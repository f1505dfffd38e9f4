"""Destination secrets sealed at rest: Fernet (``cryptography``) with keys from the config.

Why Fernet: it is authenticated encryption (AES-128-CBC and HMAC-SHA256) in one well-reviewed
call, with a versioned, timestamped token that needs no nonce management from us (AES-GCM's
96-bit nonce must never repeat under one key; Fernet draws a fresh IV itself), and
``MultiFernet`` rotates keys: the first key seals, every listed key opens, so an operator adds
a new key in front, re-saves nothing, and drops the old key once every destination was saved
again. The keys are ``[delivery] secret_keys`` (Fernet keys, urlsafe base64 of 32 bytes);
without any, one key is derived from ``[server] secret`` with HKDF, so the embedded default
works and a copied database is useless without the server's secret.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence

from reportd.domain.errors import ValidationError

__all__ = ["FernetBox", "derive_key", "new_key"]


def new_key() -> str:
    """A fresh random Fernet key."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def derive_key(server_secret: str) -> str:
    """A Fernet key derived from the server secret (HKDF-SHA256, a purpose of its own)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"reportd destination secrets v1"
    ).derive(server_secret.encode())
    return base64.urlsafe_b64encode(raw).decode()


class FernetBox:
    """Implements ``reportd.app.destinations.SecretBox``."""

    def __init__(self, keys: Sequence[str]) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        if not keys:
            raise ValidationError("[delivery] secret_keys: at least one key is needed")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except ValueError as exc:
            raise ValidationError(
                "[delivery] secret_keys: each must be a Fernet key (urlsafe base64 of 32 bytes; "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
            ) from exc

    def seal(self, secrets: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(secrets)).encode()).decode()

    def open(self, sealed: str) -> dict[str, str]:
        from cryptography.fernet import InvalidToken

        try:
            opened = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken as exc:
            raise ValidationError(
                "a destination's secrets do not open with [delivery] secret_keys "
                "(was the key changed without keeping the old one?)"
            ) from exc
        return {str(k): str(v) for k, v in opened.items()}
