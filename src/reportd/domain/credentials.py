"""Credentials other than API keys: OAuth 2.0 clients and users with passwords.

Why records of their own: an API key *is* its secret, while an OAuth client is exchanged for
short-lived access tokens, and a user signs in with a password (Spectra's ``api-token-auth``).
Both keep only a hash of their secret, and a ``version`` that every token they were given
carries: bumping it (revoking, or changing the secret) makes those tokens fail at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from reportd.domain.models import Evolvable

__all__ = ["Holder", "OAuthClient", "TokenClaims", "User"]


class Holder(StrEnum):
    """Whom a token was given to."""

    CLIENT = "client"
    USER = "user"


@dataclass(frozen=True, slots=True)
class OAuthClient(Evolvable):
    """An OAuth 2.0 client of a tenant (client credentials grant)."""

    id: str
    tenant_id: str
    name: str
    scopes: frozenset[str]
    secret_hash: str
    version: int = 1
    created_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class User(Evolvable):
    """A user of a tenant who signs in with a username and a password (argon2 hash kept)."""

    id: str
    tenant_id: str
    username: str
    scopes: frozenset[str]
    password_hash: str
    version: int = 1
    created_at: datetime | None = None
    disabled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says; the holder's row is checked against it on every use."""

    holder: Holder
    subject: str  # the client's or the user's id
    tenant_id: str
    scopes: frozenset[str]
    version: int
    refresh: bool
    expires_at: datetime
