"""Users who sign in with a username and a password (Spectra's ``POST /api-token-auth/``).

Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed on sign-in when those
change); a sign-in returns an access token of ``[oauth] user_token_ttl`` seconds, checked
against the user's row on every use like a client's token (``reportd.app.oauth``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reportd.app.oauth import OAuthService, TenantLookup, check_scopes
from reportd.app.ports import UserRepository
from reportd.domain.credentials import User
from reportd.domain.errors import AuthenticationFailed, ValidationError

__all__ = ["UserService"]

MIN_PASSWORD: Final = 8
MAX_PASSWORD: Final = 1024  # argon2 takes any length; a bound keeps a sign-in cheap
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so both failures take as long."""
    return _hasher.hash("reportd-no-such-user")


class UserService:
    def __init__(
        self, *, users: UserRepository, tenants: TenantLookup, oauth: OAuthService
    ) -> None:
        self.users = users
        self.tenants = tenants
        self.oauth = oauth

    def create(self, tenant_id: str, username: str, scopes: Iterable[str], password: str) -> User:
        wanted = check_scopes(scopes)
        if not username or len(username) > 150 or username != username.strip():
            raise ValidationError("a username is 1 to 150 characters, no surrounding spaces")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise ValidationError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        self.tenants.get_tenant(tenant_id)
        user = User(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            username=username,
            scopes=wanted,
            password_hash=_hasher.hash(password),
        )
        return self.users.create_user(user)

    def disable(self, username: str, tenant_id: str | None = None) -> None:
        self.users.disable_user(username, tenant_id)

    def sign_in(self, username: str, password: str) -> str:
        """An access token for the user, or AuthenticationFailed (one message for every cause)."""
        refused = AuthenticationFailed("Unable to log in with provided credentials.")
        if not username or not password or len(password) > MAX_PASSWORD:
            raise refused
        found = self.users.find_user(username=username)
        if found is None:
            _verify(_dummy_hash(), password)
            raise refused
        user, _tenant = found
        if not _verify(user.password_hash, password) or user.disabled_at is not None:
            raise refused
        if _hasher.check_needs_rehash(user.password_hash):
            self.users.set_password(user.id, _hasher.hash(password))
        return self.oauth.user_token(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
