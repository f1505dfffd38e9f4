"""DestinationRepository and DeliveryQueue: per tenant, sealed secrets kept as given, and the
leased queue of deliveries (made with the report, claimable once it ended, each claim
exclusive, a lost lease changing nothing, the outcome's webhook event made with it)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from reportd.app import ports
from reportd.domain.destinations import DeliveryState, Destination, DestinationType
from reportd.domain.errors import DestinationNotFound
from reportd.domain.webhooks import Webhook
from tests.contract.records import finished, in_threads, new_report, now


def destination(store: ports.Store, tenant: str = "t1", **changes: object) -> Destination:
    made = Destination(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        type=DestinationType.S3,
        name="Backups",
        config={"bucket": "b", "prefix": "p/q", "port": 22, "to": ["a@b.io"]},
        sealed_secrets="gAAAA-sealed",
        secret_names=("secret_access_key",),
    )
    return store.destinations.create(_replace(made, **changes))


def _replace(record: Destination, **changes: object) -> Destination:
    from dataclasses import replace

    return replace(record, **changes)  # type: ignore[arg-type]


def test_destinations_belong_to_their_tenant(store: ports.Store) -> None:
    first = destination(store)
    second = destination(store, type=DestinationType.EMAIL)
    destination(store, tenant="t2")
    assert first.created_at is not None and first.updated_at is not None
    assert store.destinations.get(first.id, "t1") == first
    assert [d.id for d in store.destinations.list_for_tenant("t1")] == [first.id, second.id]
    assert store.destinations.count("t1") == 2
    for call in (store.destinations.get, store.destinations.delete):
        with pytest.raises(DestinationNotFound):
            call(first.id, "t2")
    with pytest.raises(DestinationNotFound):
        store.destinations.update(_replace(first, tenant_id="t2"))
    changed = store.destinations.update(
        _replace(first, name="Renamed", config={"bucket": "c"}, sealed_secrets=None)
    )
    again = store.destinations.get(first.id, "t1")
    assert again == changed
    assert (again.name, again.config, again.sealed_secrets) == ("Renamed", {"bucket": "c"}, None)
    assert again.created_at == first.created_at
    store.destinations.delete(first.id, "t1")
    assert [d.id for d in store.destinations.list_for_tenant("t1")] == [second.id]


def test_a_reports_deliveries_are_made_with_it_and_read_with_it(store: ports.Store) -> None:
    a, b = destination(store), destination(store)
    report = new_report(destinations=(b.id, a.id))
    store.reports.insert(report)
    got = store.reports.get(report.id)
    assert got.destinations == (b.id, a.id)
    assert [(d.destination_id, d.state, d.attempts) for d in got.deliveries] == [
        (b.id, DeliveryState.PENDING, 0),
        (a.id, DeliveryState.PENDING, 0),
    ]
    assert store.delivery_queue.claim("w1", 30) is None  # not before the report ends
    plain = new_report()
    store.reports.insert(plain)
    assert store.reports.get(plain.id).deliveries == ()


def test_a_claim_is_exclusive_and_a_lost_lease_changes_nothing(store: ports.Store) -> None:
    target = destination(store)
    report = finished(store, new_report(destinations=(target.id,)))
    claimed = store.delivery_queue.claim("w1", 30)
    assert claimed is not None and claimed.report_state == "FINISHED"
    assert claimed.delivery.report_id == report.id
    assert store.delivery_queue.claim("w2", 30) is None
    assert not store.delivery_queue.settle(
        report.id, target.id, "w2", state=DeliveryState.DELIVERED
    )
    retry_at = now() + timedelta(hours=1)
    assert store.delivery_queue.settle(
        report.id, target.id, "w1", state=DeliveryState.PENDING, error="down", retry_at=retry_at
    )
    (delivery,) = store.reports.get(report.id).deliveries
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 1, "down")
    assert delivery.next_attempt_at is not None
    assert abs((delivery.next_attempt_at - retry_at).total_seconds()) < 1
    assert store.delivery_queue.claim("w1", 30) is None  # not due yet


def test_an_expired_lease_is_claimed_again(store: ports.Store) -> None:
    target = destination(store)
    report = finished(store, new_report(destinations=(target.id,)))
    assert store.delivery_queue.claim("dead", -1.0) is not None
    claimed = store.delivery_queue.claim("w2", 30)
    assert claimed is not None and claimed.delivery.report_id == report.id
    assert not store.delivery_queue.settle(report.id, target.id, "dead", state=DeliveryState.FAILED)
    assert store.delivery_queue.settle(report.id, target.id, "w2", state=DeliveryState.DELIVERED)
    (delivery,) = store.reports.get(report.id).deliveries
    assert delivery.state is DeliveryState.DELIVERED and delivery.attempts == 1
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert store.delivery_queue.claim("w3", 30) is None


def test_many_workers_claim_each_delivery_once(store: ports.Store) -> None:
    targets = [destination(store) for _ in range(3)]
    reports = [
        finished(store, new_report(destinations=tuple(t.id for t in targets))) for _ in range(4)
    ]
    taken: list[tuple[str, str]] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        while (claimed := store.delivery_queue.claim(f"w{i}", 30)) is not None:
            key = (claimed.delivery.report_id, claimed.delivery.destination_id)
            assert store.delivery_queue.settle(*key, f"w{i}", state=DeliveryState.DELIVERED)
            with lock:
                taken.append(key)

    in_threads(4, work)
    assert sorted(taken) == sorted((r.id, t.id) for r in reports for t in targets)


def test_an_outcome_event_becomes_webhook_deliveries_with_it(store: ports.Store) -> None:
    def hook(events: tuple[str, ...], tenant: str = "t1") -> Webhook:
        return store.webhooks.create(
            Webhook(
                id=str(uuid.uuid4()),
                tenant_id=tenant,
                url="http://127.0.0.1:9/hook",
                events=events,
                secret="whsec_test",
            )
        )

    wanted = hook(("report.delivered",))
    hook(("report.finished",))  # not this event
    hook(("report.delivered",), tenant="t2")  # not this tenant
    target = destination(store)
    report = finished(store, new_report(destinations=(target.id,)))
    assert store.delivery_queue.claim("w1", 30) is not None
    assert store.delivery_queue.settle(
        report.id,
        target.id,
        "w1",
        state=DeliveryState.DELIVERED,
        event=("report.delivered", '{"id": "x"}'),
    )
    page = store.webhooks.deliveries(wanted.id, "t1", limit=10, offset=0)
    assert [(d.event, d.payload, d.state) for d in page.results] == [
        ("report.delivered", '{"id": "x"}', "pending")
    ]
    assert store.webhooks.claim("w1", 30) is not None  # the webhook queue sends it


def test_a_renewed_lease_holds_and_only_its_owner_renews(store: ports.Store) -> None:
    target = destination(store)
    report = finished(store, new_report(destinations=(target.id,)))
    assert store.delivery_queue.claim("w1", -1.0) is not None  # expired at once...
    assert store.delivery_queue.renew(report.id, target.id, "w1", 30)  # ...unless renewed
    assert store.delivery_queue.claim("w2", 30) is None
    assert not store.delivery_queue.renew(report.id, target.id, "w2", 30)
    assert store.delivery_queue.settle(report.id, target.id, "w1", state=DeliveryState.DELIVERED)
    assert not store.delivery_queue.renew(report.id, target.id, "w1", 30)  # settled: let go
