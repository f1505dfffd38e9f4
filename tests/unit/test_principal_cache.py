"""The API process's short memory of resolved keys (``PrincipalCache`` in ``api/auth.py``)."""

from __future__ import annotations

import time

from reportd.domain.models import Principal, Tenant
from reportd.entrypoints.api.auth import PrincipalCache


def _caller(name: str) -> Principal:
    return Principal(
        tenant=Tenant(id="acme", name="Acme"), key_id=name, name=name, scopes=frozenset()
    )


def test_a_key_is_remembered_for_its_ttl_only() -> None:
    cache = PrincipalCache(ttl=0.05)
    assert cache.get("h1") is None
    cache.put("h1", _caller("a"))
    found = cache.get("h1")
    assert found is not None and found.name == "a"
    time.sleep(0.06)
    assert cache.get("h1") is None  # a revoked key stops working within the TTL


def test_the_cache_never_grows_past_its_size() -> None:
    cache = PrincipalCache(ttl=60, size=3)
    for n in range(10):
        cache.put(f"h{n}", _caller(str(n)))
        assert len(cache._known) <= 3
    assert cache.get("h9") is not None
