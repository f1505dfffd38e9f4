"""E-mail destinations end to end: a real server mails a finished report through a real SMTP
server (aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL.

The attachment's bytes are the downloaded file's and match the artifact's sha256; a file above
the operator's cap goes as a signed link instead; the SMTP server stopped mid-delivery and
started again gets the mail exactly once.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from reportd.client import Client
from reportd.entrypoints.cli.client_commands import report_app
from reportd.entrypoints.cli.destination_commands import destinations_app
from tests.delivery_servers import SmtpInbox, attachments, wait_until
from tests.integration.conftest import server_on
from tests.integration.test_reports_api import create
from tests.server_fixtures import RunningServer

CAP = 200  # bytes: a one-row CSV is attached, every row as JSON goes as a link


@pytest.fixture(scope="module")
def inbox() -> Iterator[SmtpInbox]:
    running = SmtpInbox()
    running.start()
    yield running
    running.stop()


def delivery_env(**more: str) -> dict[str, str]:
    return {
        "REPORTD_DELIVERY__RETRY_DELAYS": "[0.3]",
        "REPORTD_DELIVERY__MAX_ATTEMPTS": "50",
        "REPORTD_DELIVERY__POLL_INTERVAL": "0.1",
        "REPORTD_DELIVERY__LEASE_SECONDS": "10",
        **more,
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def mail_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, inbox: SmtpInbox
) -> Iterator[RunningServer]:
    env = delivery_env(
        REPORTD_SMTP__HOST="127.0.0.1",
        REPORTD_SMTP__PORT=str(inbox.port),
        REPORTD_SMTP__STARTTLS="false",
        REPORTD_SMTP__FROM="reports@reportd.example",
        REPORTD_SMTP__MAX_ATTACHMENT_BYTES=str(CAP),
    )
    with server_on(request, tmp_path_factory.mktemp(f"mail-{request.param}"), env) as running:
        yield running


@pytest.fixture
def api(mail_server: RunningServer) -> Iterator[httpx.Client]:
    """An admin client of a tenant of its own, over the sample world's tenant data."""
    headers = {"Authorization": f"Bearer {mail_server.admin_key}"}
    with httpx.Client(base_url=mail_server.url, headers=headers, timeout=30) as client:
        yield client


def email_destination(api: httpx.Client, *to: str) -> dict[str, Any]:
    response = api.post("/v1/destinations", json={"type": "email", "name": "Team", "to": list(to)})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def wait_delivered(api: httpx.Client, report_id: str, timeout: float = 30) -> dict[str, Any]:
    def delivered() -> dict[str, Any] | None:
        report: dict[str, Any] = api.get(f"/v1/reports/{report_id}").json()
        states = {d["state"] for d in report["deliveries"]}
        return report if states and states <= {"delivered", "failed"} else None

    found: dict[str, Any] = wait_until(delivered, timeout, f"the deliveries of {report_id}")
    return found


def test_a_finished_report_is_mailed_with_its_exact_bytes(
    api: httpx.Client, inbox: SmtpInbox
) -> None:
    to = f"team-{uuid.uuid4().hex[:6]}@acme.example"
    destination = email_destination(api, to)
    assert destination["to"] == [to] and destination["secrets_set"] == []
    report = create(
        api,
        template_id="orders",
        formats=["csv"],
        filter='customer eq "Ada" and amount gt 100',
        destinations=[destination["id"]],
    )
    assert [d["state"] for d in report["deliveries"]] == ["pending"]
    final = wait_delivered(api, report["id"])
    assert final["state"] == "FINISHED"
    [delivery] = final["deliveries"]
    assert delivery == {**delivery, "destination_id": destination["id"], "state": "delivered"}
    assert delivery["attempts"] == 1 and delivery["last_error"] is None
    [message] = wait_until(lambda: inbox.about(report["id"]), what="the mail")
    assert message["To"] == to and message["From"] == "reports@reportd.example"
    [artifact] = final["artifacts"]
    files = attachments(message)
    downloaded = api.get(f"/v1/reports/{report['id']}/download", params={"format": "csv"})
    assert files == {artifact["filename"]: downloaded.content}
    assert hashlib.sha256(files[artifact["filename"]]).hexdigest() == artifact["sha256"]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    for body in (str(text.get_content()), str(html.get_content())):
        assert "Orders report" in body and "Rows" in body and artifact["sha256"] in body
    assert 'customer eq "Ada" and amount gt 100' in str(text.get_content())
    assert "customer eq &quot;Ada&quot;" in str(html.get_content())


