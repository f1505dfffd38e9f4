"""What bench/api.py, bench/queue.py and bench/download.py share: a reportd world on disk,
real ``reportd`` processes, the machine's PostgreSQL, Debian tools, and the machine's load.

Everything listens on 127.0.0.1 only. Child processes run with no inherited ``REPORTD_*``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TENANT = "bench"

ORDERS_TEMPLATE = """\
id: orders
name: Orders
source: shop
query: |
  SELECT order_id, customer, amount, created_at, paid FROM orders
  WHERE tenant = :tenant_id AND order_id < CAST(:rows AS INTEGER)
fields:
  - {name: order_id, type: integer, filterable: true, sortable: true}
  - {name: customer, type: string, filterable: true, sortable: true}
  - {name: amount, type: number, filterable: true, sortable: true}
  - {name: created_at, type: datetime, sortable: true}
  - {name: paid, type: boolean, filterable: true}
parameters:
  type: object
  properties:
    rows: {type: integer, default: 10}
formats: [csv, json, ndjson, parquet]
display_name: Orders
timeout: 3600
retention: 86400
"""


def load_average() -> float:
    return os.getloadavg()[0]


def conditions() -> str:
    """One line for every figure: when, where, and how busy the machine was."""
    return (
        f"{time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · "
        f"Python {sys.version.split()[0]} · load {load_average():.2f} at start"
    )


def wait_for_quiet(limit: float = 1.5, patience: float = 120.0) -> None:
    """Wait (at most ``patience`` seconds) for the 1-minute load to fall under ``limit``."""
    deadline = time.monotonic() + patience
    while load_average() >= limit and time.monotonic() < deadline:
        time.sleep(5)
    print(f"# {conditions()}", flush=True)


def ensure_tool(binary: str, package: str) -> str:
    """The path of ``binary``, installing Debian's ``package`` first if it is missing."""
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if found:
        return found
    install = ["apt-get", "install", "-y", "-q", package]
    if subprocess.run(install, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=True)
        subprocess.run(install, capture_output=True, check=True)
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if found is None:
        raise SystemExit(f"{binary} is still missing after apt-get install {package}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTD_")}
    env.update(extra)
    return env


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (SQLAlchemy URL), dropped afterwards."""
    import psycopg

    name = f"reportd_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_world(root: Path, database_url: str | None = None, extra_toml: str = "") -> Path:
    """A DuckDB file of 1,000 orders, the orders template and a config; returns the config."""
    import duckdb

    templates = root / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    (templates / "orders.yaml").write_text(ORDERS_TEMPLATE)
    source = root / "orders.duckdb"
    if not source.exists():
        with duckdb.connect(str(source)) as conn:
            conn.execute(
                "CREATE TABLE orders AS SELECT range::INTEGER AS order_id, "
                "'customer ' || (range % 97) AS customer, (range * 1.25)::DOUBLE AS amount, "
                "TIMESTAMP '2024-01-01' + to_seconds(range) AS created_at, "
                f"range % 2 = 0 AS paid, '{TENANT}' AS tenant FROM range(1000)"
            )
    database = f'\n[database]\nurl = "{database_url}"\n' if database_url else ""
    config = root / "reportd.toml"
    config.write_text(
        f'data_dir = "{root / "data"}"\ntemplates_dir = "{templates}"\n{database}\n'
        f'[[sources]]\nname = "shop"\nurl = "duckdb:///{source}"\n{extra_toml}'
    )
    return config


def reportd(config: Path, *args: str) -> str:
    """Run one ``reportd`` command to the end; its stdout."""
    command = [str(BIN / "reportd"), *args, "--config", str(config)]
    done = subprocess.run(command, env=clean_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def admin_key(config: Path) -> str:
    """Migrate, make the bench tenant, and return a new admin key."""
    reportd(config, "migrate")
    reportd(config, "tenants", "create", TENANT, "--feature", "custom_reports")
    return reportd(
        config, "keys", "create", "--tenant", TENANT, "--name", "bench", "--scopes", "admin"
    )


@dataclass
class Child:
    """A long-running child process with its log file; ``stop()`` ends it (SIGTERM, then KILL)."""

    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @classmethod
    def start(cls, command: list[str], log_path: Path, env: dict[str, str] | None = None) -> Child:
        log = log_path.open("wb")
        process = subprocess.Popen(
            command, env=env or clean_env(), stdout=log, stderr=subprocess.STDOUT
        )
        return cls(process, log_path, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_rss_mb(self) -> float:
        """VmHWM of the running process (MB); 0 if it is gone."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self._log.close()

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def wait_http(url: str, child: Child, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise SystemExit(f"{url} died:\n{child.tail()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout}s:\n{child.tail()}")


def serve(config: Path, port: int, log: Path, *extra: str) -> Child:
    """``reportd serve`` on 127.0.0.1:``port``, answering ``/healthz``."""
    command = [str(BIN / "reportd"), "serve", "--config", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port), *extra]
    child = Child.start(command, log)
    wait_http(f"http://127.0.0.1:{port}/healthz", child)
    return child


def wait_finished(api: httpx.Client, report_id: str, timeout: float = 120.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report: dict[str, object] = api.get(f"/v1/reports/{report_id}").json()
        if report["state"] == "FINISHED":
            return report
        if report["state"] not in ("CREATED", "IN_PROGRESS"):
            raise SystemExit(f"report {report_id} ended {report['state']}: {report['error']}")
        time.sleep(0.02)
    raise SystemExit(f"report {report_id} did not finish within {timeout}s")
