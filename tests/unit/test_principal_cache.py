"""The API process's memory of resolved keys (``reportd.app.authentication``): trusted only
while the store's auth version is the one it was resolved at."""

from __future__ import annotations

import asyncio

import pytest

from reportd.app.authentication import KeyAuthenticator, PrincipalCache
from reportd.app.tenants import hash_key
from reportd.domain.errors import AuthenticationFailed
from reportd.domain.models import ApiKey, Principal, Report, Tenant


def _caller(name: str) -> Principal:
    return Principal(
        tenant=Tenant(id="acme", name="Acme"), key_id=name, name=name, scopes=frozenset()
    )


def test_a_key_is_remembered_while_the_version_holds() -> None:
    cache = PrincipalCache()
    assert cache.get("h1", 1) is None
    cache.put("h1", _caller("a"), 1)
    found = cache.get("h1", 1)
    assert found is not None and found.name == "a"
    assert cache.get("h1", 2) is None  # something about keys changed: read it again
    assert cache.get("h1", None) is None  # version unknown: trust nothing


def test_nothing_is_remembered_at_an_unknown_version() -> None:
    cache = PrincipalCache()
    cache.put("h1", _caller("a"), None)
    assert cache.get("h1", 0) is None


def test_the_cache_never_grows_past_its_size() -> None:
    cache = PrincipalCache(size=3)
    for n in range(10):
        cache.put(f"h{n}", _caller(str(n)), 0)
        assert len(cache._known) <= 3
    assert cache.get("h9", 0) is not None


class FakeReads:
    """The async read port over a dict: keys by hash, a version to move by hand."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[ApiKey, Tenant]] = {}
        self.version: int | None = 0
        self.lookups = 0

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def get_report(self, report_id: str, tenant_id: str) -> Report:
        raise NotImplementedError

    async def find_key(self, key_hash: str) -> tuple[ApiKey, Tenant] | None:
        self.lookups += 1
        return self.keys.get(key_hash)

    async def auth_version(self) -> int | None:
        return self.version


def test_revocation_is_seen_on_the_next_request() -> None:
    reads = FakeReads()
    tenant = Tenant(id="acme", name="Acme")
    reads.keys[hash_key("rk_1")] = (
        ApiKey(id="k1", tenant_id="acme", name="ci", scopes=frozenset(), key_hash=hash_key("rk_1")),
        tenant,
    )
    auth = KeyAuthenticator(reads)

    async def scenario() -> None:
        assert (await auth.authenticate("rk_1")).key_id == "k1"
        await auth.authenticate("rk_1")
        assert reads.lookups == 1  # the second request was remembered
        del reads.keys[hash_key("rk_1")]  # revoked (in another process) ...
        reads.version = 1  # ... which moves the version in the same transaction
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate("rk_1")
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate(None)

    asyncio.run(scenario())
