"""The ``AsyncReads`` port over the in-memory store: the same records as its sync ports."""

from __future__ import annotations

from reportd.domain.models import ApiKey, Report, Tenant
from reportd.testing._state import MemoryState
from reportd.testing.tenants import MemoryTenants


class MemoryAsyncReads:
    """Awaitable reads of an ``InMemoryStore``; ``auth_version`` moves on every revocation or
    feature change, as the SQL store's ``auth_state`` does."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state
        self._tenants = MemoryTenants(state)

    async def open(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        """Nothing to close."""

    async def get_report(self, report_id: str, tenant_id: str) -> Report:
        with self._state.lock:
            return self._state.read(report_id, tenant_id)

    async def find_key(self, key_hash: str) -> tuple[ApiKey, Tenant] | None:
        return self._tenants.find_key(key_hash)

    async def auth_version(self) -> int | None:
        return self._state.auth_version
