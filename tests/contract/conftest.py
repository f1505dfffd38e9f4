"""The store contract's one fixture: ``store``, the in-memory fake, SQLite and PostgreSQL.

Each database is created and migrated once per session (PostgreSQL through the machinery of
``tests/conftest.py``: missing in CI, it fails the run); every test then starts from empty
tables and fresh adapters, as the in-memory store starts empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from reportd.adapters.db import Store
from reportd.adapters.db.database import create_db_engine, migrate, write_transaction
from reportd.adapters.db.schema import metadata
from reportd.app import ports
from reportd.testing import InMemoryStore
from tests.conftest import create_pg_database, drop_pg_database

BACKENDS = ("memory", "sqlite", "postgresql")


def _migrated(url: str) -> Engine:
    engine = create_db_engine(url, pool_size=12)
    migrate(engine)
    return engine


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("contract") / "reportd.db"
    engine = _migrated(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine(postgres_server: str) -> Iterator[Engine]:
    url = create_pg_database("reportd_contract")
    engine = _migrated(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_pg_database(url)


def _empty(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> ports.Store:
    """An empty store of each kind; the same test must pass on all three."""
    if request.param == "memory":
        return InMemoryStore()
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    _empty(engine)
    return Store.over(engine)
