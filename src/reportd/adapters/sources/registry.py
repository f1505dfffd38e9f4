"""Sources by URL scheme: each engine through its fastest Arrow-native driver.

| URL | driver |
| --- | --- |
| ``duckdb:///path`` (``duckdb://``: in memory) | DuckDB itself |
| ``postgresql://`` / ``postgres://`` | ADBC (binary COPY into Arrow) |
| ``sqlite:///path`` | ADBC SQLite |
| ``mysql://`` / ``mariadb://`` | connectorx (Arrow stream) |
| any other SQLAlchemy URL, or one naming a driver (``postgresql+psycopg://``) | SQLAlchemy |

A URL that names a SQLAlchemy driver (``dialect+driver://``) keeps the SQLAlchemy path: the
explicit way to opt out of the native driver.
"""

from __future__ import annotations

from pathlib import Path

from reportd.adapters.sources.base import Source
from reportd.domain.errors import ValidationError

_NATIVE = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "postgresql+adbc": "postgres",
    "sqlite": "sqlite",
    "sqlite+adbc": "sqlite",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mysql+connectorx": "mysql",
}


def build_source(
    name: str,
    url: str,
    *,
    threads: int = 2,
    memory_limit: str = "512MB",
    temp_dir: Path | None = None,
) -> Source:
    """The source ``url`` names (see the module docstring); ``temp_dir``: where DuckDB spills."""
    if url.startswith("duckdb:"):
        from reportd.adapters.sources.duckdb import DuckDBSource

        rest = url.removeprefix("duckdb:").removeprefix("//")
        path = rest.removeprefix("/") if rest.startswith("/") else rest
        # duckdb:///rel/path -> "rel/path"; duckdb:////abs/path -> "/abs/path".
        file = Path(path) if path and path != ":memory:" else None
        return DuckDBSource(
            name, file, threads=threads, memory_limit=memory_limit, temp_dir=temp_dir
        )
    if "://" not in url:
        raise ValidationError(f"source {name!r}: {url!r} is not a URL")
    kind = _NATIVE.get(url.split("://", 1)[0].lower())
    if kind == "postgres":
        from reportd.adapters.sources.postgres import PostgresSource

        return PostgresSource(name, url)
    if kind == "sqlite":
        from reportd.adapters.sources.sqlite import SqliteSource

        return SqliteSource(name, url)
    if kind == "mysql":
        from reportd.adapters.sources.mysql import MysqlSource

        return MysqlSource(name, url)
    from reportd.adapters.sources.sql import SQLAlchemySource

    return SQLAlchemySource(name, url)
