"""Dialect fixtures: each seed's documented requests against a real server process.

``backend_database`` runs a test module once on SQLite (None: the server's own file) and once on
a fresh PostgreSQL database; each module starts the server and writes the small world it needs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import create_pg_database, drop_pg_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite (the server's default file), else a fresh PostgreSQL database URL."""
    if request.param == "sqlite":
        yield None
        return
    request.getfixturevalue("postgres_server")
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)
