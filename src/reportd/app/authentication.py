"""API keys resolved on the event loop, remembered until anything about keys changes.

A key resolved once is remembered by its hash together with the store's ``auth_version`` at
that moment. Each request asks for the current version (on PostgreSQL a number kept by a
LISTEN connection, on SQLite one row read in microseconds) and trusts the remembered principal
only if the version is the same. Revoking a key or changing a tenant's features bumps the
version in the same transaction, so every API process drops what it remembered at once: no
time window, where the earlier 5-second cache had one. An unknown version (the listener is
reconnecting) means nothing is trusted and every request reads its key. Unknown keys are
never remembered, so a new key works at once.
"""

from __future__ import annotations

from reportd.app.ports import AsyncReads
from reportd.app.tenants import hash_key
from reportd.domain.errors import AuthenticationFailed
from reportd.domain.models import Principal

CACHE_SIZE = 10_000  # keys remembered at most; past it the memory starts afresh


class PrincipalCache:
    """Key hash -> (Principal, the auth version it was resolved at)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._known: dict[str, tuple[Principal, int]] = {}

    def get(self, key_hash: str, version: int | None) -> Principal | None:
        found = self._known.get(key_hash)
        if found is None or version is None or found[1] != version:
            return None
        return found[0]

    def put(self, key_hash: str, caller: Principal, version: int | None) -> None:
        if version is None:
            return
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[key_hash] = (caller, version)


class KeyAuthenticator:
    """``authenticate(secret)`` for API keys, awaited; raises ``AuthenticationFailed``."""

    def __init__(self, reads: AsyncReads, cache: PrincipalCache | None = None) -> None:
        self.reads = reads
        self.cache = cache or PrincipalCache()

    async def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise AuthenticationFailed("an API key is required")
        key_hash = hash_key(secret)
        version = await self.reads.auth_version()
        caller = self.cache.get(key_hash, version)
        if caller is not None:
            return caller
        found = await self.reads.find_key(key_hash)
        if found is None:
            raise AuthenticationFailed("the API key is not valid")
        key, tenant = found
        caller = Principal(tenant=tenant, key_id=key.id, name=key.name, scopes=key.scopes)
        self.cache.put(key_hash, caller, version)
        return caller
