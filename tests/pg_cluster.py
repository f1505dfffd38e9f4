"""A private PostgreSQL cluster for tests that stop and start the database.

The machine's shared server (127.0.0.1:5432) must never be stopped by a test, so
``private_postgres()`` runs ``initdb`` into a fresh directory and ``pg_ctl`` on a free
loopback port, with its unix socket in that directory. initdb refuses to run as root, so
as root every command runs as the ``postgres`` user (``runuser``) in a directory it owns.
Missing binaries skip the test, except under ``CI=true``, where they fail it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from tests.storage_fixtures import free_ports

SUPERUSER = "postgres"


def _missing(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but a private PostgreSQL cannot be made: {reason}", pytrace=False)
    pytest.skip(f"private PostgreSQL unavailable: {reason}")


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        _missing("no initdb (/usr/lib/postgresql/*/bin or PATH)")
    return Path(initdb).parent


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        _missing("running as root without runuser to drop to the postgres user")
    return ["runuser", "-u", SUPERUSER, "--"]


@dataclass
class PrivatePostgres:
    """One initdb'd cluster; ``stop()`` and ``start()`` may be called any number of times."""

    root: Path
    port: int
    bin_dir: Path
    run_as: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def _pg(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [*self.run_as, str(self.bin_dir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {args} failed: {done.stdout}{done.stderr}")

    def init(self) -> None:
        self._pg("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off -c max_connections=200"
        )
        log = str(self.root / "postgres.log")
        self._pg("pg_ctl", "-D", str(self.data_dir), "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running private cluster on 127.0.0.1, removed afterwards."""
    bin_dir = _bin_dir()
    run_as = _run_as()
    root = Path(tempfile.mkdtemp(prefix="reportd-pg-"))
    if run_as:
        shutil.chown(root, SUPERUSER, SUPERUSER)
    cluster = PrivatePostgres(root=root, port=free_ports(1)[0], bin_dir=bin_dir, run_as=run_as)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        # It may not be running (a failed start, or the test left it stopped).
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
