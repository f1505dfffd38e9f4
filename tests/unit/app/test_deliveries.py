"""Deliveries: made with the report, tried once it is FINISHED, retried, reported as events."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace

import pytest

from reportd.app.schedules import ScheduleChanges
from reportd.app.webhooks import DeliveryPolicy
from reportd.domain.destinations import AUTHENTICATION_FAILED, SHOWN_REASONS, DeliveryState
from reportd.domain.errors import DeliveryFailed, UrlNotAllowed
from reportd.domain.formats import Format
from reportd.domain.models import Principal, Report, Schedule
from reportd.domain.states import ReportState
from tests.unit.app.conftest import World


def render(report: Report) -> str:
    return json.dumps({"id": report.id, "state": report.state.value})


def _email(world: World, caller: Principal) -> str:
    created = world.app.destinations.create(caller, "email", "Team", {"to": ["team@acme.io"]})
    return created.destination.id


def test_a_finished_report_is_delivered_once(world: World) -> None:
    caller = world.principal()
    destination = _email(world, caller)
    report = world.create(caller, destinations=(destination,))
    assert [d.state for d in world.store.reports.get(report.id).deliveries] == ["pending"]
    dispatcher = world.app.new_delivery_dispatcher("w1", render)
    assert dispatcher.run_once() == 0  # not before its files exist
    done = world.run_next()
    assert done.state is ReportState.FINISHED  # FINISHED whatever the delivery does
    assert dispatcher.run_once() == 1
    ((sent_to, _secrets, parcel),) = world.sender.sent
    assert sent_to.id == destination and parcel.report.id == report.id
    assert [f.artifact.filename for f in parcel.files] == [a.filename for a in done.artifacts]
    assert b"".join(parcel.files[0].open()) == b"".join(
        world.storage.open_range(done.artifacts[0].storage_key, 0, None)
    )
    assert parcel.link(parcel.files[0]).startswith("https://reports.example/v1/files/")
    (delivery,) = world.app.reports.get(caller, report.id).deliveries
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("delivered", 1, None)
    assert dispatcher.run_once() == 0


def test_a_refused_delivery_is_retried_then_fails_with_an_event(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caller = world.principal()
    hook = world.app.webhooks.subscribe(
        caller, "https://example.com/hook", ["report.delivered", "report.delivery_failed"]
    )
    destination = _email(world, caller)
    report = world.create(caller, destinations=(destination,))
    world.run_next()
    world.sender.failure = DeliveryFailed("SMTP 10.0.0.5:25: connection refused")
    dispatcher = world.app.new_delivery_dispatcher("w1", render)
    with caplog.at_level(logging.INFO, logger="reportd.app.deliveries"):
        assert dispatcher.run_once() == 1
    (delivery,) = world.store.reports.get(report.id).deliveries
    assert delivery.state is DeliveryState.PENDING and delivery.attempts == 1
    assert delivery.last_error == "failed"  # what answered is the operator's to read
    assert _logged_detail(caplog, report.id, destination) == (
        "SMTP 10.0.0.5:25: connection refused"
    )
    assert delivery.next_attempt_at is not None
    assert dispatcher.run_once() == 0  # backoff: not due yet
    dispatcher.policy = DeliveryPolicy(retry_delays=(0.0,), max_attempts=3)  # due at once now
    assert dispatcher.run_once() == 0  # still the first try's 30 s wait
    _wait_out(world, report.id)
    assert dispatcher.run_once() == 2  # the second try fails, the third is due at once, fails
    (delivery,) = world.store.reports.get(report.id).deliveries
    assert delivery.state is DeliveryState.FAILED and delivery.attempts == 3
    (event,) = world.app.webhooks.deliveries(caller, hook.id).results
    assert event.event == "report.delivery_failed"
    body = json.loads(event.payload)
    assert body["delivery"] == {
        "destination_id": destination,
        "state": "failed",
        "attempts": 3,
        "last_error": "failed",
    }


def _logged_detail(caplog: pytest.LogCaptureFixture, report_id: str, destination: str) -> str:
    """The detail the operator's log has for one delivery (the report's and destination's
    ids are the delivery's id)."""
    [record] = [
        r
        for r in caplog.records
        if getattr(r, "action", None) == "delivery_attempt_failed"
        and getattr(r, "report_id", None) == report_id
        and getattr(r, "destination_id", None) == destination
    ]
    detail: str = record.error  # type: ignore[attr-defined]
    return detail


