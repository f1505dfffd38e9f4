"""MySQL and MariaDB (``mysql://user:pass@host:port/db``) through connectorx's Arrow stream.

Why connectorx: its Rust reader decodes MySQL's wire protocol straight into Arrow record
batches and streams them (``return_type="arrow_stream"``). Measured on 2M rows x 8 columns
(docs/performance.md): connectorx used 4.4 s of CPU for the whole export to CSV, mysqlclient's
server-side cursor (``SSCursor``, raw bytes, no Python converters) into Arrow 6.8 s, and
PyMySQL, pure Python, several times more; there is no ADBC MySQL driver on PyPI.

Parameters: MySQL's text protocol has no bound parameters, and every DB-API driver for it
(mysqlclient, PyMySQL) binds ``%s`` by inlining escaped literals on the client. connectorx
takes only SQL text, so reportd inlines them the same way, in forms that no value can break
out of whatever the server's ``sql_mode``: strings (and JSON) as hex literals with a charset
introducer (``_utf8mb4 X'e284a2'``), numbers from Python's own ``int``/``Decimal``/``float``
text, dates from ``isoformat``, booleans as TRUE/FALSE. Nothing a caller sends is ever
pasted into SQL as text.

Quoting: reportd's outer query is standard SQL (``"column"`` identifiers, ``'\\'`` meaning one
backslash). connectorx reads the result's types on a connection of its own, where a session
``sql_mode`` set beforehand does not apply, so the text is translated instead: double-quoted
identifiers become backquoted ones and backslashes in string literals are doubled. Template
queries on MySQL sources are therefore written with standard quoting too (``'text'`` strings,
``"name"`` or backquoted identifiers).

connectorx holds the GIL while it waits on the server, so it runs in a child process that
streams Arrow IPC back (mysql_reader.py); this process only reads the stream. Cancel: the
query carries a unique comment; ``interrupt`` finds it in the process list from a second
connection (PyMySQL), ``KILL QUERY``s it, and ends the child.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import unquote, urlsplit, urlunsplit

import pyarrow as pa

from reportd.adapters.sources.base import BatchStream, Source, bind_named, strip_statement_end
from reportd.domain.errors import SourceError, ValidationError
from reportd.domain.formats import FieldType
from reportd.domain.sqltext import rewrite_placeholders

# Comments, string literals, quoted identifiers, backquoted identifiers, anything else.
_TOKEN_RE: Final = re.compile(
    r"""--[^\n]*|/\*.*?(?:\*/|\Z)|'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|[^'"`/-]+|.""",
    re.DOTALL,
)


def mysql_quoting(sql: str) -> str:
    """Standard SQL quoting as MySQL reads it in its default ``sql_mode``."""
    out: list[str] = []
    for match in _TOKEN_RE.finditer(sql):
        token = match.group()
        if token.startswith('"') and len(token) > 1 and token.endswith('"'):
            name = token[1:-1].replace('""', '"')
            token = "`" + name.replace("`", "``") + "`"
        elif token.startswith("'") and "\\" in token:
            token = token.replace("\\", "\\\\")
        out.append(token)
    return "".join(out)


def connectorx_url(url: str) -> str:
    """``mysql://``, ``mariadb://`` and ``mysql+connectorx://`` as connectorx's ``mysql://``."""
    parts = urlsplit(url)
    return urlunsplit(("mysql", parts.netloc, parts.path, parts.query, parts.fragment))


