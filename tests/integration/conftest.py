"""Integration fixtures: a real ``reportd`` server process per database backend."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import create_pg_database, drop_pg_database
from tests.server_fixtures import RunningServer, start_server


@contextmanager
def server_on(
    request: pytest.FixtureRequest,
    root: Path,
    env: Mapping[str, str] | None = None,
    *,
    backend: str | None = None,
    config_toml: str | None = None,
) -> Iterator[RunningServer]:
    """A server over ``root`` on ``backend`` (default: the one named by ``request.param``,
    sqlite/postgresql), with ``config_toml`` and ``env``'s settings on top."""
    database_url = None
    if (backend or request.param) == "postgresql":
        request.getfixturevalue("postgres_server")
        database_url = create_pg_database()
    try:
        with start_server(
            root, config_toml=config_toml, database_url=database_url, env=env
        ) as running:
            yield running
    finally:
        if database_url is not None:
            drop_pg_database(database_url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One server per module and backend; the same tests run against both."""
    with server_on(request, tmp_path_factory.mktemp(f"server-{request.param}")) as running:
        yield running


@pytest.fixture
def api(backend_server: RunningServer) -> Iterator[httpx.Client]:
    """An HTTP client with the server's admin key."""
    headers = {"Authorization": f"Bearer {backend_server.admin_key}"}
    with httpx.Client(base_url=backend_server.url, headers=headers, timeout=30) as client:
        yield client
