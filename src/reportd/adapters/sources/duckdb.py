"""DuckDB files (and the Parquet/CSV files their queries name) as a source.

One read-only connection per source; each query gets its own cursor because a reader
left unfinished blocks other queries on the same cursor (DuckDB 2.0). Threads and memory
are capped per connection so several reports can run side by side.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from reportd.adapters.sources.base import BatchStream, Source, bind_named
from reportd.domain.errors import SourceError
from reportd.domain.formats import FieldType
from reportd.domain.sqltext import to_dollar_style


class DuckDBSource(Source):
    def __init__(
        self,
        name: str,
        path: Path | None,
        *,
        threads: int = 2,
        memory_limit: str = "512MB",
        temp_dir: Path | None = None,
    ) -> None:
        super().__init__(name)
        self.path = path
        self.threads = threads
        self.memory_limit = memory_limit
        # Where work larger than memory_limit spills (a read-only file has no .tmp of its
        # own): the process' scratch folder (reportd.adapters.scratch) when it has one.
        self.temp_dir = temp_dir or Path(tempfile.gettempdir()) / f"reportd-duckdb-{os.getpid()}"
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                self._con = self._open()
            return self._con

    def _open(self) -> duckdb.DuckDBPyConnection:
        config: dict[str, str | bool | int | float | list[str]] = {
            "threads": self.threads,
            "memory_limit": self.memory_limit,
            "temp_directory": str(self.temp_dir / self.name),
        }
        try:
            if self.path is None:
                return duckdb.connect(":memory:", config=config)
            if not self.path.exists():
                raise SourceError(f"source {self.name!r}: file {self.path} does not exist")
            return duckdb.connect(str(self.path), read_only=True, config=config)
        except duckdb.Error as exc:
            raise SourceError(f"source {self.name!r} cannot be opened: {exc}") from exc

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self._connection().cursor()

    def stream(
        self,
        sql: str,
        params: Mapping[str, object],
        *,
        batch_size: int,
        types: Mapping[str, FieldType] | None = None,
    ) -> BatchStream:
        return DuckDBStream(self, sql, params, batch_size)

    def columns(self, sql: str, params: Mapping[str, object]) -> list[str]:
        cursor = self.cursor()
        try:
            relation = cursor.sql(to_dollar_style(sql), params=bind_named(sql, params) or None)
            return list(relation.columns)
        except duckdb.Error as exc:
            raise SourceError(f"query failed on source {self.name!r}: {exc}") from exc
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


class DuckDBStream(BatchStream):
    def __init__(
        self, source: DuckDBSource, sql: str, params: Mapping[str, object], batch_size: int
    ) -> None:
        self._source = source
        self._sql = to_dollar_style(sql)
        self._params = bind_named(sql, params) or None
        self._batch_size = batch_size
        self._cursor = source.cursor()
        self._interrupted = False

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            relation = self._cursor.sql(self._sql, params=self._params)
            reader = relation.to_arrow_reader(self._batch_size)
            yield from reader
        except duckdb.InterruptException as exc:
            raise SourceError("the query was interrupted") from exc
        except (duckdb.Error, OSError) as exc:
            # An interrupted Arrow reader raises a bare OSError ("INTERRUPT Error").
            if self._interrupted:
                raise SourceError("the query was interrupted") from exc
            raise SourceError(f"query failed on source {self._source.name!r}: {exc}") from exc

    def count(self) -> int | None:
        cursor = self._source.cursor()
        try:
            counted = cursor.sql(
                f"SELECT count(*) FROM ({self._sql}) AS _c", params=self._params
            ).fetchall()
            return int(counted[0][0]) if counted else None
        except duckdb.Error:
            return None
        finally:
            cursor.close()

    def interrupt(self) -> None:
        self._interrupted = True
        self._cursor.interrupt()

    def close(self) -> None:
        self._cursor.close()
