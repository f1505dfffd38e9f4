"""Standard Webhooks end to end: a real server signs, a real receiver on 127.0.0.1 verifies
with the reference library, ``standardwebhooks.Webhook(secret).verify(body, headers)``.

On SQLite and PostgreSQL (the fixtures of ``test_webhooks``): each subscription's choice
(``reportd``, ``standard``, ``both``), kept by the store, shown by the API, switchable, and the
``callback_url`` deliveries signed with the server's default.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from reportd.client import Client, verify_standard_webhook, verify_webhook
from reportd.domain.errors import ReportdError
from tests.integration import test_webhooks as base
from tests.integration.test_reports_api import create
from tests.integration.test_webhooks import Receiver, path, wait_log
from tests.server_fixtures import RunningServer

# The receiver, the servers on SQLite and PostgreSQL, a tenant of each test's own.
receiver = base.receiver
hook_server = base.hook_server
tenant_api = base.tenant_api

STANDARD = ("webhook-id", "webhook-timestamp", "webhook-signature")


def subscribe(api: httpx.Client, url: str, signature: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"url": url, "events": ["report.finished"]}
    if signature is not None:
        body["signature"] = signature
    response = api.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_each_choice_signs_as_chosen_and_the_library_verifies_it(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    where = {scheme: path() for scheme in ("reportd", "standard", "both", "default")}
    hooks = {
        scheme: subscribe(tenant_api, receiver.url(at), None if scheme == "default" else scheme)
        for scheme, at in where.items()
    }
    assert {s: h["signature"] for s, h in hooks.items()} == {
        "reportd": "reportd",
        "standard": "standard",
        "both": "both",
        "default": "both",
    }
    report = create(tenant_api, template_id="orders", formats=["csv"])
    got = {scheme: receiver.wait_for(at, 1)[0] for scheme, at in where.items()}
    for scheme, received in got.items():
        secret = str(hooks[scheme]["secret"])
        has_reportd = "reportd-signature" in received.headers
        has_standard = all(name in received.headers for name in STANDARD)
        assert (has_reportd, has_standard) == {
            "reportd": (True, False),
            "standard": (False, True),
        }.get(scheme, (True, True)), scheme
        if has_standard:
            body = Webhook(secret).verify(received.body, received.headers)
            assert (body["id"], body["state"]) == (report["id"], "FINISHED")
            assert received.headers["webhook-id"] == received.delivery_id
            assert verify_standard_webhook(received.body, received.headers, secret) == body
        else:
            with pytest.raises(WebhookVerificationError):
                Webhook(secret).verify(received.body, received.headers)
        if has_reportd:
            assert verify_webhook(received.body, received.headers["reportd-signature"], secret)
    # The choice is stored: every read shows it, the secret never again.
    listed = {h["id"]: h["signature"] for h in tenant_api.get("/v1/webhooks").json()["results"]}
    assert listed == {h["id"]: h["signature"] for h in hooks.values()}
    shown = tenant_api.get(f"/v1/webhooks/{hooks['standard']['id']}").json()
    assert shown["signature"] == "standard" and "secret" not in shown


def test_a_retry_keeps_its_webhook_id_and_each_attempt_verifies(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    where = path()
    receiver.fail_first(where, 1)
    hook = subscribe(tenant_api, receiver.url(where), "standard")
    create(tenant_api, template_id="orders", formats=["json"])
    first, second = receiver.wait_for(where, 2)
    assert (first.status, second.status) == (500, 200)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == first.delivery_id
    for attempt in (first, second):
        Webhook(str(hook["secret"])).verify(attempt.body, attempt.headers)
    [logged] = wait_log(tenant_api, str(hook["id"]), "delivered")
    assert logged["attempts"] == 2


def test_a_callback_is_signed_both_ways_with_the_callback_secret(
    tenant_api: httpx.Client, receiver: Receiver
) -> None:
    where = path()
    report = create(
        tenant_api, template_id="orders", formats=["csv"], callback_url=receiver.url(where)
    )
    [got] = receiver.wait_for(where, 1)
    secret = tenant_api.get("/v1/webhooks/callback_secret").json()["secret"]
    assert Webhook(secret).verify(got.body, got.headers)["id"] == report["id"]
    assert verify_webhook(got.body, got.headers["reportd-signature"], secret)["id"] == report["id"]


def test_a_subscription_switches_scheme_keeping_its_secret(
    tenant_api: httpx.Client, receiver: Receiver, hook_server: RunningServer
) -> None:
    where = path()
    with Client(hook_server.url, tenant_api.headers["Authorization"].split()[1]) as client:
        hook = client.create_webhook(receiver.url(where), ["report.finished"], signature="reportd")
        assert hook["signature"] == "reportd"
        create(tenant_api, template_id="orders", formats=["csv"])
        [before] = receiver.wait_for(where, 1)
        assert not any(name in before.headers for name in STANDARD)
        switched = client.update_webhook(hook["id"], signature="standard")
        assert switched["signature"] == "standard" and "secret" not in switched
        assert client.get_webhook(hook["id"])["signature"] == "standard"
        create(tenant_api, template_id="orders", formats=["csv"])
        _, after = receiver.wait_for(where, 2)
        assert "reportd-signature" not in after.headers
        assert Webhook(hook["secret"]).verify(after.body, after.headers)["state"] == "FINISHED"
        other = hook_server.make_key(f"t-{uuid.uuid4().hex[:10]}")
        with Client(hook_server.url, other) as stranger, pytest.raises(ReportdError) as caught:
            stranger.update_webhook(hook["id"], signature="both")
        assert getattr(caught.value, "status", None) == 404


def test_an_unknown_scheme_is_a_validation_error(tenant_api: httpx.Client) -> None:
    hook = subscribe(tenant_api, "http://127.0.0.1:9/x")
    for response in (
        tenant_api.post(
            "/v1/webhooks",
            json={"url": "http://127.0.0.1:9/x", "events": ["report.finished"], "signature": "x"},
        ),
        tenant_api.patch(f"/v1/webhooks/{hook['id']}", json={"signature": "svix"}),
        tenant_api.patch(f"/v1/webhooks/{hook['id']}", json={"url": "http://127.0.0.1:9/y"}),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "validation_error"
    assert tenant_api.get(f"/v1/webhooks/{hook['id']}").json()["signature"] == "both"
