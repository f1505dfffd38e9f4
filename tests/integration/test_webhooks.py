"""Webhooks end to end: a real server delivers to a real HTTP receiver on 127.0.0.1.

Each test works in a tenant of its own, so subscriptions made by one test never see the
reports of another. Retries use tiny delays (``REPORTD_WEBHOOKS__RETRY_DELAYS``). The
receiver is on 127.0.0.1, which the outbound policy refuses unless the operator allow-lists
it: these servers do (``[webhooks] allow_private``); tests/integration/test_outbound_policy.py
shows the refusals.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from reportd.client import Client, verify_webhook
from reportd.domain.errors import ReportdError
from tests.conftest import create_pg_database, drop_pg_database
from tests.integration.test_reports_api import create, wait_final
from tests.server_fixtures import RunningServer, start_server, write_sample_world

WEBHOOK_ENV = {
    "REPORTD_WEBHOOKS__RETRY_DELAYS": "[0.3, 0.3]",
    "REPORTD_WEBHOOKS__MAX_ATTEMPTS": "4",
    "REPORTD_WEBHOOKS__POLL_INTERVAL": "0.1",
    "REPORTD_WEBHOOKS__TIMEOUT": "5",
    "REPORTD_WEBHOOKS__ALLOW_PRIVATE": '["127.0.0.1"]',
}

BROKEN_TEMPLATE = """\
id: broken
name: A query over a table that does not exist
source: shop
query: |
  SELECT * FROM no_such_table WHERE :tenant_id IS NOT NULL
fields:
  - {name: n, type: integer}
formats: [csv]
"""


# -- a receiver -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int  # what the receiver answered

    @property
    def delivery_id(self) -> str:
        return self.headers["reportd-delivery"]


class Receiver:
    """An HTTP server in a thread that records every POST; paths can be told to fail first."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._answer(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(Received(self.path, headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def _answer(self, path: str) -> int:
        with self._lock:
            left = self._failures.get(path, 0)
            self._failures[path] = max(0, left - 1)
        return 500 if left else 200

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def fail_first(self, path: str, times: int) -> None:
        with self._lock:
            self._failures[path] = times

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 30) -> list[Received]:
        """Until ``count`` requests reached ``path`` (any status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.at(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{path}: {len(self.at(path))} requests, wanted {count}")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()
    running.thread.join(5)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hook_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    database_url = None
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server")
        database_url = create_pg_database()
    root = tmp_path_factory.mktemp(f"webhooks-{request.param}")
    write_sample_world(root)
    (root / "templates" / "broken.yaml").write_text(BROKEN_TEMPLATE)
    try:
        with start_server(root, database_url=database_url, env=WEBHOOK_ENV) as running:
            yield running
    finally:
        if database_url is not None:
            drop_pg_database(database_url)


@pytest.fixture
def tenant_api(hook_server: RunningServer) -> Iterator[httpx.Client]:
    """An admin client of a tenant of its own."""
    key = hook_server.make_key(f"t-{uuid.uuid4().hex[:10]}")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=hook_server.url, headers=headers, timeout=30) as client:
        yield client


def subscribe(api: httpx.Client, url: str, events: list[str]) -> dict[str, Any]:
    response = api.post("/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def path() -> str:
    return f"/hook/{uuid.uuid4().hex}"


def wait_log(
    api: httpx.Client, webhook_id: str, state: str, timeout: float = 20
) -> list[dict[str, Any]]:
    """The delivery log once its newest delivery reached ``state``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log: list[dict[str, Any]] = api.get(f"/v1/webhooks/{webhook_id}/deliveries").json()[
            "results"
        ]
        if log and log[0]["state"] == state:
            return log
        time.sleep(0.05)
    raise AssertionError(f"no {state} delivery for {webhook_id}")


# -- the tests ------------------------------------------------------------------------------