def test_a_file_over_the_cap_is_mailed_as_a_signed_link(
    api: httpx.Client, inbox: SmtpInbox
) -> None:
    destination = email_destination(api, "big@acme.example")
    report = create(api, template_id="orders", formats=["json"], destinations=[destination["id"]])
    final = wait_delivered(api, report["id"])
    [artifact] = final["artifacts"]
    assert artifact["size"] > CAP
    [message] = wait_until(lambda: inbox.about(report["id"]), what="the mail")
    assert attachments(message) == {}
    text = str(message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    [link] = re.findall(r"https?://\S+signature=\S+", text)
    with httpx.Client(timeout=30) as anonymous:  # the link is the only credential
        got = anonymous.get(link)
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == artifact["sha256"]


def test_the_smtp_server_down_then_back_gets_the_mail_once(
    api: httpx.Client, inbox: SmtpInbox
) -> None:
    destination = email_destination(api, "later@acme.example")
    inbox.stop()
    try:
        report = create(
            api, template_id="orders", formats=["csv"], destinations=[destination["id"]]
        )

        def failed_once() -> dict[str, Any] | None:
            found: dict[str, Any] = api.get(f"/v1/reports/{report['id']}").json()
            [delivery] = found["deliveries"]
            return found if delivery["attempts"] >= 1 else None

        down = wait_until(failed_once, what="a failed attempt")
        assert down["state"] == "FINISHED"  # the report never waits for its delivery
        [delivery] = down["deliveries"]
        # The operator's SMTP server's address and reply are the operator's to read.
        assert (delivery["state"], delivery["last_error"]) == ("pending", "failed")
    finally:
        inbox.start()
    final = wait_delivered(api, report["id"])
    [delivery] = final["deliveries"]
    assert delivery["state"] == "delivered" and delivery["attempts"] >= 2
    assert delivery["last_error"]  # why it was retried stays visible
    [message] = wait_until(lambda: inbox.about(report["id"]), what="the mail")
    assert len(inbox.about(report["id"])) == 1
    assert message["To"] == "later@acme.example"


def test_the_sdk_and_the_cli_make_destinations_and_deliver_to_them(
    mail_server: RunningServer, inbox: SmtpInbox, tmp_path: Path
) -> None:
    env = {"REPORTD_URL": mail_server.url, "REPORTD_API_KEY": mail_server.admin_key}
    with Client(mail_server.url, mail_server.admin_key) as client:
        made = client.create_destination("email", "SDK", to=["sdk@acme.example"])
        assert client.get_destination(made["id"])["to"] == ["sdk@acme.example"]
        changed = client.update_destination(made["id"], subject="Nightly orders")
        assert changed["subject"] == "Nightly orders"
    subject = tmp_path / "subject.txt"  # key=@FILE: a file's text (private keys stay out of argv)
    subject.write_text("From a file")
    created = CliRunner().invoke(
        destinations_app,
        ["create", "email", "--name", "CLI", "--set", 'to=["cli@acme.example"]',
         "--set", f"subject=@{subject}", "--json"],
        env=env,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    cli_made = json.loads(created.stdout)
    assert cli_made["to"] == ["cli@acme.example"] and cli_made["subject"] == "From a file"
    listed = CliRunner().invoke(destinations_app, ["list"], env=env)
    assert made["id"] in listed.stdout and cli_made["id"] in listed.stdout
    ran = CliRunner().invoke(
        report_app,
        ["create", "-t", "orders", "-f", "csv", "-d", made["id"], "--wait", "--json"],
        env=env,
    )
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.stdout)
    assert report["destinations"] == [made["id"]]
    [message] = wait_until(lambda: inbox.about(report["id"]), what="the mail")
    assert message["Subject"] == "Nightly orders" and message["To"] == "sdk@acme.example"
    gone = CliRunner().invoke(destinations_app, ["delete", cli_made["id"]], env=env)
    assert gone.exit_code == 0, gone.output
    missing = CliRunner().invoke(destinations_app, ["show", cli_made["id"]], env=env)
    assert missing.exit_code == 1 and "destination_not_found" in missing.output
