"""The webhook outbox and delivery queue on SQLite and PostgreSQL, many threads at once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from reportd.adapters.db import Store
from reportd.adapters.db.webhooks import WebhookStore
from reportd.app.webhooks import EVENT_OF_STATE
from reportd.domain.formats import Format
from reportd.domain.models import Progress, Report
from reportd.domain.states import ReportState
from reportd.domain.webhooks import Webhook

TENANT = "t1"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.connect(database_url)
    store.migrate()
    yield store
    store.close()


def finished_report(store: Store, callback_url: str | None = None) -> Report:
    report = Report(
        id=str(uuid.uuid4()),
        tenant_id=TENANT,
        template_id="orders",
        name="Orders",
        state=ReportState.CREATED,
        formats=(Format.CSV,),
        fields=("order_id",),
        callback_url=callback_url,
    )
    store.reports.insert(report)
    claimed = store.queue.claim("w", 30)
    assert claimed is not None
    expires = datetime.now(UTC) + timedelta(days=1)
    assert store.queue.finish(claimed.id, "w", [], Progress(0, 0), expires)
    return report


def subscribe(hooks: WebhookStore, events: tuple[str, ...], tenant: str = TENANT) -> Webhook:
    return hooks.create(
        Webhook(
            id=str(uuid.uuid4()),
            tenant_id=tenant,
            url="http://127.0.0.1:9/hook",
            events=events,
            secret="whsec_test",
        )
    )


def test_each_final_state_becomes_deliveries_once_across_threads(store: Store) -> None:
    hooks = WebhookStore(store.engine)
    subscribe(hooks, ("report.finished",))
    subscribe(hooks, ("report.failed",))  # not this event
    subscribe(hooks, ("report.finished",), tenant="t2")  # not this tenant
    reports = [finished_report(store, callback_url="http://127.0.0.1:9/cb") for _ in range(30)]
    made: list[int] = []
    lock = threading.Lock()

    def scan() -> None:
        while (count := hooks.enqueue_due(EVENT_OF_STATE, lambda rid: rid, limit=4)) > 0:
            with lock:
                made.append(count)

    threads = [threading.Thread(target=scan) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(made) == len(reports) * 2  # one subscription and the callback, each once
    assert hooks.enqueue_due(EVENT_OF_STATE, lambda rid: rid) == 0


def test_concurrent_claims_never_share_a_delivery(store: Store) -> None:
    hooks = WebhookStore(store.engine)
    hook = subscribe(hooks, ("report.finished",))
    for _ in range(25):
        finished_report(store)
    assert hooks.enqueue_due(EVENT_OF_STATE, lambda rid: "{}") == 25
    claimed: list[str] = []
    lock = threading.Lock()

    def claim_all(owner: str) -> None:
        while (got := hooks.claim(owner, 30)) is not None:
            assert got.secret == "whsec_test"
            assert hooks.mark_delivered(got.delivery.id, owner, 204)
            assert not hooks.mark_delivered(got.delivery.id, owner, 204)  # settled once
            with lock:
                claimed.append(got.delivery.id)

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed)) == 25
    page = hooks.deliveries(hook.id, TENANT, limit=100, offset=0)
    assert page.total_count == 25
    assert {(d.state, d.attempts, d.last_status) for d in page.results} == {("delivered", 1, 204)}


def test_a_retry_waits_until_due_and_a_stale_lease_settles_nothing(store: Store) -> None:
    hooks = WebhookStore(store.engine)
    subscribe(hooks, ("report.finished",))
    finished_report(store)
    hooks.enqueue_due(EVENT_OF_STATE, lambda rid: "{}")
    got = hooks.claim("w1", 30)
    assert got is not None and hooks.claim("w2", 30) is None  # leased
    later = datetime.now(UTC) + timedelta(hours=1)
    assert hooks.mark_attempt_failed(
        got.delivery.id, "w1", status=503, error="HTTP 503", retry_at=later
    )
    assert hooks.claim("w2", 30) is None  # not due yet
    assert not hooks.mark_delivered(got.delivery.id, "w1", 200)  # w1 no longer holds it
