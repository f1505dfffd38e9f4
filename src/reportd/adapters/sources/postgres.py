"""PostgreSQL through ADBC: ``COPY (query) TO STDOUT (FORMAT binary)`` decoded into Arrow.

Why ADBC: libpq's binary COPY decoded in C++ runs at ``psql \\copy`` speed, where fetching
rows through a DB-API driver and building columns in Python was 5-8x slower.

Why parameters take a detour: ADBC uses COPY only for a statement without bound parameters;
with them it runs an extended-protocol query whose whole result libpq holds in memory (719 MB
for 2M rows, measured). So the values are bound, as real parameters, into session settings
(``SELECT set_config('reportd.p1', $1, false)``), and the query reads them back with
``CAST(current_setting('reportd.p1') AS <type>)``: no value is ever spliced into SQL text, and
the query itself has no parameters, so COPY streams it. The type of each cast is the one
PostgreSQL infers for the placeholder (``PREPARE`` + ``pg_prepared_statements``), so a string
compared with a timestamp column is read as a timestamp, exactly as a bound parameter would be.
``current_setting`` is STABLE, so indexes stay usable.

A stream owns one connection; ``interrupt`` calls ADBC's statement cancel (thread-safe, it
sends PostgreSQL's cancel request), which ends a running COPY at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa

from reportd.adapters.sources.base import BatchStream, Source, numbered, strip_statement_end
from reportd.domain.errors import SourceError
from reportd.domain.formats import FieldType
from reportd.domain.sqltext import rewrite_placeholders

# ADBC's batches are cut by bytes, not rows: about this many per batch keeps a batch of
# 65k narrow rows whole and a batch of wide rows small.
BATCH_BYTES = 8 * 1024 * 1024
_SETTING = "reportd.p{}"


def adbc_uri(url: str) -> str:
    """A libpq URI from a reportd source URL (``postgresql+adbc://`` and ``postgres://`` too)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


class PostgresSource(Source):
    def __init__(self, name: str, url: str) -> None:
        super().__init__(name)
        self.uri = adbc_uri(url)

    def connect(self) -> Any:
        """A new ADBC connection in autocommit mode (each stream has its own)."""
        try:
            import adbc_driver_postgresql.dbapi as adbc_pg
        except ImportError as exc:  # pragma: no cover - a runtime dependency
            raise SourceError("PostgreSQL sources need adbc-driver-postgresql") from exc
        try:
            return adbc_pg.connect(self.uri, autocommit=True)
        except Exception as exc:
            raise SourceError(f"source {self.name!r} cannot be reached: {_message(exc)}") from exc

    def stream(
        self,
        sql: str,
        params: Mapping[str, object],
        *,
        batch_size: int,
        types: Mapping[str, FieldType] | None = None,
    ) -> BatchStream:
        return PostgresStream(self, sql, params)

    def columns(self, sql: str, params: Mapping[str, object]) -> list[str]:
        wrapped = f"SELECT * FROM ({strip_statement_end(sql)}) AS _c LIMIT 0"
        stream = PostgresStream(self, wrapped, params)
        try:
            for batch in stream:
                return list(batch.schema.names)
            return list(stream.schema.names) if stream.schema is not None else []
        finally:
            stream.close()


class PostgresStream(BatchStream):
    def __init__(self, source: PostgresSource, sql: str, params: Mapping[str, object]) -> None:
        self._source = source
        self._named = sql
        self._sql, self._values = numbered(sql, params, "$")
        self._lock = threading.Lock()
        self._conn: Any = None
        self._cursor: Any = None
        self._interrupted = False
        self.schema: pa.Schema | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        conn = self._source.connect()
        with self._lock:
            self._conn = conn
            self._cursor = conn.cursor()
        try:
            query = self._bind(self._cursor)
            self._cursor.adbc_statement.set_options(
                **{"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)}
            )
            self._cursor.execute(query)
            reader = self._cursor.fetch_record_batch()
            self.schema = reader.schema
            yield from reader
        except Exception as exc:
            if isinstance(exc, SourceError):
                raise
            if self._interrupted:
                raise SourceError("the query was interrupted") from exc
            raise SourceError(
                f"query failed on source {self._source.name!r}: {_message(exc)}"
            ) from exc

    def _bind(self, cursor: Any) -> str:
        """The query with its placeholders read from session settings bound just now."""
        if not self._values:
            return self._sql
        types = _parameter_types(cursor, self._sql, self._values)
        settings = ", ".join(
            f"set_config('{_SETTING.format(i)}', ${i}, false)"
            for i in range(1, len(self._values) + 1)
        )
        cursor.execute(f"SELECT {settings}", parameters=[_text(v) for v in self._values])
        cursor.fetchall()
        return _read_settings(self._named, types, self._values)

    def interrupt(self) -> None:
        with self._lock:
            self._interrupted = True
            cursor = self._cursor
        if cursor is not None:
            with contextlib.suppress(Exception):  # nothing running to cancel
                cursor.adbc_cancel()

    def close(self) -> None:
        with self._lock:
            cursor, conn = self._cursor, self._conn
            self._cursor = self._conn = None
        for closable in (cursor, conn):
            if closable is not None:
                with contextlib.suppress(Exception):  # closing a connection that already broke
                    closable.close()


def _parameter_types(cursor: Any, sql: str, values: list[object]) -> list[str]:
    """The types PostgreSQL infers for ``$1..$n`` in ``sql``, as SQL type names.

    Where it cannot infer one (``$1 IS NOT NULL``), each takes its Python value's type, as
    a DB-API driver would send it.
    """
    try:
        cursor.execute(f"PREPARE reportd_types AS {sql}")
    except Exception as exc:
        if "42P18" not in str(exc):  # could not determine data type of parameter
            raise
        declared = ", ".join(_python_type(v) for v in values)
        cursor.execute(f"PREPARE reportd_types ({declared}) AS {sql}")
    try:
        cursor.execute(
            "SELECT parameter_types::text[] FROM pg_prepared_statements "
            "WHERE name = 'reportd_types'"
        )
        row = cursor.fetchone()
    finally:
        cursor.execute("DEALLOCATE reportd_types")
    found = list(row[0]) if row and row[0] else []
    return [name if name and name != "unknown" else "text" for name in found]


def _read_settings(sql: str, types: list[str], values: list[object]) -> str:
    """``:name`` -> ``CAST(current_setting('reportd.pN') AS type)``, numbered as ``numbered``.

    Rewritten from the named text (not from ``$N``) so that a ``$1`` inside a string literal
    or a dollar-quoted body is never touched.
    """
    order: dict[str, int] = {}

    def render(name: str) -> str:
        number = order.setdefault(name, len(order) + 1)
        kind = types[number - 1] if number <= len(types) else "text"
        if values[number - 1] is None:
            return f"CAST(NULL AS {kind})"
        return f"CAST(current_setting('{_SETTING.format(number)}') AS {kind})"

    return rewrite_placeholders(sql, render)


def _python_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double precision"
    if isinstance(value, decimal.Decimal):
        return "numeric"
    if isinstance(value, dt.datetime):
        return "timestamptz" if value.tzinfo is not None else "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, list | dict):
        return "jsonb"
    return "text"


def _text(value: object) -> str | None:
    """A parameter as the text PostgreSQL's input function of its type reads."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _message(exc: BaseException) -> str:
    """A driver error as one readable line (ADBC appends SQLSTATE details)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
