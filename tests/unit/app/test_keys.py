"""A tenant's own keys: admin only, its own tenant only, another tenant's key not found."""

from __future__ import annotations

import pytest

from reportd.domain.errors import AuthenticationFailed, Forbidden, KeyNotFound
from tests.unit.app.conftest import World


def test_an_admin_manages_its_tenants_keys(world: World) -> None:
    admin = world.principal()
    created = world.app.keys.create(admin, "ci", ["reports:read"])
    assert world.app.tenants.authenticate(created.secret).tenant_id == "acme"
    assert "ci" in {k.name for k in world.app.keys.list(admin)}
    world.app.keys.revoke(admin, created.key.id)
    with pytest.raises(AuthenticationFailed):
        world.app.tenants.authenticate(created.secret)


def test_only_admin_and_only_its_own_tenant(world: World) -> None:
    with pytest.raises(Forbidden):
        world.app.keys.list(world.principal(scopes=("reports:write",)))
    theirs = world.app.keys.create(world.principal("globex"), "x", ["reports:read"])
    with pytest.raises(KeyNotFound):
        world.app.keys.revoke(world.principal("acme"), theirs.key.id)