def test_a_finished_report_is_delivered_signed_with_the_report_as_body(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    where = path()
    hook = subscribe(tenant_api, receiver.url(where), ["report.finished"])
    assert hook["secret"].startswith("whsec_")
    assert hook["events"] == ["report.finished"] and hook["enabled"] is True
    report = create(tenant_api, template_id="orders", formats=["csv"])
    [got] = receiver.wait_for(where, 1)
    body = verify_webhook(got.body, got.headers["reportd-signature"], hook["secret"])
    final = wait_final(tenant_api, report["id"])
    assert body == final
    assert body["state"] == "FINISHED"
    assert got.headers["reportd-event"] == "report.finished"
    assert got.headers["content-type"] == "application/json"
    [logged] = wait_log(tenant_api, hook["id"], "delivered")
    assert logged["id"] == got.delivery_id
    assert logged["report_id"] == report["id"]
    assert (logged["event"], logged["attempts"], logged["last_status"]) == (
        "report.finished",
        1,
        200,
    )
    assert logged["delivered_at"] is not None
    # The secret is shown once: never again in a read.
    assert "secret" not in tenant_api.get(f"/v1/webhooks/{hook['id']}").json()
    listed = tenant_api.get("/v1/webhooks").json()
    assert listed["total_count"] == 1 and "secret" not in listed["results"][0]


def test_a_500_is_retried_and_the_log_shows_both_attempts(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    where = path()
    receiver.fail_first(where, 1)
    hook = subscribe(tenant_api, receiver.url(where), ["report.finished"])
    create(tenant_api, template_id="orders", formats=["json"])
    first, second = receiver.wait_for(where, 2)
    assert (first.status, second.status) == (500, 200)
    assert first.delivery_id == second.delivery_id
    for got in (first, second):
        verify_webhook(got.body, got.headers["reportd-signature"], hook["secret"])
    [logged] = wait_log(tenant_api, hook["id"], "delivered")
    assert (logged["attempts"], logged["last_status"]) == (2, 200)
    assert logged["last_error"] == "failed"  # the status is shown, nothing else of the answer


def test_a_receiver_that_never_answers_2xx_ends_failed_after_max_attempts(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    where = path()
    receiver.fail_first(where, 100)
    hook = subscribe(tenant_api, receiver.url(where), ["report.finished"])
    create(tenant_api, template_id="orders", formats=["csv"])
    [logged] = wait_log(tenant_api, hook["id"], "failed")
    assert (logged["attempts"], logged["last_status"], logged["next_attempt_at"]) == (4, 500, None)
    assert len(receiver.at(where)) == 4


def test_an_unreachable_receiver_shows_the_tenant_only_failed(tenant_api: httpx.Client) -> None:
    """Issue 11, failure 2: the log said ``ConnectError: [Errno 111] Connection refused``
    (or a timeout, or an HTTP status) per address and port: a scanner of the inside."""
    with socket.socket() as probe:  # a port nobody listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = subscribe(tenant_api, f"http://127.0.0.1:{port}/closed", ["report.finished"])
    create(tenant_api, template_id="orders", formats=["csv"])
    [logged] = wait_log(tenant_api, hook["id"], "failed", timeout=30)
    assert (logged["last_error"], logged["last_status"], logged["attempts"]) == ("failed", None, 4)


def test_callback_url_is_signed_with_the_tenant_callback_secret(
    tenant_api: httpx.Client, receiver: Receiver, hook_server: RunningServer
) -> None:
    where = path()
    report = create(
        tenant_api, template_id="orders", formats=["csv"], callback_url=receiver.url(where)
    )
    [got] = receiver.wait_for(where, 1)
    secret = tenant_api.get("/v1/webhooks/callback_secret").json()["secret"]
    assert secret.startswith("whsec_")
    body = verify_webhook(got.body, got.headers["reportd-signature"], secret)
    assert body["id"] == report["id"] and body["state"] == "FINISHED"
    assert got.headers["reportd-event"] == "report.finished"
    # Another tenant's callback secret does not verify it.
    other = hook_server.make_key(f"t-{uuid.uuid4().hex[:10]}")
    with Client(hook_server.url, other) as client:
        assert client.callback_secret() != secret


def test_cancel_gives_report_canceled(tenant_api: httpx.Client, receiver: Receiver) -> None:
    where = path()
    hook = subscribe(tenant_api, receiver.url(where), ["report.canceled", "report.finished"])
    report = create(tenant_api, template_id="slow", formats=["csv"], options={"rows": 10**9})
    tenant_api.post(f"/v1/reports/{report['id']}/cancel").raise_for_status()
    [got] = receiver.wait_for(where, 1)
    assert got.headers["reportd-event"] == "report.canceled"
    body = verify_webhook(got.body, got.headers["reportd-signature"], hook["secret"])
    assert (body["id"], body["state"]) == (report["id"], "CANCELED")


def test_expiry_gives_report_expired_after_report_finished(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    where = path()
    hook = subscribe(tenant_api, receiver.url(where), ["report.finished", "report.expired"])
    report = create(tenant_api, template_id="orders", formats=["csv"], expires_in=2)
    finished, expired = receiver.wait_for(where, 2, timeout=30)
    assert [finished.headers["reportd-event"], expired.headers["reportd-event"]] == [
        "report.finished",
        "report.expired",
    ]
    body = verify_webhook(expired.body, expired.headers["reportd-signature"], hook["secret"])
    assert (body["id"], body["state"]) == (report["id"], "EXPIRED")
    assert finished.delivery_id != expired.delivery_id


def test_failure_gives_report_failed_and_events_are_filtered_per_subscription(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    finished, failed = path(), path()
    subscribe(tenant_api, receiver.url(finished), ["report.finished"])
    hook = subscribe(tenant_api, receiver.url(failed), ["report.failed"])
    good = create(tenant_api, template_id="orders", formats=["csv"])
    bad = create(tenant_api, template_id="broken", formats=["csv"])
    [got] = receiver.wait_for(failed, 1)
    assert got.headers["reportd-event"] == "report.failed"
    body = verify_webhook(got.body, got.headers["reportd-signature"], hook["secret"])
    assert (body["id"], body["state"]) == (bad["id"], "FAILURE")
    assert body["error"]["code"]
    [done] = receiver.wait_for(finished, 1)
    assert json.loads(done.body)["id"] == good["id"]
    time.sleep(1.0)  # nothing else arrives late
    assert len(receiver.at(finished)) == 1 and len(receiver.at(failed)) == 1


def test_another_tenant_sees_and_receives_nothing(
    tenant_api: httpx.Client, receiver: Receiver, hook_server: RunningServer
) -> None:
    mine, theirs = path(), path()
    hook = subscribe(tenant_api, receiver.url(mine), ["report.finished"])
    other_key = hook_server.make_key(f"t-{uuid.uuid4().hex[:10]}")
    with Client(hook_server.url, other_key) as other:
        other.create_webhook(receiver.url(theirs), ["report.finished", "report.failed"])
        assert other.list_webhooks()["total_count"] == 1
        for call in (
            lambda: other.get_webhook(hook["id"]),
            lambda: other.webhook_deliveries(hook["id"]),
            lambda: other.delete_webhook(hook["id"]),
        ):
            with pytest.raises(ReportdError) as caught:
                call()
            assert getattr(caught.value, "status", None) == 404
    create(tenant_api, template_id="orders", formats=["csv"])
    receiver.wait_for(mine, 1)
    time.sleep(1.0)
    assert receiver.at(theirs) == []
    assert tenant_api.get(f"/v1/webhooks/{hook['id']}").status_code == 200


def test_bad_subscriptions_get_validation_errors_and_scopes_apply(
    tenant_api: httpx.Client, hook_server: RunningServer
) -> None:
    for body in (
        {"url": "ftp://127.0.0.1/x", "events": ["report.finished"]},
        {"url": "/relative", "events": ["report.finished"]},
    ):
        response = tenant_api.post("/v1/webhooks", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == "invalid_url"
    for body in (
        {"url": "http://127.0.0.1/x", "events": ["report.started"]},
        {"url": "http://127.0.0.1/x", "events": []},
        {"url": "http://127.0.0.1/x"},
        {"url": "http://127.0.0.1/x", "events": ["report.finished"], "secret": "mine"},
    ):
        response = tenant_api.post("/v1/webhooks", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    missing = tenant_api.get(f"/v1/webhooks/{uuid.uuid4()}")
    assert missing.status_code == 404
    reader = hook_server.make_key(hook_server.tenant, name="reader", scopes=("reports:read",))
    with Client(hook_server.url, reader) as client:
        assert "results" in client.list_webhooks()
        for call in (
            lambda: client.create_webhook("http://127.0.0.1/x", ["report.finished"]),
            client.callback_secret,
        ):
            with pytest.raises(ReportdError) as caught:
                call()
            assert getattr(caught.value, "code", None) == "forbidden"


def test_delete_removes_the_subscription_and_its_log(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    hook = subscribe(tenant_api, receiver.url(path()), ["report.expired"])
    assert tenant_api.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
    assert tenant_api.get(f"/v1/webhooks/{hook['id']}").status_code == 404
    assert tenant_api.get(f"/v1/webhooks/{hook['id']}/deliveries").status_code == 404
    assert tenant_api.get("/v1/webhooks").json() == {"results": [], "total_count": 0}


# -- many processes -------------------------------------------------------------------------


def _worker(server: RunningServer) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "reportd.entrypoints.cli.main", "worker",
        "--config", str(server.config_path), "--data-dir", str(server.data_dir),
        "--concurrency", "2",
    ]  # fmt: skip
    return subprocess.Popen(
        command, env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.mark.postgres
@pytest.mark.slow
def test_two_worker_processes_never_deliver_a_delivery_twice(
    tmp_path: Path, pg_url: str, receiver: Receiver
) -> None:
    first, second = path(), path()
    receiver.fail_first(second, 3)  # some retries, taken by whichever process is free
    with start_server(tmp_path, workers=0, database_url=pg_url, env=WEBHOOK_ENV) as server:
        workers = [_worker(server), _worker(server)]
        try:
            with Client(server.url, server.admin_key) as client:
                client.create_webhook(receiver.url(first), ["report.finished"])
                hook = client.create_webhook(receiver.url(second), ["report.finished"])
                callback = path()
                made = [
                    client.create_report("orders", ["csv"], callback_url=receiver.url(callback))
                    for _ in range(12)
                ]
                for report in made:
                    assert client.wait(report["id"], timeout=60)["state"] == "FINISHED"
                receiver.wait_for(first, 12)
                receiver.wait_for(callback, 12)
                receiver.wait_for(second, 12 + 3)
                time.sleep(1.5)  # room for a duplicate to show up
                log = client.webhook_deliveries(hook["id"], limit=100)
        finally:
            for process in workers:
                os.kill(process.pid, signal.SIGTERM)
            for process in workers:
                process.wait(30)
    for where in (first, second, callback):
        ok = [r.delivery_id for r in receiver.at(where) if r.status == 200]
        assert len(ok) == len(set(ok)) == 12, where
    assert log["total_count"] == 12
    assert {d["state"] for d in log["results"]} == {"delivered"}
    assert sum(d["attempts"] for d in log["results"]) == 12 + 3
