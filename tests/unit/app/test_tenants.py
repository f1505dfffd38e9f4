"""Tenants and keys: checked ids and scopes, hashed secrets, revocation."""

from __future__ import annotations

import pytest

from reportd.app.tenants import hash_key
from reportd.domain.errors import (
    AlreadyExists,
    AuthenticationFailed,
    KeyNotFound,
    TenantNotFound,
    ValidationError,
)
from tests.unit.app.conftest import World


def test_tenant_ids_are_checked_and_unique(world: World) -> None:
    with pytest.raises(ValidationError):
        world.app.tenants.create_tenant("")
    with pytest.raises(ValidationError):
        world.app.tenants.create_tenant("x" * 65)
    made = world.app.tenants.create_tenant("acme", features=["custom_reports"])
    assert made.has_feature("custom_reports")
    with pytest.raises(AlreadyExists):
        world.app.tenants.create_tenant("acme")


def test_a_key_names_known_scopes_of_a_known_tenant(world: World) -> None:
    world.app.tenants.create_tenant("acme")
    with pytest.raises(ValidationError, match="unknown scopes"):
        world.app.tenants.create_key("acme", "bob", ["reports:everything"])
    with pytest.raises(TenantNotFound):
        world.app.tenants.create_key("nobody", "bob", ["reports:read"])


def test_only_the_hash_is_kept_and_the_secret_authenticates(world: World) -> None:
    world.app.tenants.create_tenant("acme")
    created = world.app.tenants.create_key("acme", "bob", ["reports:read"])
    assert created.secret.startswith("rk_")
    assert created.key.key_hash == hash_key(created.secret) != created.secret
    caller = world.app.tenants.authenticate(created.secret)
    assert (caller.tenant_id, caller.name, caller.scopes) == ("acme", "bob", {"reports:read"})


def test_unknown_missing_and_revoked_keys_fail_alike(world: World) -> None:
    world.app.tenants.create_tenant("acme")
    created = world.app.tenants.create_key("acme", "bob", ["reports:read"])
    for secret in (None, "", "rk_not-a-key"):
        with pytest.raises(AuthenticationFailed):
            world.app.tenants.authenticate(secret)
    world.app.tenants.revoke_key(created.key.id)
    with pytest.raises(AuthenticationFailed):
        world.app.tenants.authenticate(created.secret)
    with pytest.raises(KeyNotFound):
        world.app.tenants.revoke_key(created.key.id)
