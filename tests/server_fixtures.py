"""A real reportd server process for the integration tests, on 127.0.0.1 and a free port.

``start_server(tmp_path)`` writes a tiny world of its own into ``tmp_path`` (a DuckDB file
of orders and two templates, see ``write_sample_world``), launches ``tests/_serve.py`` in a
subprocess, waits for ``/healthz`` and returns a ``RunningServer`` with ``.url``,
``.admin_key`` (an ``admin`` key of tenant ``acme``), ``.make_key(...)`` and ``.stop()``.
Pass ``database_url`` to run over PostgreSQL instead of the SQLite file in ``data_dir``;
``config_toml`` to replace the generated config (relative paths are relative to
``tmp_path``, where the sample world still is); ``env`` for more ``REPORTD_*`` settings.
Every inherited ``REPORTD_*`` variable is cleared first, so the host cannot leak into a test.

Use as a context manager or through the ``server`` fixture (one server per test module)::

    from tests.server_fixtures import server  # noqa: F401  (in a conftest or test module)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx
import pytest

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "_serve.py"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
TENANT = "acme"
OTHER_TENANT = "globex"

# order_id, customer, amount, created_at, paid, tenant
SAMPLE_ROWS: list[tuple[int, str, float, str, bool, str]] = [
    (1, "Ada", 120.5, "2024-01-03 10:00:00", True, TENANT),
    (2, "Brian", 80.0, "2024-01-04 11:30:00", False, TENANT),
    (3, "Chloé", 310.25, "2024-02-10 09:15:00", True, TENANT),
    (4, "Dmitri", 42.0, "2024-02-11 16:45:00", False, TENANT),
    (5, "Ada", 99.99, "2024-03-01 08:00:00", True, TENANT),
    (6, 'Eve, "the" auditor', 15.0, "2024-03-02 12:00:00", False, TENANT),
    (7, "Brian", 500.0, "2024-03-15 18:20:00", True, TENANT),
    (8, "Fatima", 73.1, "2024-04-01 07:05:00", True, TENANT),
    (100, "Other tenant's customer", 1.0, "2024-01-01 00:00:00", True, OTHER_TENANT),
]

ORDERS_TEMPLATE = """\
id: orders
name: Orders report
description: Every order in a period.
source: shop
query: |
  SELECT order_id, customer, amount, created_at, paid
  FROM orders WHERE tenant = :tenant_id AND created_at >= CAST(:since AS TIMESTAMP)
fields:
  - {name: order_id, type: integer, filterable: true, sortable: true}
  - {name: customer, type: string, label: Customer, filterable: true, sortable: true}
  - {name: amount, type: number, filterable: true, sortable: true}
  - {name: created_at, type: datetime, sortable: true}
  - {name: paid, type: boolean, filterable: true}
parameters:
  type: object
  properties:
    since: {type: string, format: date, default: "2000-01-01"}
formats: [csv, json, ndjson]
display_name: Orders
timeout: 600
retention: 86400
"""

# Rows made by DuckDB on the fly: long enough to cancel, without a big file on disk.
SLOW_TEMPLATE = """\
id: slow
name: Many generated rows
source: shop
query: |
  SELECT range AS n, md5(CAST(range AS VARCHAR)) AS digest
  FROM range(CAST(:rows AS BIGINT)) WHERE :tenant_id IS NOT NULL
fields:
  - {name: n, type: integer, filterable: true, sortable: true}
  - {name: digest, type: string}
parameters:
  type: object
  properties:
    rows: {type: integer, default: 30000000}
formats: [csv, ndjson]
display_name: Slow
timeout: 600
retention: 86400
"""

DEFAULT_CONFIG = """\
templates_dir = "templates"

[[sources]]
name = "shop"
url = "duckdb:///orders.duckdb"

