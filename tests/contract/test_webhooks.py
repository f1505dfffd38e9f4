"""WebhookRepository: subscriptions per tenant, the outbox (each final state once), and the
leased delivery queue."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from reportd.app import ports
from reportd.app.webhooks import EVENT_OF_STATE
from reportd.domain.errors import NotFound, ReportNotFound
from reportd.domain.models import Report
from reportd.domain.webhooks import Webhook
from tests.contract.records import ago, finished, in_threads, new_report, now

EXPIRED = -1.0


def subscribe(
    store: ports.Store, events: tuple[str, ...] = ("report.finished",), tenant: str = "t1"
) -> Webhook:
    return store.webhooks.create(
        Webhook(
            id=str(uuid.uuid4()),
            tenant_id=tenant,
            url="http://127.0.0.1:9/hook",
            events=events,
            secret="whsec_test",
        )
    )


def done(store: ports.Store, callback_url: str | None = None) -> Report:
    return finished(store, new_report(callback_url=callback_url))


def enqueue(store: ports.Store, limit: int = 100) -> int:
    return store.webhooks.enqueue_due(EVENT_OF_STATE, lambda rid: f'{{"id": "{rid}"}}', limit=limit)


def test_subscriptions_belong_to_their_tenant(store: ports.Store) -> None:
    first = subscribe(store)
    second = subscribe(store, ("report.failed", "report.canceled"))
    subscribe(store, tenant="t2")
    assert first.created_at is not None
    assert store.webhooks.get(first.id, "t1") == first
    assert [w.id for w in store.webhooks.list_for_tenant("t1")] == [first.id, second.id]
    assert store.webhooks.get(second.id, "t1").events == ("report.failed", "report.canceled")
    assert store.webhooks.count("t1") == 2
    with pytest.raises(NotFound):
        store.webhooks.get(first.id, "t2")
    with pytest.raises(NotFound):
        store.webhooks.delete(first.id, "t2")
    with pytest.raises(NotFound):
        store.webhooks.deliveries(first.id, "t2", limit=10, offset=0)


def test_each_final_state_becomes_deliveries_once_across_threads(store: ports.Store) -> None:
    subscribe(store)
    subscribe(store, ("report.failed",))  # not this event
    subscribe(store, tenant="t2")  # not this tenant
    for _ in range(12):
        done(store, callback_url="http://127.0.0.1:9/cb")
    made: list[int] = []
    lock = threading.Lock()

    def scan(_: int) -> None:
        while (count := enqueue(store, limit=4)) > 0:
            with lock:
                made.append(count)

    in_threads(4, scan)
    assert sum(made) == 12 * 2  # the subscription and the callback, each once
    assert enqueue(store) == 0


def test_a_later_final_state_is_another_event(store: ports.Store) -> None:
    hook = subscribe(store, ("report.finished", "report.expired"))
    report = done(store)
    assert enqueue(store) == 1
    assert store.reports.mark_expired(store.reports.get(report.id))
    assert enqueue(store) == 1
    log = store.webhooks.deliveries(hook.id, "t1", limit=10, offset=0)
    assert sorted(d.event for d in log.results) == ["report.expired", "report.finished"]
    assert {d.report_id for d in log.results} == {report.id}


def test_running_reports_and_reports_nobody_listens_to_make_nothing(store: ports.Store) -> None:
    done(store)  # finished, but no subscription and no callback
    store.reports.insert(new_report(callback_url="http://127.0.0.1:9/cb"))  # not final yet
    assert enqueue(store) == 0
    subscribe(store)
    assert enqueue(store) == 0  # its state was already looked at


def test_a_report_gone_before_its_payload_is_not_delivered(store: ports.Store) -> None:
    subscribe(store)
    done(store)

    def gone(report_id: str) -> str:
        raise ReportNotFound(report_id)

    assert store.webhooks.enqueue_due(EVENT_OF_STATE, gone) == 0
    assert store.webhooks.claim("w1", 30) is None


def test_concurrent_claims_never_share_a_delivery(store: ports.Store) -> None:
    hook = subscribe(store)
    for _ in range(15):
        done(store)
    assert enqueue(store) == 15
    claimed: list[str] = []
    lock = threading.Lock()

    def claim_all(worker: int) -> None:
        owner = f"w{worker}"
        while (got := store.webhooks.claim(owner, 30)) is not None:
            assert got.secret == "whsec_test"
            assert store.webhooks.mark_delivered(got.delivery.id, owner, 204)
            assert not store.webhooks.mark_delivered(got.delivery.id, owner, 204)  # once
            with lock:
                claimed.append(got.delivery.id)

    in_threads(5, claim_all)
    assert len(claimed) == len(set(claimed)) == 15
    page = store.webhooks.deliveries(hook.id, "t1", limit=100, offset=0)
    assert page.total_count == 15
    assert {(d.state, d.attempts, d.last_status) for d in page.results} == {("delivered", 1, 204)}
    assert all(d.delivered_at is not None and d.next_attempt_at is None for d in page.results)


def test_a_delivery_carries_what_to_send(store: ports.Store) -> None:
    hook = subscribe(store)
    report = done(store, callback_url="http://127.0.0.1:9/cb")
    assert enqueue(store) == 2
    first = store.webhooks.claim("w1", 30)
    second = store.webhooks.claim("w1", 30)
    assert first is not None and second is not None
    by_url = {c.delivery.url: c for c in (first, second)}
    hooked = by_url["http://127.0.0.1:9/hook"]
    callback = by_url["http://127.0.0.1:9/cb"]
    assert hooked.delivery.webhook_id == hook.id and hooked.secret == "whsec_test"
    assert callback.delivery.webhook_id is None and callback.secret is None
    for claimed in (hooked, callback):
        delivery = claimed.delivery
        assert delivery.report_id == report.id and delivery.tenant_id == "t1"
        assert delivery.event == "report.finished" and delivery.state == "pending"
        assert delivery.payload == f'{{"id": "{report.id}"}}' and delivery.attempts == 0


def test_a_retry_waits_until_due_and_a_stale_owner_settles_nothing(store: ports.Store) -> None:
    hook = subscribe(store)
    done(store)
    enqueue(store)
    got = store.webhooks.claim("w1", 30)
    assert got is not None and store.webhooks.claim("w2", 30) is None  # leased
    later = now() + timedelta(hours=1)
    assert store.webhooks.mark_attempt_failed(
        got.delivery.id, "w1", status=503, error="HTTP 503 " + "x" * 600, retry_at=later
    )
    assert store.webhooks.claim("w2", 30) is None  # not due yet
    assert not store.webhooks.mark_delivered(got.delivery.id, "w1", 200)  # w1 let it go
    logged = store.webhooks.deliveries(hook.id, "t1", limit=10, offset=0).results[0]
    assert (logged.state, logged.attempts, logged.last_status) == ("pending", 1, 503)
    assert logged.last_error is not None and len(logged.last_error) == 500
    assert logged.next_attempt_at == later


def test_a_due_retry_is_claimed_again_and_can_fail_for_good(store: ports.Store) -> None:
    hook = subscribe(store)
    done(store)
    enqueue(store)
    got = store.webhooks.claim("w1", 30)
    assert got is not None
    assert store.webhooks.mark_attempt_failed(
        got.delivery.id, "w1", status=None, error="refused", retry_at=ago(1)
    )
    again = store.webhooks.claim("w2", 30)
    assert again is not None and again.delivery.id == got.delivery.id
    assert again.delivery.attempts == 1 and again.delivery.last_error == "refused"
    assert store.webhooks.mark_attempt_failed(
        got.delivery.id, "w2", status=500, error="HTTP 500", retry_at=None
    )
    logged = store.webhooks.deliveries(hook.id, "t1", limit=10, offset=0).results[0]
    assert (logged.state, logged.attempts, logged.next_attempt_at) == ("failed", 2, None)
    assert store.webhooks.claim("w3", 30) is None


def test_a_lease_that_ran_out_lets_another_owner_claim(store: ports.Store) -> None:
    subscribe(store)
    done(store)
    enqueue(store)
    got = store.webhooks.claim("w1", EXPIRED)
    assert got is not None
    again = store.webhooks.claim("w2", 30)
    assert again is not None and again.delivery.id == got.delivery.id
    assert not store.webhooks.mark_delivered(got.delivery.id, "w1", 200)
    assert store.webhooks.mark_delivered(got.delivery.id, "w2", 200)


def test_deleting_a_subscription_deletes_its_log(store: ports.Store) -> None:
    hook = subscribe(store)
    other = subscribe(store)
    done(store, callback_url="http://127.0.0.1:9/cb")
    assert enqueue(store) == 3
    store.webhooks.delete(hook.id, "t1")
    with pytest.raises(NotFound):
        store.webhooks.get(hook.id, "t1")
    assert store.webhooks.deliveries(other.id, "t1", limit=10, offset=0).total_count == 1
    claimed = {c.delivery.webhook_id for c in iter(lambda: store.webhooks.claim("w", 30), None)}
    assert claimed == {other.id, None}  # the callback's stays


def test_the_log_pages_newest_first(store: ports.Store) -> None:
    hook = subscribe(store)
    for _ in range(5):
        done(store)
        enqueue(store)  # one by one: each delivery made after the last
    first = store.webhooks.deliveries(hook.id, "t1", limit=2, offset=0)
    rest = store.webhooks.deliveries(hook.id, "t1", limit=10, offset=2)
    assert first.total_count == rest.total_count == 5
    listed = first.results + rest.results
    assert len({d.id for d in listed}) == 5
    stamps = [d.created_at for d in listed]
    assert stamps == sorted(stamps, reverse=True)


def test_a_report_that_cannot_be_rendered_gets_failed_deliveries_and_the_rest_go_on(
    store: ports.Store,
) -> None:
    """Issue 11, build item 3: one report whose body raised rolled back the whole batch, so
    no tenant got any webhook while it existed."""
    hook = subscribe(store)
    poisoned, good = done(store), done(store)

    def payload_of(report_id: str) -> str:
        if report_id == poisoned.id:
            raise ValueError("Maximum serialization depth exceeded")
        return f'{{"id": "{report_id}"}}'

    assert store.webhooks.enqueue_due(EVENT_OF_STATE, payload_of) == 2
    assert store.webhooks.enqueue_due(EVENT_OF_STATE, payload_of) == 0  # each notified once
    log = {
        d.report_id: d for d in store.webhooks.deliveries(hook.id, "t1", limit=10, offset=0).results
    }
    assert (log[poisoned.id].state, log[poisoned.id].last_error) == ("failed", "failed")
    assert log[poisoned.id].next_attempt_at is None
    assert log[good.id].state == "pending"
    claimed = store.webhooks.claim("w1", 30)
    assert claimed is not None and claimed.delivery.report_id == good.id
    assert store.webhooks.claim("w2", 30) is None  # the failed one is never claimed


def test_a_subscription_keeps_its_signing_scheme_and_deliveries_carry_it(
    store: ports.Store,
) -> None:
    default = subscribe(store)
    assert default.signature == "both"  # the record's default, as the column's
    standard = store.webhooks.create(
        Webhook(
            id=str(uuid.uuid4()),
            tenant_id="t1",
            url="http://127.0.0.1:9/standard",
            events=("report.finished",),
            secret="whsec_test",
            signature="standard",
        )
    )
    assert store.webhooks.get(standard.id, "t1").signature == "standard"
    by_id = {w.id: w.signature for w in store.webhooks.list_for_tenant("t1")}
    assert by_id == {default.id: "both", standard.id: "standard"}
    changed = store.webhooks.set_signature(default.id, "t1", "reportd")
    assert (changed.signature, changed.secret, changed.url) == (
        "reportd",
        "whsec_test",
        default.url,
    )
    assert store.webhooks.get(default.id, "t1").signature == "reportd"
    with pytest.raises(NotFound):
        store.webhooks.set_signature(default.id, "t2", "standard")
    assert store.webhooks.get(default.id, "t1").signature == "reportd"  # t2 changed nothing
    done(store, callback_url="http://127.0.0.1:9/cb")
    assert enqueue(store) == 3
    claimed = {c.delivery.url: c for c in iter(lambda: store.webhooks.claim("w", 30), None)}
    schemes = {url.rsplit("/", 1)[1]: c.signature for url, c in claimed.items()}
    assert schemes == {"hook": "reportd", "standard": "standard", "cb": None}
