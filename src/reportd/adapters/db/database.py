"""Engines for SQLite (WAL, one writer) and PostgreSQL (psycopg 3), and migrations.

This is also the one place where a database that cannot be reached becomes a domain error:
every engine made here turns SQLAlchemy's connection-level errors into ``DatabaseUnavailable``
(503 ``unavailable``), so the API and the worker never see a driver exception for an outage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from reportd.domain.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_SQLITE_WRITE = "reportd_sqlite_write"
_SQLITE_OUTAGES = ("database is locked", "unable to open database", "disk I/O error")
QUEUE_CHANNEL = "reportd_queue"  # NOTIFY'd on PostgreSQL whenever a report becomes claimable


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine tuned per backend; no connection is opened until first use."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800
    )
    event.listen(engine, "handle_error", _unavailable)
    return engine


def _unavailable(context: ExceptionContext) -> None:
    """Connection-level failures become ``DatabaseUnavailable``; other errors pass through.

    A failed pre-ping is left alone: the pool handles it by reconnecting. SQLAlchemy still
    invalidates the dead connection (and the pool's older ones) after this hook raises, so
    the next checkout reconnects once the database is back.
    """
    if not context.is_pre_ping and _is_outage(context):
        raise DatabaseUnavailable("the metadata database is unavailable; retry shortly")


def _is_outage(context: ExceptionContext) -> bool:
    if context.is_disconnect:
        return True
    error = context.sqlalchemy_exception
    if context.dialect.name == "sqlite":  # sqlite3 also calls syntax errors "operational"
        text = str(context.original_exception)
        return isinstance(error, OperationalError) and any(s in text for s in _SQLITE_OUTAGES)
    return isinstance(error, OperationalError | InterfaceError)


def notify_queue(conn: Connection) -> None:
    """Wake listening workers when this transaction commits (PostgreSQL only; a no-op else).

    NOTIFY is transactional: it is delivered on commit, so a worker never wakes before the
    report it is told about is visible.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {QUEUE_CHANNEL}")


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20, max_overflow=20
    )
    event.listen(engine, "handle_error", _unavailable)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so writes can BEGIN IMMEDIATE:
        # a deferred transaction that later writes can fail with "database is locked".
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # LIKE (the filters' co/sw/ew) case-sensitive, as on PostgreSQL and in every source.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_SQLITE_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it takes the write lock up front."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{_SQLITE_WRITE: True})
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def alembic_config() -> Config:
    from alembic.config import Config  # only commands that migrate pay for importing alembic

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run from many processes at start-up."""
    from alembic import command

    cfg = alembic_config()
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def is_migrated(engine: Engine) -> bool:
    with engine.connect() as conn:
        return inspect(conn).has_table("alembic_version")