@pytest.mark.parametrize(
    ("failure", "shown", "state", "detail"),
    [
        (
            UrlNotAllowed("the address is not allowed", details="10.0.0.7"),
            "refused by policy",
            "failed",  # never retried into the inside
            "the address is not allowed: 10.0.0.7",
        ),
        (
            DeliveryFailed("SFTP 10.0.0.7:22: Permission denied", shown=AUTHENTICATION_FAILED),
            "authentication failed",
            "pending",
            "SFTP 10.0.0.7:22: Permission denied",
        ),
        (
            OSError("[Errno 111] Connection refused"),  # a library's own, unforeseen error
            "failed",
            "pending",
            "OSError: [Errno 111] Connection refused",
        ),
    ],
)
def test_the_tenant_sees_a_stable_reason_and_the_operator_the_detail(
    world: World,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
    shown: str,
    state: str,
    detail: str,
) -> None:
    caller = world.principal()
    destination = _email(world, caller)
    report = world.create(caller, destinations=(destination,))
    world.run_next()
    world.sender.failure = failure
    with caplog.at_level(logging.INFO, logger="reportd.app.deliveries"):
        world.app.new_delivery_dispatcher("w1", render).run_once()
    (delivery,) = world.app.reports.get(caller, report.id).deliveries
    assert (delivery.last_error, delivery.state.value) == (shown, state)
    assert delivery.last_error in SHOWN_REASONS
    assert _logged_detail(caplog, report.id, destination) == detail


def test_a_delivered_report_raises_the_delivered_event(world: World) -> None:
    caller = world.principal()
    hook = world.app.webhooks.subscribe(caller, "https://example.com/hook", ["report.delivered"])
    report = world.create(caller, destinations=(_email(world, caller),))
    world.run_next()
    world.app.new_delivery_dispatcher("w1", render).run_once()
    (event,) = world.app.webhooks.deliveries(caller, hook.id).results
    assert event.event == "report.delivered" and json.loads(event.payload)["id"] == report.id


def test_a_dead_workers_delivery_is_tried_again(world: World) -> None:
    caller = world.principal()
    report = world.create(caller, destinations=(_email(world, caller),))
    world.run_next()
    queue = world.store.delivery_queue
    assert queue.claim("dead-worker", lease_seconds=0.0) is not None  # it dies holding it
    dispatcher = world.app.new_delivery_dispatcher("w2", render)
    assert dispatcher.run_once() == 1
    (delivery,) = world.store.reports.get(report.id).deliveries
    assert delivery.state is DeliveryState.DELIVERED
    assert not queue.settle(report.id, delivery.destination_id, "dead-worker", state=delivery.state)
    assert len(world.sender.sent) == 1


def test_a_failed_report_skips_its_deliveries(world: World) -> None:
    caller = world.principal()
    report = world.create(caller, destinations=(_email(world, caller),))
    world.app.reports.cancel(caller, report.id)
    assert world.app.new_delivery_dispatcher("w1", render).run_once() == 1
    (delivery,) = world.store.reports.get(report.id).deliveries
    assert delivery.state is DeliveryState.SKIPPED and world.sender.sent == []


def test_a_deleted_destination_fails_its_delivery_for_good(world: World) -> None:
    caller = world.principal()
    destination = _email(world, caller)
    report = world.create(caller, destinations=(destination,))
    world.run_next()
    world.app.destinations.delete(caller, destination)
    world.app.new_delivery_dispatcher("w1", render).run_once()
    (delivery,) = world.store.reports.get(report.id).deliveries
    assert delivery.state is DeliveryState.FAILED
    assert delivery.last_error == "the destination was deleted"


