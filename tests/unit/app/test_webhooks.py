"""Webhooks: subscriptions per tenant, and the outbox dispatched as signed POSTs."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from reportd.app.dispatcher import WebhookDispatcher
from reportd.app.webhooks import DeliveryPolicy
from reportd.domain.errors import Forbidden, NotFound, UrlNotAllowed, ValidationError
from reportd.domain.models import Report
from reportd.domain.webhook_signatures import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from tests.unit.app.conftest import FakePoster, World, built_world


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


class RaisingPoster(FakePoster):
    """Raises for one URL, as httpx did for a URL holding a CR/LF."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        if "poison" in url:
            raise RuntimeError("Invalid non-printable ASCII character in URL")
        return super().post(url, body, headers)


def test_each_kind_of_poisoned_delivery_fails_alone_and_the_rest_go_on(world: World) -> None:
    """Issue 11, build item 3: a delivery whose POST raises, and a report whose body cannot
    be rendered; each is recorded failed ("failed", never the error's text) and the good
    deliveries of the same pass are sent."""
    caller = world.principal()
    poisoned = world.app.webhooks.subscribe(
        caller, "https://example.com/poison", ["report.finished"]
    )
    good = world.app.webhooks.subscribe(caller, "https://example.com/good", ["report.finished"])
    unrenderable = world.create(caller)
    world.run_next()
    world.create(caller)
    world.run_next()

    def render_or_raise(report: Report) -> str:
        if report.id == unrenderable.id:
            raise ValueError("Maximum serialization depth exceeded")
        return render(report)

    poster = RaisingPoster()
    dispatcher = WebhookDispatcher(
        webhooks=world.store.webhooks,
        reports=world.store.reports,
        service=world.app.webhooks,
        poster=poster,
        render=render_or_raise,
        owner="w1",
    )
    dispatcher.run_once()
    assert [url for url, _, _ in poster.sent] == ["https://example.com/good"]
    states = {
        (d.report_id == unrenderable.id, d.state, d.last_error)
        for d in world.app.webhooks.deliveries(caller, good.id).results
    }
    assert states == {(True, "failed", "failed"), (False, "delivered", None)}
    for delivery in world.app.webhooks.deliveries(caller, poisoned.id).results:
        assert (delivery.state, delivery.last_error) == ("failed", "failed")
    assert dispatcher.run_once() == 0  # nothing left over to abort a later pass


def test_an_address_refused_at_connect_time_is_refused_by_policy_for_good(world: World) -> None:
    caller = world.principal()
    hook = world.app.webhooks.subscribe(caller, "https://example.com/h", ["report.finished"])
    world.create(caller)
    world.run_next()

    class Refusing(FakePoster):
        def post(
            self, url: str, body: bytes, headers: dict[str, str]
        ) -> tuple[int | None, str | None]:
            raise UrlNotAllowed("url points at an address reportd does not send to")

    dispatcher = WebhookDispatcher(
        webhooks=world.store.webhooks,
        reports=world.store.reports,
        service=world.app.webhooks,
        poster=Refusing(),
        render=render,
        owner="w1",
    )
    dispatcher.run_once()
    (delivery,) = world.app.webhooks.deliveries(caller, hook.id).results
    assert (delivery.state, delivery.attempts) == ("failed", 1)
    assert (delivery.last_error, delivery.last_status) == ("refused by policy", None)


def test_subscriptions_to_inside_addresses_are_refused_by_name_too(world: World) -> None:
    caller = world.principal()
    for url in ("http://127.0.0.1/h", "https://internal.example/h", "http://[::1]:8080/"):
        with pytest.raises(UrlNotAllowed):
            world.app.webhooks.subscribe(caller, url, ["report.finished"])
    with pytest.raises(UrlNotAllowed):
        world.create(caller, callback_url="https://internal.example/cb")
    assert world.app.webhooks.list(caller) == []


def test_each_subscription_is_signed_as_it_chose_and_can_switch(world: World) -> None:
    caller = world.principal()
    hooks = world.app.webhooks
    chosen = {
        scheme: hooks.subscribe(
            caller, f"https://example.com/{scheme}", ["report.finished"], scheme
        )
        for scheme in ("reportd", "standard")
    }
    default = hooks.subscribe(caller, "https://example.com/default", ["report.finished"])
    assert default.signature == "both"  # the server's default when a subscription names none
    with pytest.raises(ValidationError):
        hooks.subscribe(caller, "https://example.com/x", ["report.finished"], "svix")
    world.create(caller)
    world.run_next()
    world.app.new_dispatcher("w1", render).run_once()
    sent = {url.rsplit("/", 1)[1]: (body, headers) for url, body, headers in world.poster.sent}
    body, headers = sent["reportd"]
    verify(body, headers[SIGNATURE_HEADER], chosen["reportd"].secret)
    assert "webhook-signature" not in headers
    body, headers = sent["standard"]
    assert Webhook(chosen["standard"].secret).verify(body, headers)
    assert SIGNATURE_HEADER not in headers
    assert headers["webhook-id"] == headers[DELIVERY_HEADER]  # stable across retries
    body, headers = sent["default"]
    verify(body, headers[SIGNATURE_HEADER], default.secret)
    assert Webhook(default.secret).verify(body, headers)
    switched = hooks.set_signature(caller, chosen["reportd"].id, "standard")
    assert (switched.signature, switched.secret) == ("standard", chosen["reportd"].secret)
    assert hooks.get(caller, switched.id).signature == "standard"
    with pytest.raises(NotFound):
        hooks.set_signature(world.principal("globex"), switched.id, "both")
    with pytest.raises(Forbidden):
        hooks.set_signature(world.principal(scopes=("reports:read",)), switched.id, "both")


def test_the_operators_default_signs_callbacks_and_subscriptions_that_name_none() -> None:
    with built_world(webhook_signature="standard") as world:
        caller = world.principal()
        hook = world.app.webhooks.subscribe(caller, "https://example.com/h", ["report.finished"])
        assert hook.signature == "standard"
        world.create(caller, callback_url="https://example.com/cb")
        world.run_next()
        world.app.new_dispatcher("w1", render).run_once()
        sent = {url: (body, headers) for url, body, headers in world.poster.sent}
        body, headers = sent["https://example.com/cb"]
        assert SIGNATURE_HEADER not in headers
        assert Webhook(world.app.webhooks.callback_secret(caller)).verify(body, headers)
    with (
        pytest.raises(ValidationError, match=r"\[webhooks\] signature"),
        built_world(webhook_signature="svix"),
    ):
        pass
