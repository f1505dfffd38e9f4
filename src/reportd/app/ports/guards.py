"""Idempotency records and rate counters: what guards a request before it reaches a use case.

The rules every implementation keeps are written on the methods (see ``reportd.app.ports``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from reportd.domain.idempotency import IdempotencyRecord, StoredResponse
from reportd.domain.limits import Limit

__all__ = ["IdempotencyRepository", "RateCounterRepository"]


class IdempotencyRepository(Protocol):
    """Idempotency-Key records: one request per key runs, the others get its answer."""

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Take the key (None), or the live record holding it; an expired or abandoned
        holder (``reportd.app.idempotency.is_reclaimable``) is replaced."""

    def complete(self, scope: str, key: str, response: StoredResponse) -> None: ...

    def release(self, scope: str, key: str) -> None:
        """Forget an unfinished claim, so a retry may run."""

    def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    def purge(self, now: datetime | None = None) -> int:
        """Delete records older than the TTL; how many."""


class RateCounterRepository(Protocol):
    """Request counts per bucket and fixed window, shared by every process."""

    def hit(self, limits: Sequence[Limit], window_start: int) -> Mapping[str, int] | None:
        """Count one request in every bucket; the new counts, or None (nothing counted) if
        one would go over its limit."""

    def counts(self, buckets: Sequence[str], window_start: int) -> Mapping[str, int]: ...

    def purge(self, before: int) -> int:
        """Drop windows that started before ``before``."""
