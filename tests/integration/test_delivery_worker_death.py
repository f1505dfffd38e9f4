"""A worker killed in the middle of a delivery: the next process delivers it, once.

The first server's SMTP server accepts the connection and never answers (the delivery hangs
inside ``smtplib``); the test kills that server with SIGKILL while the delivery is in flight,
then starts another server over the same database with a working SMTP server. The dead
worker's lease runs out and the new one delivers: one mail, one recorded attempt (the killed
one never was). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import create_pg_database, drop_pg_database
from tests.delivery_servers import SmtpInbox, wait_until
from tests.integration.test_delivery_email import delivery_env, wait_delivered
from tests.integration.test_reports_api import create
from tests.server_fixtures import RunningServer, start_server


class SilentSmtp:
    """Accepts TCP connections and holds them open without a word (a hung mail server)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def inbox() -> Iterator[SmtpInbox]:
    running = SmtpInbox()
    running.start()
    yield running
    running.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    request.getfixturevalue("postgres_server")
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def smtp_env(port: int) -> dict[str, str]:
    return delivery_env(
        REPORTD_SMTP__HOST="127.0.0.1",
        REPORTD_SMTP__PORT=str(port),
        REPORTD_SMTP__STARTTLS="false",
        REPORTD_SMTP__TIMEOUT="120",  # the hung server is never given up on: only the kill ends it
        REPORTD_DELIVERY__LEASE_SECONDS="2",
    )


def client(server: RunningServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def test_a_delivery_in_flight_when_its_worker_dies_is_delivered_once_by_the_next(
    tmp_path: Path, database_url: str | None, inbox: SmtpInbox
) -> None:
    silent = SilentSmtp()
    try:
        first = start_server(tmp_path, database_url=database_url, env=smtp_env(silent.port))
        try:
            with client(first) as api:
                made = api.post("/v1/destinations", json={"type": "email", "to": ["x@acme.io"]})
                assert made.status_code == 201, made.text
                report: dict[str, Any] = create(
                    api, template_id="orders", formats=["csv"], destinations=[made.json()["id"]]
                )
                wait_until(lambda: silent.accepted, what="the delivery to connect")
                [delivery] = api.get(f"/v1/reports/{report['id']}").json()["deliveries"]
                assert delivery["state"] == "pending" and delivery["attempts"] == 0
        finally:
            first.process.kill()  # SIGKILL: no shutdown, the lease is simply left behind
            first.stop()
    finally:
        silent.close()
    second = start_server(tmp_path, database_url=database_url, env=smtp_env(inbox.port))
    with second, client(second) as api:
        final = wait_delivered(api, report["id"], timeout=60)
    [delivery] = final["deliveries"]
    assert delivery["state"] == "delivered" and delivery["attempts"] == 1
    assert len(inbox.about(report["id"])) == 1
