"""TenantRepository: tenants, their features, and API keys found by hash while live."""

from __future__ import annotations

import uuid

import pytest

from reportd.app import ports
from reportd.domain.errors import AlreadyExists, KeyNotFound, TenantNotFound
from reportd.domain.models import ApiKey, Tenant
from tests.contract.records import BASE


def new_key(tenant: str = "t1", **changes: object) -> ApiKey:
    key = ApiKey(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        name="ci",
        scopes=frozenset({"reports:read", "reports:write"}),
        key_hash=uuid.uuid4().hex * 2,
    )
    return key.evolve(**changes)


def test_tenants_are_made_once_and_listed_by_id(store: ports.Store) -> None:
    made = store.tenants.create_tenant(Tenant("b", "Beta", frozenset({"custom_reports"})))
    store.tenants.create_tenant(Tenant("a", "Alpha", created_at=BASE))
    assert made.created_at is not None
    assert store.tenants.get_tenant("b") == made
    assert store.tenants.get_tenant("a").created_at == BASE
    assert [t.id for t in store.tenants.list_tenants()] == ["a", "b"]
    with pytest.raises(AlreadyExists):
        store.tenants.create_tenant(Tenant("a", "Again"))
    with pytest.raises(TenantNotFound):
        store.tenants.get_tenant("nobody")


def test_features_are_replaced_as_a_set(store: ports.Store) -> None:
    store.tenants.create_tenant(Tenant("t1", "One"))
    changed = store.tenants.set_features("t1", ["custom_reports", "custom_reports", "x"])
    assert changed.features == frozenset({"custom_reports", "x"})
    assert store.tenants.get_tenant("t1").has_feature("custom_reports")
    assert store.tenants.set_features("t1", []).features == frozenset()
    with pytest.raises(TenantNotFound):
        store.tenants.set_features("nobody", ["x"])


def test_a_live_key_is_found_by_its_hash_with_its_tenant(store: ports.Store) -> None:
    store.tenants.create_tenant(Tenant("t1", "One", frozenset({"custom_reports"})))
    key = store.tenants.create_key(new_key())
    assert key.created_at is not None
    found = store.tenants.find_key(key.key_hash)
    assert found is not None
    got, tenant = found
    assert got == key
    assert (tenant.id, tenant.name, tenant.features) == ("t1", "One", {"custom_reports"})
    assert store.tenants.find_key("0" * 64) is None


def test_keys_are_listed_oldest_first_and_revoked_once(store: ports.Store) -> None:
    store.tenants.create_tenant(Tenant("t1", "One"))
    store.tenants.create_tenant(Tenant("t2", "Two"))
    first = store.tenants.create_key(new_key(created_at=BASE))
    second = store.tenants.create_key(new_key())
    store.tenants.create_key(new_key(tenant="t2"))
    assert [k.id for k in store.tenants.list_keys("t1")] == [first.id, second.id]
    with pytest.raises(KeyNotFound):
        store.tenants.revoke_key(first.id, "t2")  # another tenant's key
    store.tenants.revoke_key(first.id, "t1")
    assert store.tenants.find_key(first.key_hash) is None
    revoked = store.tenants.list_keys("t1")[0]
    assert revoked.revoked_at is not None  # still listed, as revoked
    with pytest.raises(KeyNotFound):
        store.tenants.revoke_key(first.id)
    store.tenants.revoke_key(second.id)  # no tenant given: the operator's revoke
    with pytest.raises(KeyNotFound):
        store.tenants.revoke_key("no-such-key")
