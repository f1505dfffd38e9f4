"""Issue 11, failures 2 and 5, end to end on SQLite and PostgreSQL.

A server with the default policy (no ``allow_private``) and a real receiver on 127.0.0.1, the
forbidden target: every spelling of an inside address is refused where it enters (webhook
subscriptions, ``callback_url``) and nothing is stored; a subscription or a callback stored
before the policy existed is refused when its delivery is sent, and the receiver never sees
a request. The permitted target (the same receiver, allow-listed) is
tests/integration/test_webhooks.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from reportd.adapters.db import Store
from reportd.adapters.db.schema import webhook_deliveries
from reportd.domain.formats import Format
from reportd.domain.models import Report
from reportd.domain.states import ReportState
from reportd.domain.webhooks import Webhook
from tests.conftest import create_pg_database, drop_pg_database
from tests.integration.test_reports_api import create, wait_final
from tests.integration.test_webhooks import WEBHOOK_ENV, Receiver, path, wait_log
from tests.server_fixtures import RunningServer, start_server

DEFAULT_POLICY_ENV = {k: v for k, v in WEBHOOK_ENV.items() if "ALLOW_PRIVATE" not in k}

INSIDE_HOSTS = [
    "127.0.0.1",
    "localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "0.0.0.0",
    "2130706433",
    "0x7f000001",
    "127.1",
    "169.254.169.254",
    "10.0.0.1",
]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()
    running.thread.join(5)


@dataclass(frozen=True)
class Guarded:
    server: RunningServer
    database_url: str  # the server's metadata database, to store what predates the policy


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Guarded]:
    database_url = None
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server")
        database_url = create_pg_database()
    root = tmp_path_factory.mktemp(f"outbound-{request.param}")
    try:
        with start_server(root, database_url=database_url, env=DEFAULT_POLICY_ENV) as running:
            url = database_url or f"sqlite:///{(running.data_dir / 'reportd.db').resolve()}"
            yield Guarded(running, url)
    finally:
        if database_url is not None:
            drop_pg_database(database_url)


@pytest.fixture
def tenant_api(guarded: Guarded) -> Iterator[httpx.Client]:
    key = guarded.server.make_key(f"t-{uuid.uuid4().hex[:10]}")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=guarded.server.url, headers=headers, timeout=30) as client:
        yield client


def _refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code, response.text


def test_inside_addresses_are_refused_at_the_edge_and_nothing_is_stored(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    """Failure 2: each of these was accepted, and delivered or attempted."""
    port = receiver.server.server_address[1]
    for host in INSIDE_HOSTS:
        url = f"http://{host}:{port}/inside"
        _refused(
            tenant_api.post("/v1/webhooks", json={"url": url, "events": ["report.finished"]}),
            "url_not_allowed",
        )
        body = {"template_id": "orders", "formats": ["csv"], "callback_url": url}
        _refused(tenant_api.post("/v1/reports", json=body), "url_not_allowed")
    userinfo = f"http://user:pass@127.0.0.1:{port}/inside"
    _refused(
        tenant_api.post("/v1/webhooks", json={"url": userinfo, "events": ["report.finished"]}),
        "invalid_url",
    )
    body = {"template_id": "orders", "formats": ["csv"], "callback_url": userinfo}
    _refused(tenant_api.post("/v1/reports", json=body), "invalid_url")
    assert tenant_api.get("/v1/webhooks").json()["total_count"] == 0
    assert tenant_api.get("/v1/reports").json()["total_count"] == 0
    assert receiver.at("/inside") == []


def test_a_callback_url_with_cr_lf_is_refused_with_invalid_url(tenant_api: httpx.Client) -> None:
    """Failure 5: the check stripped the CR/LF, the stored URL kept it, and its delivery
    stayed pending forever, aborting a dispatcher pass each time its lease ran out."""
    for url in ("https://hooks.example.com/a\r\nX-Injected: 1", "https://hooks.example.com/\n"):
        body = {"template_id": "orders", "formats": ["csv"], "callback_url": url}
        response = tenant_api.post("/v1/reports", json=body)
        _refused(response, "invalid_url")
        assert "control characters" in response.json()["error"]["message"]
        hook = {"url": url, "events": ["report.finished"]}
        _refused(tenant_api.post("/v1/webhooks", json=hook), "invalid_url")
    for url in ("http://[::1/", "http://a..b/"):  # these were 500s (urlsplit, IDNA raised)
        body = {"template_id": "orders", "formats": ["csv"], "callback_url": url}
        _refused(tenant_api.post("/v1/reports", json=body), "invalid_url")
        hook = {"url": url, "events": ["report.finished"]}
        _refused(tenant_api.post("/v1/webhooks", json=hook), "invalid_url")
    assert tenant_api.get("/v1/reports").json()["total_count"] == 0


def test_targets_stored_before_the_policy_are_refused_when_sent(
    guarded: Guarded, tenant_api: httpx.Client, receiver: Receiver
) -> None:
    """A subscription to the loopback receiver and a callback with CR/LF, both stored as an
    older reportd accepted them: the first is "refused by policy" at connect time, the
    second "failed", each once and for good, and a good delivery still goes through."""
    tenant = tenant_api.get("/v1/me").json()["tenant_id"]
    where = path()
    store = Store.connect(guarded.database_url)
    try:
        old = store.webhooks.create(
            Webhook(
                id=str(uuid.uuid4()),
                tenant_id=tenant,
                url=receiver.url(where),
                events=("report.finished",),
                secret="whsec_" + "0" * 64,
            )
        )
        crlf = Report(
            id=str(uuid.uuid4()),
            tenant_id=tenant,
            template_id="orders",
            name="stored with a CR/LF callback",
            state=ReportState.CREATED,
            formats=(Format.CSV,),
            fields=("order_id",),
            options={"since": "2000-01-01"},
            callback_url="https://hooks.example.com/a\r\nX-Injected: 1",
        )
        store.reports.insert(crlf)
        made = create(tenant_api, template_id="orders", formats=["csv"])
        wait_final(tenant_api, made["id"])
        wait_final(tenant_api, crlf.id)
        logged = wait_log(tenant_api, old.id, "failed", timeout=30)
        assert {(d["last_error"], d["attempts"], d["last_status"]) for d in logged} == {
            ("refused by policy", 1, None)
        }
        callback = _wait_settled(store, crlf.id)
        assert (callback["state"], callback["last_error"]) == ("failed", "failed")
    finally:
        store.close()
    assert receiver.at(where) == []


def _wait_settled(store: Store, report_id: str, timeout: float = 30) -> dict[str, Any]:
    d = webhook_deliveries.c
    query = select(webhook_deliveries).where(d.report_id == report_id, d.webhook_id.is_(None))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is not None and row["state"] != "pending":
            return dict(row)
        time.sleep(0.1)
    raise AssertionError(f"the callback delivery of {report_id} never settled")
