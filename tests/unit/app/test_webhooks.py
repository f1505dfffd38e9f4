"""Webhooks: subscriptions per tenant, and the outbox dispatched as signed POSTs."""

from __future__ import annotations

import json

import pytest

from reportd.app.webhooks import DeliveryPolicy
from reportd.domain.errors import Forbidden, NotFound, ValidationError
from reportd.domain.models import Report
from reportd.domain.webhook_signatures import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from tests.unit.app.conftest import World


def render(report: Report) -> str:
    return json.dumps({"id": report.id, "state": report.state.value})


def test_a_subscription_is_checked_and_kept_per_tenant(world: World) -> None:
    caller = world.principal()
    with pytest.raises(ValidationError):
        world.app.webhooks.subscribe(caller, "ftp://example.com/hook", ["report.finished"])
    with pytest.raises(ValidationError):
        world.app.webhooks.subscribe(caller, "https://example.com/hook", ["report.exploded"])
    with pytest.raises(Forbidden):
        world.app.webhooks.subscribe(
            world.principal(scopes=("reports:read",)), "https://example.com/h", ["report.failed"]
        )
    hook = world.app.webhooks.subscribe(caller, "https://example.com/hook", ["report.finished"])
    assert hook.secret.startswith("whsec_")
    with pytest.raises(NotFound):
        world.app.webhooks.get(world.principal("globex"), hook.id)


def test_a_finished_report_becomes_one_signed_delivery(world: World) -> None:
    caller = world.principal()
    hook = world.app.webhooks.subscribe(caller, "https://example.com/hook", ["report.finished"])
    world.create(caller)
    done = world.run_next()
    dispatcher = world.app.new_dispatcher("w1", render)
    assert dispatcher.run_once() == 2  # one queued, one attempted
    ((url, body, headers),) = world.poster.sent
    assert url == "https://example.com/hook"
    assert json.loads(body) == {"id": done.id, "state": "FINISHED"}
    verify(body, headers[SIGNATURE_HEADER], hook.secret)
    assert headers[DELIVERY_HEADER]
    assert dispatcher.run_once() == 0  # each state change is delivered once
    page = world.app.webhooks.deliveries(caller, hook.id)
    assert [d.state for d in page.results] == ["delivered"]


def test_a_refused_delivery_is_retried_later(world: World) -> None:
    caller = world.principal()
    hook = world.app.webhooks.subscribe(caller, "https://example.com/hook", ["report.finished"])
    world.create(caller)
    world.run_next()
    failures: list[bool] = []
    world.poster.status = 500
    dispatcher = world.app.new_dispatcher("w1", render)
    dispatcher.on_failure = failures.append
    dispatcher.run_once()
    assert failures == [False]  # not final: a retry is scheduled
    (delivery,) = world.app.webhooks.deliveries(caller, hook.id).results
    assert delivery.attempts == 1 and delivery.last_status == 500
    assert delivery.next_attempt_at is not None


def test_the_retry_schedule_gives_up_at_the_cap() -> None:
    policy = DeliveryPolicy(retry_delays=(1.0, 5.0), max_attempts=3)
    assert [policy.delay_after(n) for n in (1, 2, 3)] == [1.0, 5.0, None]


def test_callback_secrets_are_per_tenant_and_stable(world: World) -> None:
    acme, globex = world.principal("acme"), world.principal("globex")
    assert world.app.webhooks.callback_secret(acme) == world.app.webhooks.callback_secret(acme)
    assert world.app.webhooks.callback_secret(acme) != world.app.webhooks.callback_secret(globex)
