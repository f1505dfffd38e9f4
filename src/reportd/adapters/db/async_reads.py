"""The API's hot reads on the event loop: a report with its artifacts, an API key, in ONE
statement each, over an async driver (asyncpg on PostgreSQL, aiosqlite on SQLite).

Why not the SQLAlchemy store: every call there is a thread hop (blocking driver) and four
statements (BEGIN, the report, its artifacts, COMMIT); the polling route is the one clients
hit most (docs/performance.md). Here the artifacts come back inside the report's row as a JSON
aggregate, the statement is prepared once per connection, and reads run in autocommit.
The rows become the same domain records as the sync store's (``rows.report_of``), which the
contract test in tests/integration/test_async_reads.py holds both to.

It also tells the API when a remembered key may have changed (``auth_version``): revoking a
key or changing a tenant's features bumps ``auth_state.version`` in the same transaction
(``auth_version.bump_auth_version``). On PostgreSQL that transaction also NOTIFYs
``reportd_auth``, which a LISTEN connection here turns into a new local version at once; on
SQLite the version is read from the table on every call (microseconds, on the loop, no
thread). ``None`` means "unknown right now" (the listener is reconnecting): remember nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson
from sqlalchemy.engine import make_url

from reportd.adapters.db.auth_version import AUTH_CHANNEL
from reportd.adapters.db.rows import delivery_of, ordered, report_of
from reportd.adapters.db.schema import artifacts, report_deliveries, reports
from reportd.domain.errors import DatabaseUnavailable, ReportNotFound
from reportd.domain.formats import Format, Packaging
from reportd.domain.models import ApiKey, Artifact, Report, Tenant

log = logging.getLogger("reportd.adapters.db.async_reads")

# Every column of the two tables (schema.py), so a migration that adds one needs no edit here.
_REPORT_COLUMNS = tuple(c.name for c in reports.columns)
_ARTIFACT_FIELDS = tuple(c.name for c in artifacts.columns if c.name not in ("id", "report_id"))
_DELIVERY_FIELDS = tuple(c.name for c in report_deliveries.columns if "lease" not in c.name)
_JSON_COLUMNS = ("options", "fields", "order_by", "formats", "destinations")
_TIME_COLUMNS = ("created_at", "started_at", "finished_at", "expires_at", "scheduled_for")
_KEY_COLUMNS = (
    "k.id, k.tenant_id, k.name, k.scopes, k.key_hash, k.created_at, k.revoked_at, "
    "t.name AS tenant_name, t.features"
)
_SQLITE_OUTAGES = ("database is locked", "unable to open database", "disk I/O error")
RECONNECT_FIRST, RECONNECT_MAX = 0.2, 5.0


_UNAVAILABLE_CLASSES = frozenset({"08", "28", "3D", "53", "57"})


def _pg_report_sql() -> str:
    pairs = ", ".join(f"'{f}', a.{f}" for f in _ARTIFACT_FIELDS)
    deliveries = ", ".join(f"'{f}', d.{f}" for f in _DELIVERY_FIELDS)
    return (
        f"SELECT {', '.join(f'r.{c}' for c in _REPORT_COLUMNS)}, "
        f"(SELECT coalesce(json_agg(json_build_object({pairs}) ORDER BY a.id), '[]') "
        "FROM artifacts a WHERE a.report_id = r.id) AS artifacts, "
        f"(SELECT coalesce(json_agg(json_build_object({deliveries})), '[]') "
        "FROM report_deliveries d WHERE d.report_id = r.id) AS deliveries "
        "FROM reports r WHERE r.id = $1 AND r.tenant_id = $2"
    )


def _sqlite_report_sql() -> str:
    pairs = ", ".join(f"'{f}', a.{f}" for f in _ARTIFACT_FIELDS)
    deliveries = ", ".join(f"'{f}', d.{f}" for f in _DELIVERY_FIELDS)
    return (
        f"SELECT {', '.join(f'r.{c}' for c in _REPORT_COLUMNS)}, "
        f"(SELECT coalesce(json_group_array(json_object({pairs})), '[]') FROM "
        "(SELECT * FROM artifacts WHERE report_id = r.id ORDER BY id) a) AS artifacts, "
        f"(SELECT coalesce(json_group_array(json_object({deliveries})), '[]') "
        "FROM report_deliveries d WHERE d.report_id = r.id) AS deliveries "
        "FROM reports r WHERE r.id = ? AND r.tenant_id = ?"
    )


_KEY_SQL = (
    f"SELECT {_KEY_COLUMNS} FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
    "WHERE k.key_hash = {p} AND k.revoked_at IS NULL"
)


def _utc(value: Any) -> datetime | None:
    """A stored timestamp as aware UTC: SQLite keeps naive text, PostgreSQL timestamptz."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def report_from(row: Any) -> Report:
    """One row of the report statement (either dialect) as the domain record."""
    data = dict(row)
    for column in _JSON_COLUMNS:
        data[column] = _json(data[column])
    for column in _TIME_COLUMNS:
        data[column] = _utc(data[column])
    report = report_of(data)
    found = tuple(_artifact(report.id, a) for a in _json(data["artifacts"]))
    deliveries = {}
    for item in _json(data["deliveries"]):
        for column in ("next_attempt_at", "delivered_at", "created_at"):
            item[column] = _utc(item[column])
        deliveries[item["destination_id"]] = delivery_of(item)
    return report.evolve(artifacts=found, deliveries=ordered(report, deliveries))


