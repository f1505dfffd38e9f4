"""The interface every data source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from reportd.domain.errors import SourceError
from reportd.domain.sqltext import placeholder_names


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
    def stream(self, sql: str, params: Mapping[str, object], *, batch_size: int) -> BatchStream:
        """Start ``sql`` (with ``:name`` placeholders) and stream its rows."""

    @abstractmethod
    def columns(self, sql: str, params: Mapping[str, object]) -> list[str]:
        """The result's column names, without reading its rows (template validation)."""

    def check(self) -> None:
        """Raise when the source cannot be reached."""
        self.columns("SELECT 1 AS ok", {})

    def close(self) -> None:
        return None
