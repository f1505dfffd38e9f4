"""A server started before its database: one plain line per retry, then it serves."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import PG_ADMIN_URL, drop_pg_database

WAIT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_for(process: subprocess.Popen[bytes], seconds: float) -> str:
    """What the process wrote on stderr within ``seconds`` (it keeps running)."""
    assert process.stderr is not None
    os.set_blocking(process.stderr.fileno(), False)
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if selector.select(timeout=left):
                chunks.append(process.stderr.read() or b"")
    return b"".join(chunks).decode(errors="replace")


def test_serve_waits_for_a_database_that_is_not_there_yet(
    postgres_server: str, tmp_path: Path
) -> None:
    name = f"reportd_late_{uuid.uuid4().hex[:8]}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    port = _free_port()
    config = tmp_path / "reportd.toml"
    config.write_text(f'[server]\nport = {port}\n[database]\nurl = "{url}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTD_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "reportd.entrypoints.cli.main", "serve", "--config", str(config),
         "--data-dir", str(tmp_path / "data")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        early = _read_for(process, 4.0)
        deadline = time.monotonic() + WAIT_SECONDS
        while "cannot connect" not in early and time.monotonic() < deadline:
            early += _read_for(process, 1.0)  # a loaded machine imports slowly
        early += _read_for(process, 2.0)
        assert process.poll() is None, early
        lines = [line for line in early.splitlines() if line.strip()]
        assert lines and all(line.startswith("cannot connect to the database") for line in lines)
        assert f'database "{name}" does not exist' in lines[0]
        assert "Traceback" not in early
        assert 1 <= len(lines) <= 8  # backoff, not a storm: 1 s, 2 s, 4 s, ... apart

        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        done = subprocess.run(
            [sys.executable, "-m", "reportd.entrypoints.cli.main", "migrate", "--config",
             str(config)], env=env, capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        deadline = time.monotonic() + WAIT_SECONDS
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
            except httpx.TransportError:
                time.sleep(0.5)
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        drop_pg_database(url)
