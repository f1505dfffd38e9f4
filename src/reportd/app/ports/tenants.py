"""Tenants, their keys, OAuth clients and users, their templates and source grants: who may ask.

The rules every implementation keeps are written on the methods (see ``reportd.app.ports``).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Protocol

from reportd.domain.credentials import OAuthClient, User
from reportd.domain.models import ApiKey, Tenant
from reportd.domain.tenant_templates import SourceGrant, TenantTemplate

__all__ = [
    "ClientRepository",
    "SourceGrantRepository",
    "TemplateRepository",
    "TenantRepository",
    "UserRepository",
]


class TenantRepository(Protocol):
    """Tenants and their API keys (only a key's hash is kept)."""

    def create_tenant(self, tenant: Tenant) -> Tenant:
        """``AlreadyExists`` if the id is taken."""

    def get_tenant(self, tenant_id: str) -> Tenant: ...

    def list_tenants(self) -> builtins.list[Tenant]: ...

    def set_features(self, tenant_id: str, features: Iterable[str]) -> Tenant: ...

    def create_key(self, key: ApiKey) -> ApiKey: ...

    def find_key(self, key_hash: str) -> tuple[ApiKey, Tenant] | None:
        """The live (unrevoked) key with that hash, and its tenant."""

    def list_keys(self, tenant_id: str) -> builtins.list[ApiKey]: ...

    def revoke_key(self, key_id: str, tenant_id: str | None = None) -> None:
        """``KeyNotFound`` unless a live key of that id (and tenant, if given) exists."""


class ClientRepository(Protocol):
    """OAuth 2.0 clients (only a secret's hash is kept), each with its tenant."""

    def create_client(self, client: OAuthClient) -> OAuthClient: ...

    def find_client(self, client_id: str) -> tuple[OAuthClient, Tenant] | None:
        """The client of that id, revoked or not, and its tenant."""

    def list_clients(self, tenant_id: str) -> builtins.list[OAuthClient]: ...

    def revoke_client(self, client_id: str, tenant_id: str | None = None) -> None:
        """Set ``revoked_at`` and bump ``version`` (its tokens fail from then on);
        ``KeyNotFound`` unless a live client of that id (and tenant, if given) exists."""


class UserRepository(Protocol):
    """Users who sign in with a password (only an argon2 hash is kept), each with its tenant."""

    def create_user(self, user: User) -> User:
        """``AlreadyExists`` if the username is taken (usernames are unique across tenants:
        a sign-in names no tenant)."""

    def find_user(
        self, *, user_id: str | None = None, username: str | None = None
    ) -> tuple[User, Tenant] | None: ...

    def list_users(self, tenant_id: str) -> builtins.list[User]: ...

    def disable_user(self, username: str, tenant_id: str | None = None) -> None:
        """Set ``disabled_at`` and bump ``version``; ``KeyNotFound`` unless an active user."""

    def set_password(self, user_id: str, password_hash: str) -> None:
        """A new hash for the same password (a rehash); ``version`` is kept."""


class TemplateRepository(Protocol):
    """Tenants' templates, every version kept (a report names the version it ran)."""

    def insert(self, template: TenantTemplate) -> TenantTemplate:
        """A new template; ``AlreadyExists`` if the tenant has a live one with that id. Its
        version is one past any version a deleted template of that id had (else 1);
        ``created_at`` and ``updated_at`` are set to now."""

    def get(self, tenant_id: str, template_id: str, version: int | None = None) -> TenantTemplate:
        """The latest version of a live template, or exactly ``version`` (deleted or not);
        ``TemplateNotFound`` if absent or another tenant's."""

    def list(self, tenant_id: str) -> builtins.list[TenantTemplate]:
        """The latest version of each of the tenant's live templates, by id."""

    def update(self, template: TenantTemplate, expected_version: int) -> TenantTemplate:
        """Store ``template`` as version ``expected_version + 1``, only if the latest version
        is still ``expected_version`` (``VersionConflict`` otherwise); ``TemplateNotFound``
        if there is no live template."""

    def delete(self, tenant_id: str, template_id: str) -> None:
        """No longer listed or found by id; its versions stay readable by number."""


class SourceGrantRepository(Protocol):
    """Which sources each tenant may write templates over (the operator's grants)."""

    def grant(self, grant: SourceGrant) -> SourceGrant:
        """Create or replace the grant of ``grant.source`` to ``grant.tenant_id``."""

    def revoke(self, tenant_id: str, source: str) -> None:
        """``NotFound`` unless that grant exists."""

    def get(self, tenant_id: str, source: str) -> SourceGrant | None: ...

    def list(self, tenant_id: str) -> builtins.list[SourceGrant]:
        """The tenant's grants, by source name."""
