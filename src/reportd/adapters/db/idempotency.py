"""Remembered Idempotency-Key answers, shared by every API process through the database.

Claiming a key is one atomic step (``INSERT ... ON CONFLICT DO NOTHING``, then the row that
won, locked): of two concurrent first requests exactly one runs, whichever process they hit.
The rules (what counts as the same request, expiry, in progress) are in
``reportd.app.idempotency``; this module only keeps the rows.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, select, update

from reportd.adapters.db.database import write_transaction
from reportd.adapters.db.schema import idempotency_keys as keys
from reportd.adapters.db.upsert import dialect_insert
from reportd.app.idempotency import PURGE_INTERVAL_SECONDS, is_reclaimable, purge_before
from reportd.domain.idempotency import IdempotencyRecord, StoredResponse


def _now() -> datetime:
    return datetime.now(UTC)


class IdempotencyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._next_purge = 0.0

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Take the key for ``record`` (None), or the record that already holds it.

        An expired or abandoned holder is replaced in the same transaction, so the caller
        gets the key and nobody else does.
        """
        self._purge_if_due()
        with write_transaction(self.engine) as conn:
            if self._insert(conn, record):
                return None
            held = self._locked(conn, record.scope, record.key)
            if held is None or is_reclaimable(held, record.created_at):
                self._replace(conn, record, held)
                return None
            return held

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(keys)
                .where(keys.c.scope == scope, keys.c.key == key)
                .values(
                    status=response.status,
                    headers=[list(h) for h in response.headers],
                    body=response.body,
                )
            )

    def release(self, scope: str, key: str) -> None:
        """Forget an unfinished claim (a 5xx, a crash), so a retry may run again."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(keys).where(
                    keys.c.scope == scope, keys.c.key == key, keys.c.status.is_(None)
                )
            )

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(keys).where(keys.c.scope == scope, keys.c.key == key)
            ).one_or_none()
        return None if row is None else _record(row._mapping)

    def purge(self, now: datetime | None = None) -> int:
        """Delete every key older than the TTL; returns how many."""
        cutoff = purge_before(now or _now())
        with write_transaction(self.engine) as conn:
            return conn.execute(delete(keys).where(keys.c.created_at < cutoff)).rowcount

    def _purge_if_due(self) -> None:
        """Opportunistic clean-up, at most once a minute per process: no sweeper needed."""
        clock = time.monotonic()
        if clock >= self._next_purge:
            self._next_purge = clock + PURGE_INTERVAL_SECONDS
            self.purge()

    @staticmethod
    def _insert(conn: Connection, record: IdempotencyRecord) -> bool:
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT that SQLAlchemy builds.
        statement = dialect_insert(conn, keys).values(**_claim_row(record))
        inserted = statement.on_conflict_do_nothing().returning(keys.c.key)
        return conn.execute(inserted).first() is not None

    @staticmethod
    def _locked(conn: Connection, scope: str, key: str) -> IdempotencyRecord | None:
        query = select(keys).where(keys.c.scope == scope, keys.c.key == key).with_for_update()
        row = conn.execute(query).one_or_none()
        return None if row is None else _record(row._mapping)

    @staticmethod
    def _replace(
        conn: Connection, record: IdempotencyRecord, held: IdempotencyRecord | None
    ) -> None:
        if held is None:  # deleted between the insert and the select: insert again
            conn.execute(dialect_insert(conn, keys).values(**_claim_row(record)))
            return
        conn.execute(
            update(keys)
            .where(and_(keys.c.scope == record.scope, keys.c.key == record.key))
            .values(**_claim_row(record), status=None, headers=None, body=None)
        )


def _claim_row(record: IdempotencyRecord) -> dict[str, Any]:
    return {
        "scope": record.scope,
        "key": record.key,
        "method": record.method,
        "path": record.path,
        "request_hash": record.request_hash,
        "created_at": record.created_at,
    }


def _record(row: Any) -> IdempotencyRecord:
    response = None
    if row["status"] is not None:
        response = StoredResponse(
            status=row["status"],
            headers=tuple((str(n), str(v)) for n, v in row["headers"] or ()),
            body=bytes(row["body"] or b""),
        )
    return IdempotencyRecord(
        scope=row["scope"],
        key=row["key"],
        method=row["method"],
        path=row["path"],
        request_hash=row["request_hash"],
        created_at=row["created_at"],
        response=response,
    )
