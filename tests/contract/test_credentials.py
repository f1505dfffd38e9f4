"""ClientRepository and UserRepository: credentials found with their tenant; revoking or
disabling bumps the version every token carries."""

from __future__ import annotations

import uuid

import pytest

from reportd.app import ports
from reportd.domain.credentials import OAuthClient, User
from reportd.domain.errors import AlreadyExists, KeyNotFound
from reportd.domain.models import Tenant
from tests.contract.records import BASE


@pytest.fixture
def tenants(store: ports.Store) -> None:
    store.tenants.create_tenant(Tenant("t1", "One", frozenset({"custom_reports"})))
    store.tenants.create_tenant(Tenant("t2", "Two"))


def new_client(tenant: str = "t1", **changes: object) -> OAuthClient:
    client = OAuthClient(
        id=f"cl_{uuid.uuid4().hex}",
        tenant_id=tenant,
        name="etl",
        scopes=frozenset({"reports:read"}),
        secret_hash="h" * 64,
    )
    return client.evolve(**changes)


def new_user(tenant: str = "t1", **changes: object) -> User:
    user = User(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        username=f"user-{uuid.uuid4().hex[:8]}",
        scopes=frozenset({"reports:read", "reports:write"}),
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    )
    return user.evolve(**changes)


@pytest.mark.usefixtures("tenants")
def test_a_client_is_found_by_id_with_its_tenant_revoked_or_not(store: ports.Store) -> None:
    client = store.clients.create_client(new_client())
    assert client.created_at is not None
    found = store.clients.find_client(client.id)
    assert found is not None
    got, tenant = found
    assert got == client
    assert (tenant.id, tenant.name, tenant.features) == ("t1", "One", {"custom_reports"})
    store.clients.revoke_client(client.id, "t1")
    found = store.clients.find_client(client.id)
    assert found is not None
    revoked = found[0]
    assert revoked.revoked_at is not None and revoked.version == client.version + 1
    assert store.clients.find_client("cl_nobody") is None


@pytest.mark.usefixtures("tenants")
def test_clients_are_listed_per_tenant_oldest_first_and_revoked_once(store: ports.Store) -> None:
    first = store.clients.create_client(new_client(created_at=BASE))
    second = store.clients.create_client(new_client())
    other = store.clients.create_client(new_client(tenant="t2"))
    assert [c.id for c in store.clients.list_clients("t1")] == [first.id, second.id]
    with pytest.raises(KeyNotFound):
        store.clients.revoke_client(other.id, "t1")  # another tenant's
    store.clients.revoke_client(first.id)
    with pytest.raises(KeyNotFound):
        store.clients.revoke_client(first.id)  # once
    with pytest.raises(KeyNotFound):
        store.clients.revoke_client("cl_nobody")


@pytest.mark.usefixtures("tenants")
def test_a_user_is_found_by_id_or_username_with_its_tenant(store: ports.Store) -> None:
    user = store.users.create_user(new_user())
    assert user.created_at is not None
    by_name = store.users.find_user(username=user.username)
    by_id = store.users.find_user(user_id=user.id)
    assert by_name is not None and by_id is not None
    assert by_name[0] == by_id[0] == user
    assert by_name[1].id == "t1" and by_name[1].features == {"custom_reports"}
    assert store.users.find_user(username="nobody") is None
    assert store.users.find_user(user_id="nobody") is None


@pytest.mark.usefixtures("tenants")
def test_usernames_are_unique_across_tenants(store: ports.Store) -> None:
    store.users.create_user(new_user(username="sam"))
    with pytest.raises(AlreadyExists):
        store.users.create_user(new_user(tenant="t2", username="sam"))
    assert [u.username for u in store.users.list_users("t2")] == []


@pytest.mark.usefixtures("tenants")
def test_disabling_bumps_the_version_once(store: ports.Store) -> None:
    user = store.users.create_user(new_user(username="sam"))
    with pytest.raises(KeyNotFound):
        store.users.disable_user("sam", "t2")  # not that tenant's
    store.users.disable_user("sam", "t1")
    found = store.users.find_user(username="sam")
    assert found is not None
    assert found[0].disabled_at is not None and found[0].version == user.version + 1
    with pytest.raises(KeyNotFound):
        store.users.disable_user("sam")


@pytest.mark.usefixtures("tenants")
def test_a_rehash_keeps_the_version_and_users_list_oldest_first(store: ports.Store) -> None:
    first = store.users.create_user(new_user(created_at=BASE))
    second = store.users.create_user(new_user())
    store.users.set_password(first.id, "$argon2id$new")
    found = store.users.find_user(user_id=first.id)
    assert found is not None
    assert found[0].password_hash == "$argon2id$new" and found[0].version == first.version
    assert [u.id for u in store.users.list_users("t1")] == [first.id, second.id]