def _artifact(report_id: str, item: dict[str, Any]) -> Artifact:
    return Artifact(
        report_id=report_id,
        format=Format(item["format"]),
        packaging=Packaging(item["packaging"]),
        filename=item["filename"],
        mime_type=item["mime_type"],
        size=int(item["size"]),
        sha256=item["sha256"],
        storage_key=item["storage_key"],
        part=item["part"],
        rows=int(item["rows"]),
        zip_password=item["zip_password"],
        created_at=_utc(item["created_at"]),
    )


def key_from(row: Any) -> tuple[ApiKey, Tenant]:
    key = ApiKey(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        scopes=frozenset(_json(row["scopes"])),
        key_hash=row["key_hash"],
        created_at=_utc(row["created_at"]),
        revoked_at=_utc(row["revoked_at"]),
    )
    tenant = Tenant(
        id=row["tenant_id"], name=row["tenant_name"], features=frozenset(_json(row["features"]))
    )
    return key, tenant


class PostgresReads:
    """asyncpg: a small pool for the reads, one LISTEN connection for key changes."""

    def __init__(self, dsn: str, *, pool_size: int = 10) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        self._pool: Any = None
        self._version = 0
        self._listening = False
        self._listener: asyncio.Task[None] | None = None
        self._report_sql = _pg_report_sql()
        self._key_sql = _KEY_SQL.format(p="$1")

    async def open(self) -> None:
        import asyncpg

        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=1, max_size=self.pool_size, command_timeout=30
        )
        self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._pool is not None:
            await self._pool.close()

    async def get_report(self, report_id: str, tenant_id: str) -> Report:
        row = await self._fetchrow(self._report_sql, report_id, tenant_id)
        if row is None:
            raise ReportNotFound(f"report {report_id!r} not found")
        return report_from(row)

    async def find_key(self, key_hash: str) -> tuple[ApiKey, Tenant] | None:
        row = await self._fetchrow(self._key_sql, key_hash)
        return None if row is None else key_from(row)

    async def auth_version(self) -> int | None:
        return self._version if self._listening else None

    async def _fetchrow(self, sql: str, *args: Any) -> Any:
        import asyncpg

        try:
            return await self._pool.fetchrow(sql, *args)
        except (
            OSError,
            asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError,
            # A pooled connection whose last operation the going server never finished:
            # "cannot switch to state 12; another operation is in progress" (seen mid-restart).
            asyncpg.InternalClientError,
        ) as exc:
            raise DatabaseUnavailable("the metadata database is unavailable; retry") from exc
        except asyncpg.PostgresError as exc:
            # The server answers but will not serve: the database is gone (3D000), the role is
            # refused (28xxx), it is shutting down (57P0x) or out of connections (53xxx).
            if str(getattr(exc, "sqlstate", "") or "")[:2] in _UNAVAILABLE_CLASSES:
                raise DatabaseUnavailable("the metadata database is unavailable; retry") from exc
            raise

    async def _listen(self) -> None:
        """Hold a LISTEN connection; every NOTIFY, and every reconnect, is a new version."""
        import asyncpg

        delay = RECONNECT_FIRST
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=5)
                lost = asyncio.Event()
                conn.add_termination_listener(partial(_set, lost))
                await conn.add_listener(AUTH_CHANNEL, self._notified)
                self._version += 1  # whatever changed while nobody listened
                self._listening, delay = True, RECONNECT_FIRST
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: remember nothing until back
                log.warning("auth listener: %s; retrying in %.1f s", exc, delay)
            finally:
                self._listening = False
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(delay)
            delay = min(RECONNECT_MAX, delay * 2)

    def _notified(self, *_args: Any) -> None:
        self._version += 1


