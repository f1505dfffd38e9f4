"""Tenants and their API keys in memory."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from reportd.domain.errors import AlreadyExists, KeyNotFound, TenantNotFound
from reportd.domain.models import ApiKey, Tenant
from reportd.testing._state import MemoryState


class MemoryTenants:
    """The ``TenantRepository`` port in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    def create_tenant(self, tenant: Tenant) -> Tenant:
        with self._state.lock:
            if tenant.id in self._state.tenants:
                raise AlreadyExists(f"tenant {tenant.id!r} already exists")
            created = tenant.evolve(created_at=tenant.created_at or self._state.now())
            self._state.tenants[created.id] = created
            return created

    def get_tenant(self, tenant_id: str) -> Tenant:
        with self._state.lock:
            found = self._state.tenants.get(tenant_id)
        if found is None:
            raise TenantNotFound(f"tenant {tenant_id!r} not found")
        return found

    def list_tenants(self) -> builtins.list[Tenant]:
        with self._state.lock:
            return sorted(self._state.tenants.values(), key=lambda t: t.id)

    def set_features(self, tenant_id: str, features: Iterable[str]) -> Tenant:
        with self._state.lock:
            tenant = self.get_tenant(tenant_id)
            changed = tenant.evolve(features=frozenset(features))
            self._state.tenants[tenant_id] = changed
            self._state.auth_version += 1  # remembered keys carry the old features
            return changed

    def create_key(self, key: ApiKey) -> ApiKey:
        with self._state.lock:
            self.get_tenant(key.tenant_id)  # as the foreign key: no key without its tenant
            created = key.evolve(created_at=key.created_at or self._state.now())
            self._state.keys[created.id] = created
            return created

    def find_key(self, key_hash: str) -> tuple[ApiKey, Tenant] | None:
        with self._state.lock:
            for key in self._state.keys.values():
                if key.key_hash == key_hash and key.revoked_at is None:
                    tenant = self._state.tenants[key.tenant_id]
                    # The SQL store's join reads no created_at for the tenant.
                    return key, tenant.evolve(created_at=None)
            return None

    def list_keys(self, tenant_id: str) -> builtins.list[ApiKey]:
        with self._state.lock:
            mine = [k for k in self._state.keys.values() if k.tenant_id == tenant_id]
        return sorted(mine, key=lambda k: k.created_at or self._state.now())

    def revoke_key(self, key_id: str, tenant_id: str | None = None) -> None:
        with self._state.lock:
            key = self._state.keys.get(key_id)
            live = key is not None and key.revoked_at is None
            if key is None or not live or tenant_id not in (None, key.tenant_id):
                raise KeyNotFound(f"no live API key {key_id!r}")
            self._state.keys[key_id] = key.evolve(revoked_at=self._state.now())
            self._state.auth_version += 1  # every API process forgets the key at once
