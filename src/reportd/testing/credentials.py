"""OAuth clients and users with passwords in memory, each found with its tenant."""

from __future__ import annotations

import builtins

from reportd.domain.credentials import OAuthClient, User
from reportd.domain.errors import AlreadyExists, KeyNotFound, TenantNotFound
from reportd.domain.models import Tenant
from reportd.testing._state import MemoryState


class MemoryClients:
    """The ``ClientRepository`` port in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def create_client(self, client: OAuthClient) -> OAuthClient:
        with self._state.lock:
            _tenant(self._state, client.tenant_id)  # as the foreign key
            created = client.evolve(created_at=client.created_at or self._state.now())
            self._state.clients[created.id] = created
            return created

    def find_client(self, client_id: str) -> tuple[OAuthClient, Tenant] | None:
        with self._state.lock:
            client = self._state.clients.get(client_id)
            if client is None:
                return None
            return client, _tenant(self._state, client.tenant_id)

    def list_clients(self, tenant_id: str) -> builtins.list[OAuthClient]:
        with self._state.lock:
            mine = [c for c in self._state.clients.values() if c.tenant_id == tenant_id]
        return sorted(mine, key=lambda c: c.created_at or self._state.now())

    def revoke_client(self, client_id: str, tenant_id: str | None = None) -> None:
        with self._state.lock:
            client = self._state.clients.get(client_id)
            if (
                client is None
                or client.revoked_at is not None
                or tenant_id not in (None, client.tenant_id)
            ):
                raise KeyNotFound(f"no live OAuth client {client_id!r}")
            self._state.clients[client_id] = client.evolve(
                revoked_at=self._state.now(), version=client.version + 1
            )


class MemoryUsers:
    """The ``UserRepository`` port in memory; usernames are unique across tenants."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def create_user(self, user: User) -> User:
        with self._state.lock:
            _tenant(self._state, user.tenant_id)
            taken = any(u.username == user.username for u in self._state.users.values())
            if taken or user.id in self._state.users:
                raise AlreadyExists(f"user {user.username!r} already exists")
            created = user.evolve(created_at=user.created_at or self._state.now())
            self._state.users[created.id] = created
            return created

    def find_user(
        self, *, user_id: str | None = None, username: str | None = None
    ) -> tuple[User, Tenant] | None:
        with self._state.lock:
            for user in self._state.users.values():
                if (user.id == user_id) if user_id is not None else (user.username == username):
                    return user, _tenant(self._state, user.tenant_id)
            return None

    def list_users(self, tenant_id: str) -> builtins.list[User]:
        with self._state.lock:
            mine = [u for u in self._state.users.values() if u.tenant_id == tenant_id]
        return sorted(mine, key=lambda u: u.created_at or self._state.now())

    def disable_user(self, username: str, tenant_id: str | None = None) -> None:
        with self._state.lock:
            for user in self._state.users.values():
                active = user.username == username and user.disabled_at is None
                if active and tenant_id in (None, user.tenant_id):
                    self._state.users[user.id] = user.evolve(
                        disabled_at=self._state.now(), version=user.version + 1
                    )
                    return
            raise KeyNotFound(f"no active user {username!r}")

    def set_password(self, user_id: str, password_hash: str) -> None:
        with self._state.lock:
            user = self._state.users.get(user_id)
            if user is not None:
                self._state.users[user_id] = user.evolve(password_hash=password_hash)


def _tenant(state: MemoryState, tenant_id: str) -> Tenant:
    """The tenant as the SQL stores' join reads it (no ``created_at``)."""
    tenant = state.tenants.get(tenant_id)
    if tenant is None:
        raise TenantNotFound(f"tenant {tenant_id!r} not found")
    return tenant.evolve(created_at=None)
