"""Rate-limit counters in the metadata database, shared by every API process.

One row per bucket and window. Counting is one upsert per bucket
(``INSERT ... ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + 1
RETURNING count``), all in one transaction taken in bucket order: on PostgreSQL the row
locks make concurrent requests queue per bucket (and the fixed order rules out
deadlocks); on SQLite the write lock does. If one bucket goes over, the transaction is
rolled back, so a refused request is counted nowhere.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Engine, delete, select

from reportd.adapters.db.database import read_transaction, write_transaction
from reportd.adapters.db.schema import rate_counters as counters
from reportd.adapters.db.upsert import dialect_insert
from reportd.domain.limits import Limit

PURGE_INTERVAL_SECONDS = 60.0


class _OverLimit(Exception):
    """Internal: unwinds the counting transaction so it rolls back."""


class RateCounterStore:
    """The ``Counters`` of ``reportd.app.ratelimits`` over SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._next_purge = 0.0

    def hit(self, limits: Sequence[Limit], window_start: int) -> Mapping[str, int] | None:
        self._purge_if_due(window_start)
        counted: dict[str, int] = {}
        try:
            with write_transaction(self.engine) as conn:
                for limit in limits:
                    counted[limit.bucket] = _increment(conn, limit.bucket, window_start)
                    if counted[limit.bucket] > limit.limit:
                        raise _OverLimit
        except _OverLimit:
            return None
        return counted

    def counts(self, buckets: Sequence[str], window_start: int) -> Mapping[str, int]:
        query = select(counters.c.bucket, counters.c.count).where(
            counters.c.bucket.in_(list(buckets)), counters.c.window_start == window_start
        )
        with read_transaction(self.engine) as conn:
            return {str(bucket): int(count) for bucket, count in conn.execute(query)}

    def purge(self, before: int) -> int:
        """Drop windows that started before ``before`` (unix seconds)."""
        with write_transaction(self.engine) as conn:
            return conn.execute(delete(counters).where(counters.c.window_start < before)).rowcount

    def _purge_if_due(self, window_start: int) -> None:
        """Opportunistic, at most once a minute per process: old windows are never read."""
        clock = time.monotonic()
        if clock >= self._next_purge:
            self._next_purge = clock + PURGE_INTERVAL_SECONDS
            self.purge(window_start)


def _increment(conn: Connection, bucket: str, window_start: int) -> int:
    """One atomic count: the row is created at 1 or bumped, and its new value returned."""
    insert = dialect_insert(conn, counters).values(
        bucket=bucket, window_start=window_start, count=1
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[counters.c.bucket, counters.c.window_start],
        set_={"count": counters.c.count + 1},
    )
    return int(conn.execute(upsert.returning(counters.c.count)).scalar_one())
