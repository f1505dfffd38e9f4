"""Any other SQLAlchemy URL as a source, streamed with a server-side cursor.

The native drivers (registry.py) serve PostgreSQL, SQLite and MySQL; this path serves the
rest, and URLs that name a driver. Each batch's columns are built without guessing across
values: JSON objects and arrays become JSON text, a column whose values Arrow cannot put in
one type becomes text, and the cast to the template's types decides the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from reportd.adapters.sources.base import BatchStream, Source, bind_named
from reportd.domain.errors import SourceError
from reportd.domain.formats import FieldType


class SQLAlchemySource(Source):
    def __init__(self, name: str, url: str) -> None:
        super().__init__(name)
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url, pool_pre_ping=True)
            if self.url.get_backend_name() == "sqlite":
                event.listen(self._engine, "connect", _case_sensitive_like)
        return self._engine

    def stream(
        self,
        sql: str,
        params: Mapping[str, object],
        *,
        batch_size: int,
        types: Mapping[str, FieldType] | None = None,
    ) -> BatchStream:
        return SQLAlchemyStream(self, sql, params, batch_size)

    def columns(self, sql: str, params: Mapping[str, object]) -> list[str]:
        try:
            with self.engine.connect() as conn:
                result = conn.execute(
                    text(f"SELECT * FROM ({_strip(sql)}) AS _c LIMIT 0"), bind_named(sql, params)
                )
                return list(result.keys())
        except SQLAlchemyError as exc:
            raise SourceError(f"query failed on source {self.name!r}: {exc}") from exc

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _case_sensitive_like(dbapi_connection: Any, _record: Any) -> None:
    """``co``/``sw``/``ew`` compile to LIKE: make SQLite agree with DuckDB and PostgreSQL."""
    dbapi_connection.execute("PRAGMA case_sensitive_like = ON")


def _strip(sql: str) -> str:
    return sql.strip().rstrip(";")


def column_array(values: Sequence[Any]) -> pa.Array:
    """One column of DB-API values as Arrow, never failing on mixed values."""
    if any(isinstance(v, dict | list | tuple) for v in values):
        return pa.array(
            [None if v is None else json.dumps(v, default=str) for v in values], pa.string()
        )
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


class SQLAlchemyStream(BatchStream):
    def __init__(
        self, source: SQLAlchemySource, sql: str, params: Mapping[str, object], batch_size: int
    ) -> None:
        self._source = source
        self._sql = sql
        self._params = bind_named(sql, params)
        self._batch_size = batch_size
        self._conn: Connection | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            self._conn = self._source.engine.connect()
            result = self._conn.execution_options(
                stream_results=True, max_row_buffer=self._batch_size
            ).execute(text(self._sql), self._params)
            names = list(result.keys())
            for rows in result.partitions(self._batch_size):
                columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
                arrays = [column_array(col) for col in columns]
                yield pa.RecordBatch.from_arrays(arrays, names=names)
        except SQLAlchemyError as exc:
            raise SourceError(f"query failed on source {self._source.name!r}: {exc}") from exc

    def interrupt(self) -> None:
        conn = self._conn
        if conn is None:
            return
        dbapi = conn.connection.dbapi_connection
        # psycopg: cancel() asks the server to stop the query; sqlite3: interrupt().
        for method in ("cancel", "interrupt"):
            stop = getattr(dbapi, method, None)
            if stop is not None:
                stop()
                return

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
