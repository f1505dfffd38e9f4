"""The interface every data source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from reportd.domain.errors import SourceError
from reportd.domain.formats import FieldType
from reportd.domain.sqltext import placeholder_names, rewrite_placeholders


def bind_named(sql: str, params: Mapping[str, object]) -> dict[str, Any]:
    """The values of exactly the ``:name`` placeholders ``sql`` uses.

    DuckDB refuses parameters a query does not use, and a missing one is the operator's
    template bug: say which, before the database gives a vaguer error.
    """
    names = placeholder_names(sql)
    missing = names - set(params)
    if missing:
        raise SourceError(f"query parameters without a value: {sorted(missing)}")
    return {name: params[name] for name in names}


def numbered(sql: str, params: Mapping[str, object], mark: str) -> tuple[str, list[Any]]:
    """``:name`` placeholders as numbered ones (``$1`` / ``?1``), and the values in that order.

    A name used twice keeps one number, so each value is sent once. ``mark`` is the
    engine's prefix: ``$`` for PostgreSQL, ``?`` for SQLite.
    """
    bound = bind_named(sql, params)
    order: dict[str, int] = {}

    def render(name: str) -> str:
        number = order.setdefault(name, len(order) + 1)
        return f"{mark}{number}"

    rewritten = rewrite_placeholders(sql, render)
    return rewritten, [bound[name] for name in order]


def strip_statement_end(sql: str) -> str:
    """``sql`` without a trailing ``;`` so it can be wrapped as a subquery."""
    return sql.strip().rstrip(";")


class BatchStream(ABC):
    """One running query. ``interrupt`` may be called from another thread at any time."""

    @abstractmethod
    def __iter__(self) -> Iterator[pa.RecordBatch]: ...

    @abstractmethod
    def interrupt(self) -> None:
        """Stop the running query as soon as the engine allows."""

    @abstractmethod
    def close(self) -> None: ...

    def count(self) -> int | None:
        """The total row count when it is cheap to know (may block; call it off the hot path)."""
        return None

    def __enter__(self) -> BatchStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Source(ABC):
    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def stream(
        self,
        sql: str,
        params: Mapping[str, object],
        *,
        batch_size: int,
        types: Mapping[str, FieldType] | None = None,
    ) -> BatchStream:
        """Start ``sql`` (with ``:name`` placeholders) and stream its rows.

        ``types`` are the declared field types of the result's columns, for engines whose
        columns have no type of their own (SQLite): they may read a column accordingly.
        The batches are still cast to the report's schema afterwards.
        """

    @abstractmethod
    def columns(self, sql: str, params: Mapping[str, object]) -> list[str]:
        """The result's column names, without reading its rows (template validation)."""

    def check(self) -> None:
        """Raise when the source cannot be reached."""
        self.columns("SELECT 1 AS ok", {})

    def close(self) -> None:
        return None
