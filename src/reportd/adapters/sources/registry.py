"""Sources by URL scheme."""

from __future__ import annotations

from pathlib import Path

from reportd.adapters.sources.base import Source
from reportd.domain.errors import ValidationError


def build_source(name: str, url: str, *, threads: int = 2, memory_limit: str = "512MB") -> Source:
    """``duckdb:///path`` (``duckdb://`` alone: in memory) or any SQLAlchemy URL."""
    if url.startswith("duckdb:"):
        from reportd.adapters.sources.duckdb import DuckDBSource

        rest = url.removeprefix("duckdb:").removeprefix("//")
        path = rest.removeprefix("/") if rest.startswith("/") else rest
        # duckdb:///rel/path -> "rel/path"; duckdb:////abs/path -> "/abs/path".
        file = Path(path) if path and path != ":memory:" else None
        return DuckDBSource(name, file, threads=threads, memory_limit=memory_limit)
    if "://" not in url:
        raise ValidationError(f"source {name!r}: {url!r} is not a URL")
    from reportd.adapters.sources.sql import SQLAlchemySource

    return SQLAlchemySource(name, url)