[worker]
poll_interval = 0.1
"""


def write_sample_world(directory: Path) -> None:
    """The DuckDB file and templates the default config names, in ``directory``."""
    import duckdb

    directory.mkdir(parents=True, exist_ok=True)
    templates = directory / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "orders.yaml").write_text(ORDERS_TEMPLATE)
    (templates / "slow.yaml").write_text(SLOW_TEMPLATE)
    database = directory / "orders.duckdb"
    if database.exists():
        return
    with duckdb.connect(str(database)) as conn:
        conn.execute(
            "CREATE TABLE orders (order_id INTEGER, customer VARCHAR, amount DOUBLE, "
            "created_at TIMESTAMP, paid BOOLEAN, tenant VARCHAR)"
        )
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", SAMPLE_ROWS)


@dataclass
class RunningServer:
    """A reportd server process; ``stop()`` (or leaving the ``with``) ends it."""

    url: str
    admin_key: str
    tenant: str
    data_dir: Path
    config_path: Path
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    _log: IO[bytes] = field(repr=False)
    grpc_target: str | None = None  # "127.0.0.1:PORT" when the config sets [grpc] listen

    def make_key(
        self,
        tenant: str | None = None,
        *,
        name: str = "tester",
        scopes: tuple[str, ...] = ("admin",),
        features: tuple[str, ...] = ("custom_reports",),
    ) -> str:
        """A new API key over the server's database, creating the tenant if needed."""
        command = _runner("key", self.config_path, self.data_dir)
        command += _key_args(tenant or self.tenant, name, scopes, features)
        done = subprocess.run(command, env=self.env, capture_output=True, check=False, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"key creation failed: {done.stderr.decode()[-2000:]}")
        return done.stdout.decode().strip()

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM (a clean uvicorn shutdown), then SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        self._log.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _runner(command: str, config: Path, data_dir: Path) -> list[str]:
    return [
        sys.executable, str(RUNNER), command,
        "--config", str(config), "--data-dir", str(data_dir),
    ]  # fmt: skip


def _key_args(
    tenant: str, name: str, scopes: tuple[str, ...], features: tuple[str, ...]
) -> list[str]:
    return [
        "--tenant", tenant, "--name", name,
        "--scopes", ",".join(scopes), "--features", ",".join(features),
    ]  # fmt: skip


def server_env(env: Mapping[str, str] | None, database_url: str | None) -> dict[str, str]:
    """The host's environment without any ``REPORTD_*``, plus what the test asks for."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REPORTD_")}
    if database_url is not None:
        clean["REPORTD_DATABASE__URL"] = database_url
    clean.update(env or {})
    return clean


def start_server(
    tmp_path: Path,
    *,
    config_toml: str | None = None,
    env: Mapping[str, str] | None = None,
    workers: int = 2,
    database_url: str | None = None,
    tenant: str = TENANT,
) -> RunningServer:
    """Launch a server over the sample world in ``tmp_path`` and wait until it answers."""
    write_sample_world(tmp_path)
    config_path = tmp_path / "reportd.toml"
    config_path.write_text(config_toml if config_toml is not None else DEFAULT_CONFIG)
    data_dir = tmp_path / "data"
    info_file = tmp_path / "server-info.json"
    info_file.unlink(missing_ok=True)
    full_env = server_env(env, database_url)
    command = _runner("serve", config_path, data_dir)
    command += _key_args(tenant, "admin", ("admin",), ("custom_reports",))
    command += ["--workers", str(workers), "--info-file", str(info_file)]
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        info = _wait_until_up(process, info_file, log_path)
    except BaseException:
        process.kill()
        process.wait()
        log.close()
        raise
    return RunningServer(
        url=info["url"],
        admin_key=info["admin_key"],
        tenant=tenant,
        data_dir=data_dir,
        config_path=config_path,
        log_path=log_path,
        env=full_env,
        process=process,
        _log=log,
        grpc_target=info.get("grpc"),
    )


def _wait_until_up(
    process: subprocess.Popen[bytes], info_file: Path, log_path: Path
) -> dict[str, str]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"reportd exited with {process.returncode}:\n{tail}")
        if info_file.exists():
            info: dict[str, str] = json.loads(info_file.read_text())
            if _healthy(info["url"]):
                return info
        time.sleep(0.05)
    raise RuntimeError(f"reportd did not answer /healthz within {START_TIMEOUT}s")


def _healthy(url: str) -> bool:
    try:
        with httpx.Client(timeout=2.0) as client:
            return client.get(f"{url}/healthz").status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One SQLite server per test module; tests isolate themselves by key name or tenant."""
    with start_server(tmp_path_factory.mktemp("server")) as running:
        yield running
