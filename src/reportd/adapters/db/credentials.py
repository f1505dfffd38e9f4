"""OAuth clients and users, each with its tenant (``ClientRepository`` and ``UserRepository``
of ``reportd.app.ports``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from reportd.adapters.db.database import read_transaction, write_transaction
from reportd.adapters.db.schema import oauth_clients, tenants, users
from reportd.domain.credentials import OAuthClient, User
from reportd.domain.errors import AlreadyExists, KeyNotFound
from reportd.domain.models import Tenant

__all__ = ["ClientTable", "UserTable"]


def _tenant(row: Any) -> Tenant:
    return Tenant(id=row["tenant_id"], name=row["tenant_name"], features=frozenset(row["features"]))


def _with_tenant(table: Table, *where: Any) -> Any:
    return (
        select(table, tenants.c.name.label("tenant_name"), tenants.c.features)
        .join(tenants, tenants.c.id == table.c.tenant_id)
        .where(*where)
    )


class ClientTable:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_client(self, client: OAuthClient) -> OAuthClient:
        created = client.evolve(created_at=client.created_at or datetime.now(UTC))
        with write_transaction(self.engine) as conn:
            conn.execute(
                insert(oauth_clients).values(
                    id=created.id,
                    tenant_id=created.tenant_id,
                    name=created.name,
                    scopes=sorted(created.scopes),
                    secret_hash=created.secret_hash,
                    version=created.version,
                    created_at=created.created_at,
                )
            )
        return created

    def find_client(self, client_id: str) -> tuple[OAuthClient, Tenant] | None:
        """The client with that id (revoked or not) and its tenant, or None."""
        with read_transaction(self.engine) as conn:
            row = conn.execute(_with_tenant(oauth_clients, oauth_clients.c.id == client_id))
            found = row.mappings().first()
        return None if found is None else (_client(found), _tenant(found))

    def list_clients(self, tenant_id: str) -> list[OAuthClient]:
        query = select(oauth_clients).where(oauth_clients.c.tenant_id == tenant_id)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query.order_by(oauth_clients.c.created_at)).mappings().all()
        return [_client(r) for r in rows]

    def revoke_client(self, client_id: str, tenant_id: str | None = None) -> None:
        """Revoked, and its version bumped: every token it was given fails from now on."""
        query = update(oauth_clients).where(
            oauth_clients.c.id == client_id, oauth_clients.c.revoked_at.is_(None)
        )
        if tenant_id is not None:
            query = query.where(oauth_clients.c.tenant_id == tenant_id)
        values = {"revoked_at": datetime.now(UTC), "version": oauth_clients.c.version + 1}
        with write_transaction(self.engine) as conn:
            result = conn.execute(query.values(**values))
        if result.rowcount == 0:
            raise KeyNotFound(f"no live OAuth client {client_id!r}")


class UserTable:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_user(self, user: User) -> User:
        created = user.evolve(created_at=user.created_at or datetime.now(UTC))
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(
                    insert(users).values(
                        id=created.id,
                        tenant_id=created.tenant_id,
                        username=created.username,
                        scopes=sorted(created.scopes),
                        password_hash=created.password_hash,
                        version=created.version,
                        created_at=created.created_at,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(f"user {user.username!r} already exists") from exc
        return created

    def find_user(
        self, *, user_id: str | None = None, username: str | None = None
    ) -> tuple[User, Tenant] | None:
        where = users.c.id == user_id if user_id is not None else users.c.username == username
        with read_transaction(self.engine) as conn:
            found = conn.execute(_with_tenant(users, where)).mappings().first()
        return None if found is None else (_user(found), _tenant(found))

    def list_users(self, tenant_id: str) -> list[User]:
        query = select(users).where(users.c.tenant_id == tenant_id)
        with read_transaction(self.engine) as conn:
            rows = conn.execute(query.order_by(users.c.created_at)).mappings().all()
        return [_user(r) for r in rows]

    def disable_user(self, username: str, tenant_id: str | None = None) -> None:
        """Disabled, and its version bumped: its tokens fail from now on."""
        query = update(users).where(users.c.username == username, users.c.disabled_at.is_(None))
        if tenant_id is not None:
            query = query.where(users.c.tenant_id == tenant_id)
        values = {"disabled_at": datetime.now(UTC), "version": users.c.version + 1}
        with write_transaction(self.engine) as conn:
            result = conn.execute(query.values(**values))
        if result.rowcount == 0:
            raise KeyNotFound(f"no active user {username!r}")

    def set_password(self, user_id: str, password_hash: str) -> None:
        """A new hash (argon2's rehash on sign-in); the version is kept, tokens stay valid."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )


def _client(row: Any) -> OAuthClient:
    return OAuthClient(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        scopes=frozenset(row["scopes"]),
        secret_hash=row["secret_hash"],
        version=row["version"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def _user(row: Any) -> User:
    return User(
        id=row["id"],
        tenant_id=row["tenant_id"],
        username=row["username"],
        scopes=frozenset(row["scopes"]),
        password_hash=row["password_hash"],
        version=row["version"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )
