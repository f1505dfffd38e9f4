"""Tenants and their API keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from reportd.adapters.db.auth_version import bump_auth_version
from reportd.adapters.db.database import read_transaction, write_transaction
from reportd.adapters.db.schema import api_keys, tenants
from reportd.domain.errors import AlreadyExists, KeyNotFound, TenantNotFound
from reportd.domain.models import ApiKey, Tenant


class TenantStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tenant(self, tenant: Tenant) -> Tenant:
        created = tenant.evolve(created_at=tenant.created_at or datetime.now(UTC))
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(
                    insert(tenants).values(
                        id=created.id,
                        name=created.name,
                        features=sorted(created.features),
                        created_at=created.created_at,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(f"tenant {tenant.id!r} already exists") from exc
        return created

    def get_tenant(self, tenant_id: str) -> Tenant:
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(tenants).where(tenants.c.id == tenant_id)).mappings().first()
        if row is None:
            raise TenantNotFound(f"tenant {tenant_id!r} not found")
        return _tenant(row)

    def list_tenants(self) -> list[Tenant]:
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(tenants).order_by(tenants.c.id)).mappings().all()
        return [_tenant(r) for r in rows]

    def set_features(self, tenant_id: str, features: Iterable[str]) -> Tenant:
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(tenants)
                .where(tenants.c.id == tenant_id)
                .values(features=sorted(set(features)))
            )
            bump_auth_version(conn)  # remembered keys of this tenant carry its old features
        if result.rowcount == 0:
            raise TenantNotFound(f"tenant {tenant_id!r} not found")
        return self.get_tenant(tenant_id)

    def create_key(self, key: ApiKey) -> ApiKey:
        created = key.evolve(created_at=key.created_at or datetime.now(UTC))
        with write_transaction(self.engine) as conn:
            conn.execute(
                insert(api_keys).values(
                    id=created.id,
                    tenant_id=created.tenant_id,
                    name=created.name,
                    scopes=sorted(created.scopes),
                    key_hash=created.key_hash,
                    created_at=created.created_at,
                )
            )
        return created

    def find_key(self, key_hash: str) -> tuple[ApiKey, Tenant] | None:
        """The live key with that hash and its tenant, or None."""
        query = (
            select(api_keys, tenants.c.name.label("tenant_name"), tenants.c.features)
            .join(tenants, tenants.c.id == api_keys.c.tenant_id)
            .where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
        )
        with read_transaction(self.engine) as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        tenant = Tenant(
            id=row["tenant_id"], name=row["tenant_name"], features=frozenset(row["features"])
        )
        return _key(row), tenant

    def list_keys(self, tenant_id: str) -> list[ApiKey]:
        query = select(api_keys).where(api_keys.c.tenant_id == tenant_id)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query.order_by(api_keys.c.created_at)).mappings().all()
        return [_key(r) for r in rows]

    def revoke_key(self, key_id: str, tenant_id: str | None = None) -> None:
        query = update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        if tenant_id is not None:
            query = query.where(api_keys.c.tenant_id == tenant_id)
        with write_transaction(self.engine) as conn:
            result = conn.execute(query.values(revoked_at=datetime.now(UTC)))
            bump_auth_version(conn)  # every API process forgets the key at once
        if result.rowcount == 0:
            raise KeyNotFound(f"no live API key {key_id!r}")


def _tenant(row: Any) -> Tenant:
    return Tenant(
        id=row["id"],
        name=row["name"],
        features=frozenset(row["features"]),
        created_at=row["created_at"],
    )


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        scopes=frozenset(row["scopes"]),
        key_hash=row["key_hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
