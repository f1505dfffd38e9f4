"""Idempotency records and rate counters in memory: one atomic step each, under the lock."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from reportd.app.idempotency import PURGE_INTERVAL_SECONDS, is_reclaimable, purge_before
from reportd.domain.idempotency import IdempotencyRecord, StoredResponse
from reportd.domain.limits import Limit
from reportd.testing._state import MemoryState, in_utc


class MemoryIdempotency:
    """The ``IdempotencyRepository`` port in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state
        self._next_purge = 0.0

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        self._purge_if_due()
        with self._state.lock:
            at = (record.scope, record.key)
            held = self._state.idempotency.get(at)
            if held is None or is_reclaimable(held, record.created_at):
                self._state.idempotency[at] = in_utc(replace(record, response=None))
                return None
            return held

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        with self._state.lock:
            held = self._state.idempotency.get((scope, key))
            if held is not None:
                self._state.idempotency[(scope, key)] = replace(held, response=response)

    def release(self, scope: str, key: str) -> None:
        with self._state.lock:
            held = self._state.idempotency.get((scope, key))
            if held is not None and held.response is None:
                del self._state.idempotency[(scope, key)]

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        with self._state.lock:
            return self._state.idempotency.get((scope, key))

    def purge(self, now: datetime | None = None) -> int:
        cutoff = purge_before(now or self._state.now())
        with self._state.lock:
            old = [at for at, r in self._state.idempotency.items() if r.created_at < cutoff]
            for at in old:
                del self._state.idempotency[at]
            return len(old)

    def _purge_if_due(self) -> None:
        clock = time.monotonic()
        if clock >= self._next_purge:
            self._next_purge = clock + PURGE_INTERVAL_SECONDS
            self.purge()


class MemoryRateCounters:
    """The ``RateCounterRepository`` port in memory."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state
        self._next_purge = 0.0

    def hit(self, limits: Sequence[Limit], window_start: int) -> Mapping[str, int] | None:
        clock = time.monotonic()
        if clock >= self._next_purge:  # old windows are never read again: drop them now and then
            self._next_purge = clock + PURGE_INTERVAL_SECONDS
            self.purge(window_start)
        with self._state.lock:
            counters = self._state.counters
            counted = {
                limit.bucket: counters.get((limit.bucket, window_start), 0) + 1 for limit in limits
            }
            if any(counted[limit.bucket] > limit.limit for limit in limits):
                return None  # over one limit: counted nowhere
            for bucket, count in counted.items():
                counters[(bucket, window_start)] = count
            return counted

    def counts(self, buckets: Sequence[str], window_start: int) -> Mapping[str, int]:
        with self._state.lock:
            counters = self._state.counters
            return {
                b: counters[(b, window_start)] for b in buckets if (b, window_start) in counters
            }

    def purge(self, before: int) -> int:
        with self._state.lock:
            old = [at for at in self._state.counters if at[1] < before]
            for at in old:
                del self._state.counters[at]
            return len(old)