def literal(value: object) -> str:
    """``value`` as a MySQL literal that cannot end early, whatever it holds."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"parameter value {value!r} is not a finite number")
        return repr(float(value))
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValidationError(f"parameter value {value!r} is not a finite number")
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return f"'{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date | dt.time):
        return f"'{value.isoformat()}'"
    text = json.dumps(value) if isinstance(value, list | dict) else str(value)
    if not text:
        return "''"
    return f"_utf8mb4 X'{text.encode().hex()}'"


def inline(sql: str, params: Mapping[str, object]) -> str:
    """``sql`` with each ``:name`` replaced by ``literal(value)``."""
    bound = bind_named(sql, params)
    return mysql_quoting(rewrite_placeholders(sql, lambda name: literal(bound[name])))


class MysqlSource(Source):
    def __init__(self, name: str, url: str) -> None:
        super().__init__(name)
        self.url = connectorx_url(url)
        parts = urlsplit(self.url)
        self._control = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 3306,
            "user": unquote(parts.username or "root"),
            "password": unquote(parts.password or ""),
            "database": parts.path.lstrip("/") or None,
        }

    def control_connection(self) -> Any:
        """A small PyMySQL connection for what connectorx cannot do (cancel, reachability)."""
        import pymysql

        try:
            return pymysql.connect(**self._control, connect_timeout=5, autocommit=True)
        except pymysql.Error as exc:
            raise SourceError(f"source {self.name!r} cannot be reached: {exc}") from exc

    def stream(
        self,
        sql: str,
        params: Mapping[str, object],
        *,
        batch_size: int,
        types: Mapping[str, FieldType] | None = None,
    ) -> BatchStream:
        return MysqlStream(self, inline(sql, params), batch_size)

    def columns(self, sql: str, params: Mapping[str, object]) -> list[str]:
        wrapped = f"SELECT * FROM ({strip_statement_end(sql)}) AS _c LIMIT 0"
        stream = MysqlStream(self, inline(wrapped, params), 16)
        try:
            for _ in stream:
                pass
            return stream.names
        finally:
            stream.close()

    def check(self) -> None:
        self.control_connection().close()


class MysqlStream(BatchStream):
    """One query, read by connectorx in a child process (see mysql_reader.py for why)."""

    def __init__(self, source: MysqlSource, sql: str, batch_size: int) -> None:
        self._source = source
        self._tag = f"reportd:{uuid.uuid4().hex}"
        self._sql = f"/* {self._tag} */ {strip_statement_end(sql)}"
        self._batch_size = batch_size
        self._interrupted = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._done = False
        self.names: list[str] = []

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        process = self._start()
        assert process.stdout is not None
        try:
            reader = pa.ipc.open_stream(process.stdout)
            self.names = list(reader.schema.names)
            for batch in reader:
                if self._interrupted.is_set():
                    raise SourceError("the query was interrupted")
                yield exact_decimals(batch)
        except SourceError:
            raise
        except (pa.ArrowException, OSError) as exc:
            raise self._failure() from exc
        if process.wait() != 0:
            raise self._failure()
        self._done = True

    def _start(self) -> subprocess.Popen[bytes]:
        request = {"url": self._source.url, "sql": self._sql, "batch_size": self._batch_size}
        process = subprocess.Popen(
            [sys.executable, "-m", "reportd.adapters.sources.mysql_reader"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        with self._lock:
            self._process = process
        assert process.stdin is not None
        process.stdin.write(json.dumps(request).encode())
        process.stdin.close()
        return process

    def _failure(self) -> SourceError:
        process = self._process
        message = ""
        if process is not None and process.stderr is not None:
            process.wait()
            message = process.stderr.read().decode(errors="replace").strip()
        if self._interrupted.is_set():
            return SourceError("the query was interrupted")
        return SourceError(f"query failed on source {self._source.name!r}: {message}")

    def interrupt(self) -> None:
        self._interrupted.set()
        threading.Thread(target=self._stop, name="reportd-mysql-stop", daemon=True).start()

    def _stop(self) -> None:
        """End the server's query, then the reading process."""
        self._kill_query()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    def _kill_query(self) -> None:
        try:
            conn = self._source.control_connection()
        except SourceError:
            return
        try:
            with conn.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM information_schema.processlist "
                    "WHERE info LIKE %s AND id <> CONNECTION_ID()",
                    (f"%{self._tag}%",),
                )
                for (thread_id,) in cursor.fetchall():
                    cursor.execute(f"KILL QUERY {int(thread_id)}")
        except Exception:  # noqa: S110 - the query may have ended meanwhile
            pass
        finally:
            conn.close()

    def close(self) -> None:
        """A stream left before its end still runs on the server: stop it there."""
        with self._lock:
            process = self._process
        if process is None:
            return
        if not self._done and process.poll() is None:
            self._interrupted.set()
            self._stop()
        process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


# connectorx reads every DECIMAL(p, s) as decimal128(38, 10), whatever p and s.
_CONNECTORX_DECIMAL: Final = pa.decimal128(38, 10)


def exact_decimals(batch: pa.RecordBatch) -> pa.RecordBatch:
    """DECIMAL columns as their exact text, without the padding connectorx's scale 10 adds.

    ``1.50`` comes back as ``1.5000000000``; as text ``1.5``, which a decimal field with a
    declared ``scale`` reads back exactly and one without keeps as is.
    """
    if not any(t == _CONNECTORX_DECIMAL for t in batch.schema.types):
        return batch
    columns = [
        _trimmed(column) if column.type == _CONNECTORX_DECIMAL else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _trimmed(column: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    text = pc.cast(column, pa.string())
    return pc.replace_substring_regex(text, r"\.?0+$", "")


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