def test_a_schedule_carries_its_destinations_to_each_run(world: World) -> None:
    caller = world.principal()
    destination = _email(world, caller)
    schedule = world.app.schedules.create(
        caller,
        Schedule(
            id="",
            tenant_id="",
            template_id="orders",
            name="Daily",
            formats=(Format.CSV,),
            destinations=(destination,),
        ),
    )
    run = world.app.schedules.run_now(caller, schedule.id)
    assert run.destinations == (destination,)
    assert [d.destination_id for d in world.store.reports.get(run.id).deliveries] == [destination]


def _wait_out(world: World, report_id: str) -> None:
    """Let the first retry's wait pass: its next try is due now (the fake keeps real time)."""
    state = world.store.state  # type: ignore[attr-defined]
    row = state.reports[report_id]
    now = state.now()
    row.report = row.report.evolve(
        deliveries=tuple(replace(d, next_attempt_at=now) for d in row.report.deliveries)
    )


def test_a_schedules_deleted_destination_fails_the_delivery_not_the_run(world: World) -> None:
    caller = world.principal()
    kept, gone = _email(world, caller), _email(world, caller)
    schedule = world.app.schedules.create(
        caller,
        Schedule(
            id="", tenant_id="", template_id="orders", name="Daily", formats=(Format.CSV,),
            destinations=(kept, gone),
        ),
    )  # fmt: skip
    world.app.destinations.delete(caller, gone)
    run = world.app.schedules.run_now(caller, schedule.id)
    assert run.destinations == (kept, gone)
    world.run_next()
    world.app.new_delivery_dispatcher("w1", render).run_once()
    states = {d.destination_id: d.state for d in world.store.reports.get(run.id).deliveries}
    assert states == {kept: DeliveryState.DELIVERED, gone: DeliveryState.FAILED}
    changed = world.app.schedules.update(caller, schedule.id, ScheduleChanges(destinations=[kept]))
    assert changed.destinations == (kept,)


def test_each_attempt_is_counted_by_type_and_the_state_it_left(world: World) -> None:
    caller = world.principal()
    report = world.create(caller, destinations=(_email(world, caller),))
    world.run_next()
    counted: list[tuple[str, str]] = []
    dispatcher = world.app.new_delivery_dispatcher("w1", render)
    dispatcher.on_attempt = lambda kind, state: counted.append((kind, state))
    world.sender.failure = DeliveryFailed("down")
    dispatcher.run_once()
    assert counted == [("email", "pending")]
    assert world.store.reports.get(report.id).deliveries[0].attempts == 1


def test_a_long_send_keeps_its_lease(world: World) -> None:
    caller = world.principal()
    report = world.create(caller, destinations=(_email(world, caller),))
    world.run_next()
    dispatcher = world.app.new_delivery_dispatcher("w1", render)
    dispatcher.lease_seconds = 1.0  # renewed every third of a second while the send runs
    other = world.app.new_delivery_dispatcher("w2", render)
    leases = world.store.state.delivery_leases  # type: ignore[attr-defined]
    taken: list[int] = []
    slow = world.sender.send

    def send_slowly(*args: object) -> None:
        seen = {expiry for _, expiry in leases.values()}
        deadline = time.monotonic() + 20
        while len(seen) < 4 and time.monotonic() < deadline:  # three renewals, so far past
            seen |= {expiry for _, expiry in leases.values()}  # the first lease's end
            time.sleep(0.02)
        assert len(seen) >= 4, "the lease was not renewed"
        taken.append(other.run_once())  # the other worker finds nothing to take
        slow(*args)  # type: ignore[arg-type]

    world.sender.send = send_slowly  # type: ignore[method-assign]
    assert dispatcher.run_once() == 1
    assert taken == [0]
    assert world.store.reports.get(report.id).deliveries[0].state is DeliveryState.DELIVERED
