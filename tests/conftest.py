"""Shared fixtures: clean environment, real databases (SQLite file and the machine's PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

# Tests build their own settings; a developer's REPORTD_* variables must not leak in.
for _name in [n for n in os.environ if n.startswith("REPORTD_")]:
    del os.environ[_name]

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``-n N --dist loadgroup``: whole modules per worker, see ``tests/parallel.py``."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.parallel import UnitScheduling

    return UnitScheduling(config, log)


def _pg_admin_connect() -> object:
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The machine's PostgreSQL, or a loud failure in CI (never a silent skip there)."""
    try:
        conn = _pg_admin_connect()
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    conn.close()  # type: ignore[attr-defined]
    return PG_ADMIN_URL


def create_pg_database(prefix: str = "reportd_test") -> str:
    """A fresh, empty database; returns its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = _pg_admin_connect()
    try:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    finally:
        conn.close()  # type: ignore[attr-defined]
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = _pg_admin_connect()
    try:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
    finally:
        conn.close()  # type: ignore[attr-defined]


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """The same test on the embedded SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/reportd.db"
        return
    request.getfixturevalue("postgres_server")
    url = create_pg_database()
    yield url
    drop_pg_database(url)


MYSQL_ADMIN = {
    "host": os.environ.get("TEST_MYSQL_HOST", "127.0.0.1"),
    "port": int(os.environ.get("TEST_MYSQL_PORT", "3306")),
    "user": os.environ.get("TEST_MYSQL_USER", "root"),
}


def _mysql_admin_connect() -> object:
    import pymysql

    return pymysql.connect(**MYSQL_ADMIN, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def mariadb_server() -> str:
    """The machine's MariaDB, or a loud failure in CI (never a silent skip there)."""
    try:
        conn = _mysql_admin_connect()
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"MariaDB is required in CI and is not reachable: {exc}")
        pytest.skip(f"MariaDB is not reachable at {MYSQL_ADMIN}: {exc}")
    conn.close()  # type: ignore[attr-defined]
    return f"mysql://{MYSQL_ADMIN['user']}@{MYSQL_ADMIN['host']}:{MYSQL_ADMIN['port']}"


@pytest.fixture
def mysql_url(mariadb_server: str) -> Iterator[str]:
    """A fresh, empty MariaDB database; its ``mysql://`` URL."""
    name = f"reportd_test_{uuid.uuid4().hex[:10]}"
    conn = _mysql_admin_connect()
    try:
        with conn.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        conn.close()  # type: ignore[attr-defined]
    yield f"{mariadb_server}/{name}"
    conn = _mysql_admin_connect()
    try:
        with conn.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()  # type: ignore[attr-defined]
