"""Tenants and their API keys: create, list, revoke, and authenticate a secret.

Keys are stored hashed (SHA-256 of the secret); the secret is shown once, at creation. A
revoked or unknown secret is ``AuthenticationFailed``, with no hint of which. An OAuth access
token is accepted wherever a key is: ``authenticate`` hands it to ``reportd.app.oauth``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportd.app.tokens import looks_like_token
from reportd.domain.errors import AuthenticationFailed, ValidationError
from reportd.domain.models import ApiKey, Principal, Scope, Tenant

if TYPE_CHECKING:
    from reportd.app.oauth import OAuthService
    from reportd.app.ports import TenantRepository

__all__ = ["KEY_PREFIX", "CreatedKey", "Tenants", "hash_key"]

KEY_PREFIX = "rk_"


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Tenants:
    """The tenants-and-keys use case, over the tenants port (and OAuth for tokens)."""

    def __init__(self, tenants: TenantRepository, *, tokens: OAuthService | None = None) -> None:
        self._tenants = tenants
        self._tokens = tokens

    def create_tenant(
        self, tenant_id: str, *, name: str | None = None, features: Sequence[str] = ()
    ) -> Tenant:
        if not tenant_id or len(tenant_id) > 64:
            raise ValidationError("a tenant id is 1 to 64 characters")
        return self._tenants.create_tenant(
            Tenant(id=tenant_id, name=name or tenant_id, features=frozenset(features))
        )

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self._tenants.get_tenant(tenant_id)

    def list_tenants(self) -> list[Tenant]:
        return self._tenants.list_tenants()

    def create_key(self, tenant_id: str, name: str, scopes: Sequence[str]) -> CreatedKey:
        known = {s.value for s in Scope}
        unknown = sorted(set(scopes) - known)
        if unknown:
            raise ValidationError(f"unknown scopes {unknown}; known: {sorted(known)}")
        self._tenants.get_tenant(tenant_id)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            name=name,
            scopes=frozenset(scopes),
            key_hash=hash_key(secret),
        )
        return CreatedKey(key=self._tenants.create_key(key), secret=secret)

    def list_keys(self, tenant_id: str) -> list[ApiKey]:
        return self._tenants.list_keys(tenant_id)

    def revoke_key(self, key_id: str, tenant_id: str | None = None) -> None:
        self._tenants.revoke_key(key_id, tenant_id)

    def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise AuthenticationFailed("an API key is required")
        if self._tokens is not None and looks_like_token(secret):
            return self._tokens.authenticate(secret)
        found = self._tenants.find_key(hash_key(secret))
        if found is None:
            raise AuthenticationFailed("the API key is not valid")
        key, tenant = found
        return Principal(tenant=tenant, key_id=key.id, name=key.name, scopes=key.scopes)