def _set(event: asyncio.Event, *_args: Any) -> None:
    event.set()


class SqliteReads:
    """aiosqlite for the reads (its own thread, one hop per statement, WAL so never blocked
    by the writer); a plain sqlite3 connection for the version, read on the loop."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: Any = None
        self._version_conn: sqlite3.Connection | None = None
        self._report_sql = _sqlite_report_sql()
        self._key_sql = _KEY_SQL.format(p="?")

    async def open(self) -> None:
        import aiosqlite

        self._conn = await aiosqlite.connect(self.path, timeout=5)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA query_only = ON")
        self._version_conn = sqlite3.connect(self.path, timeout=0.05, check_same_thread=False)
        self._version_conn.execute("PRAGMA query_only = ON")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
        if self._version_conn is not None:
            self._version_conn.close()

    async def get_report(self, report_id: str, tenant_id: str) -> Report:
        row = await self._fetchrow(self._report_sql, (report_id, tenant_id))
        if row is None:
            raise ReportNotFound(f"report {report_id!r} not found")
        return report_from(row)

    async def find_key(self, key_hash: str) -> tuple[ApiKey, Tenant] | None:
        row = await self._fetchrow(self._key_sql, (key_hash,))
        return None if row is None else key_from(row)

    async def auth_version(self) -> int | None:
        if self._version_conn is None:
            return None
        try:
            found = self._version_conn.execute(
                "SELECT version FROM auth_state WHERE id = 1"
            ).fetchone()
        except sqlite3.Error:  # locked or gone for a moment: remember nothing this time
            return None
        return int(found[0]) if found else None

    async def _fetchrow(self, sql: str, args: tuple[Any, ...]) -> Any:
        # One hop that runs the statement to its end: an execute and a fetch as two hops let
        # another read run between them inside the first one's still-open read transaction,
        # on its older snapshot (a report created a moment ago was "not found").
        try:
            rows = await self._conn.execute_fetchall(sql, args)
        except sqlite3.OperationalError as exc:
            if any(text in str(exc) for text in _SQLITE_OUTAGES):  # not a schema mistake
                raise DatabaseUnavailable("the metadata database is unavailable; retry") from exc
            raise
        return next(iter(rows), None)


AsyncReads = PostgresReads | SqliteReads


def async_reads_for(url: str, *, pool_size: int = 10) -> AsyncReads:
    """The async reader for the metadata database at ``url`` (a SQLAlchemy URL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("async reads need a SQLite file, not an in-memory database")
        return SqliteReads(parsed.database)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresReads(dsn, pool_size=pool_size)
