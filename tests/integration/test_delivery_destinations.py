"""S3, SFTP and webhook destinations end to end, and the destinations API, on SQLite and
PostgreSQL: a real server delivers finished reports to a SeaweedFS bucket with the tenant's own
credentials, to asyncssh's SFTP server (host key pinned, password and key logins), and to an
HTTP receiver that checks the signatures; each receives the exact bytes. The S3 and SFTP
servers are stopped once mid-delivery and started again: the file arrives, once. 127.0.0.1 is
allow-listed for the tests (``[webhooks] allow_private``); the API refuses it otherwise.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from reportd.adapters.db import Store
from reportd.domain.destinations import Destination, DestinationType
from reportd.domain.webhook_signatures import verify
from tests._serve import OPERATOR_LOG
from tests.delivery_servers import SftpServer, TenantS3, wait_until
from tests.integration.conftest import server_on
from tests.integration.test_delivery_email import delivery_env, wait_delivered
from tests.integration.test_reports_api import create
from tests.server_fixtures import RunningServer


class Receiver:
    """An HTTP server in a thread keeping every POST (path, lower-case headers, body)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.received.append((self.path, headers, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path: str) -> list[tuple[str, dict[str, str], bytes]]:
        with self.lock:
            return [r for r in self.received if r[0] == path]


@pytest.fixture(scope="module")
def tenant_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TenantS3]:
    running = TenantS3(tmp_path_factory.mktemp("tenant-s3"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    root = tmp_path_factory.mktemp("sftp-root")
    (root / "inbox").mkdir()
    running = SftpServer(root)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    env = delivery_env(REPORTD_WEBHOOKS__ALLOW_PRIVATE='["127.0.0.1"]', **{OPERATOR_LOG: "1"})
    root = tmp_path_factory.mktemp(f"destinations-{request.param}")
    with server_on(request, root, env) as running:
        yield running


@pytest.fixture
def api(server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        yield client


def destination(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/destinations", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/v1/destinations/{response.json()['id']}"
    made: dict[str, Any] = response.json()
    return made


def s3_body(s3: TenantS3, prefix: str) -> dict[str, Any]:
    return {
        "type": "s3",
        "name": "Tenant bucket",
        "endpoint_url": s3.endpoint_url,
        "bucket": s3.bucket,
        "prefix": prefix,
        "access_key_id": s3.access_key,
        "secret_access_key": s3.secret_key,
    }


def sftp_body(server: SftpServer, **secret: str) -> dict[str, Any]:
    return {
        "type": "sftp",
        "host": "127.0.0.1",
        "port": server.port,
        "username": server.username,
        "path": "/inbox",
        "host_key": server.host_key,
        **secret,
    }


def downloaded(api: httpx.Client, report: dict[str, Any]) -> tuple[str, bytes]:
    [artifact] = report["artifacts"]
    body = api.get(f"/v1/reports/{report['id']}/download").content
    assert hashlib.sha256(body).hexdigest() == artifact["sha256"]
    return artifact["filename"], body


def test_s3_gets_the_exact_bytes_under_the_tenants_prefix(
    api: httpx.Client, tenant_s3: TenantS3
) -> None:
    prefix = f"daily-{uuid.uuid4().hex[:6]}"
    target = destination(api, **s3_body(tenant_s3, prefix))
    report = create(api, template_id="orders", formats=["csv"], destinations=[target["id"]])
    final = wait_delivered(api, report["id"])
    assert [d["state"] for d in final["deliveries"]] == ["delivered"]
    filename, body = downloaded(api, final)
    got = tenant_s3.client().get_object(
        Bucket=tenant_s3.bucket, Key=f"{prefix}/{report['id']}/{filename}"
    )
    assert got["Body"].read() == body


def test_sftp_gets_the_exact_bytes_with_a_password_and_with_a_key(
    api: httpx.Client, sftp: SftpServer
) -> None:
    by_password = destination(api, **sftp_body(sftp, password=sftp.password))
    by_key = destination(api, **sftp_body(sftp, private_key=sftp.client_key))
    assert by_key["secrets_set"] == ["private_key"] and "private_key" not in by_key
    report = create(
        api,
        template_id="orders",
        formats=["json"],
        destinations=[by_password["id"], by_key["id"]],
    )
    final = wait_delivered(api, report["id"])
    assert [d["state"] for d in final["deliveries"]] == ["delivered", "delivered"]
    filename, body = downloaded(api, final)
    assert (sftp.root / "inbox" / filename).read_bytes() == body
    assert {"password", "publickey"} <= set(sftp.logins)
    assert not list((sftp.root / "inbox").glob(".*.part"))


def test_sftp_refuses_a_server_whose_host_key_is_not_the_pinned_one(
    api: httpx.Client, server: RunningServer, sftp: SftpServer, tmp_path: Path
) -> None:
    impostor_key = SftpServer(tmp_path).host_key
    target = destination(
        api, **{**sftp_body(sftp, password=sftp.password), "host_key": impostor_key}
    )
    report = create(api, template_id="orders", formats=["csv"], destinations=[target["id"]])

    def tried() -> dict[str, Any] | None:
        found: dict[str, Any] = api.get(f"/v1/reports/{report['id']}").json()
        return found if found["deliveries"][0]["attempts"] >= 1 else None

    [delivery] = wait_until(tried, what="an attempt")["deliveries"]
    # Telling the mismatch would tell that an SSH server answers there: "failed" it is.
    assert (delivery["state"], delivery["last_error"]) == ("pending", "failed")
    assert "not trusted" in operator_detail(server, report["id"], target["id"])


def test_sftp_says_authentication_failed_when_the_pinned_server_refuses_the_login(
    api: httpx.Client, server: RunningServer, sftp: SftpServer
) -> None:
    """The server proved the pinned host key first: its refusal is the tenant's to know."""
    target = destination(api, **sftp_body(sftp, password="not-" + sftp.password))
    report = create(api, template_id="orders", formats=["csv"], destinations=[target["id"]])
    [delivery] = first_attempts(api, report["id"])
    assert (delivery["state"], delivery["last_error"]) == ("pending", "authentication failed")
    assert f"127.0.0.1:{sftp.port}" in operator_detail(server, report["id"], target["id"])


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then closed: the kernel refuses it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def operator_detail(server: RunningServer, report_id: str, destination_id: str) -> str:
    """What the server's own (operator's) log says of one delivery's failed attempts."""
    lines = [
        json.loads(line) for line in server.log_path.read_text().splitlines() if line[:1] == "{"
    ]
    return " | ".join(
        str(entry.get("error"))
        for entry in lines
        if entry.get("action") == "delivery_attempt_failed"
        and entry.get("report_id") == report_id
        and entry.get("destination_id") == destination_id
    )


def first_attempts(api: httpx.Client, report_id: str) -> list[dict[str, Any]]:
    def tried() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = api.get(f"/v1/reports/{report_id}").json()["deliveries"]
        return found if all(d["attempts"] >= 1 for d in found) else None

    attempted: list[dict[str, Any]] = wait_until(tried, 60, "an attempt at each")
    return attempted


def test_nothing_listening_shows_the_tenant_only_failed(
    api: httpx.Client, server: RunningServer, tenant_s3: TenantS3, sftp: SftpServer
) -> None:
    """An allow-listed loopback port with nothing behind it: the tenant's log must not say
    "connection refused" (that is how a port scan reads it); the operator's log does."""
    port = closed_port()
    bucket = destination(
        api, **{**s3_body(tenant_s3, "none"), "endpoint_url": f"http://127.0.0.1:{port}"}
    )
    folder = destination(api, **{**sftp_body(sftp, password=sftp.password), "port": port})
    report = create(
        api, template_id="orders", formats=["csv"], destinations=[bucket["id"], folder["id"]]
    )
    deliveries = first_attempts(api, report["id"])
    assert [(d["state"], d["last_error"]) for d in deliveries] == [("pending", "failed")] * 2
    for target in (bucket, folder):
        detail = operator_detail(server, report["id"], target["id"])
        assert f"127.0.0.1:{port}" in detail, detail  # what the tenant's log must not say


def test_a_host_the_policy_refuses_shows_only_refused_by_policy(
    api: httpx.Client, server: RunningServer
) -> None:
    """Destinations stored before the policy was as strict as now (127.0.0.2 is not the
    allow-listed 127.0.0.1; the API refuses it when saved): refused at connect time, for
    good, and the tenant reads only "refused by policy"."""
    tenant = api.get("/v1/me").json()["tenant_id"]
    url = server.env.get("REPORTD_DATABASE__URL") or (
        f"sqlite:///{(server.data_dir / 'reportd.db').resolve()}"
    )
    store = Store.connect(url)
    try:
        stored = [
            store.destinations.create(
                Destination(
                    id=str(uuid.uuid4()),
                    tenant_id=tenant,
                    type=kind,
                    name=kind.value,
                    config=config,
                )
            )
            for kind, config in (
                (
                    DestinationType.S3,
                    {"endpoint_url": "http://127.0.0.2:9", "bucket": "b", "access_key_id": "k"},
                ),
                (
                    DestinationType.SFTP,
                    {"host": "127.0.0.2", "port": 22, "username": "u", "host_key": "unused"},
                ),
            )
        ]
    finally:
        store.close()
    report = create(api, template_id="orders", formats=["csv"], destinations=[d.id for d in stored])
    deliveries = first_attempts(api, report["id"])
    assert [(d["state"], d["attempts"], d["last_error"]) for d in deliveries] == [
        ("failed", 1, "refused by policy")
    ] * 2
    for target in stored:
        assert "'reason': 'loopback'" in operator_detail(server, report["id"], target.id)


def test_a_webhook_destination_receives_the_file_signed(
    api: httpx.Client, receiver: Receiver
) -> None:
    path = f"/in/{uuid.uuid4().hex}"
    target = destination(api, type="webhook", url=receiver.url(path))
    secret = target["generated_secrets"]["secret"]
    assert target["secrets_set"] == ["secret"] and "secret" not in target
    report = create(api, template_id="orders", formats=["csv"], destinations=[target["id"]])
    wait_delivered(api, report["id"])
    final = api.get(f"/v1/reports/{report['id']}").json()
    filename, body = downloaded(api, final)
    [(_, headers, got)] = receiver.at(path)
    assert got == body and headers["reportd-report"] == report["id"]
    assert filename in headers["content-disposition"]
    verify(got, headers["reportd-signature"], secret)  # reportd's own scheme
    StandardWebhook(secret).verify(got, headers, json_parse=False)  # the reference library


def test_s3_and_sftp_down_then_back_get_the_file_once(
    api: httpx.Client, tenant_s3: TenantS3, sftp: SftpServer
) -> None:
    prefix = f"later-{uuid.uuid4().hex[:6]}"
    bucket = destination(api, **s3_body(tenant_s3, prefix))
    folder = destination(api, **sftp_body(sftp, password=sftp.password))
    tenant_s3.stop()
    sftp.stop()
    try:
        report = create(
            api,
            template_id="orders",
            formats=["csv"],
            destinations=[bucket["id"], folder["id"]],
        )

        def both_failed() -> dict[str, Any] | None:
            found: dict[str, Any] = api.get(f"/v1/reports/{report['id']}").json()
            return found if all(d["attempts"] >= 1 for d in found["deliveries"]) else None

        down = wait_until(both_failed, 60, "a failed attempt at each")
        assert down["state"] == "FINISHED"
        assert [d["state"] for d in down["deliveries"]] == ["pending", "pending"]
        assert all(d["last_error"] for d in down["deliveries"])
    finally:
        tenant_s3.start()
        sftp.start()
    final = wait_delivered(api, report["id"], timeout=60)
    assert [d["state"] for d in final["deliveries"]] == ["delivered", "delivered"]
    filename, body = downloaded(api, final)
    listed = tenant_s3.client().list_objects_v2(Bucket=tenant_s3.bucket, Prefix=prefix)
    assert [o["Key"] for o in listed["Contents"]] == [f"{prefix}/{report['id']}/{filename}"]
    got = tenant_s3.client().get_object(Bucket=tenant_s3.bucket, Key=listed["Contents"][0]["Key"])
    assert got["Body"].read() == body
    assert (sftp.root / "inbox" / filename).read_bytes() == body


def test_secrets_are_never_shown_and_destinations_stay_in_their_tenant(
    api: httpx.Client, server: RunningServer, tenant_s3: TenantS3
) -> None:
    made = destination(api, **s3_body(tenant_s3, "secret-check"))
    assert made["secrets_set"] == ["secret_access_key"] and made["generated_secrets"] == {}
    for shown in (
        api.get(f"/v1/destinations/{made['id']}").json(),
        *[d for d in api.get("/v1/destinations").json()["results"] if d["id"] == made["id"]],
        api.patch(f"/v1/destinations/{made['id']}", json={"name": "Renamed"}).json(),
    ):
        assert tenant_s3.secret_key not in str(shown)
        assert shown["access_key_id"] == tenant_s3.access_key
    other_key = server.make_key(f"t-{uuid.uuid4().hex[:8]}")
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {other_key}"}, timeout=30
    ) as other:
        for response in (
            other.get(f"/v1/destinations/{made['id']}"),
            other.patch(f"/v1/destinations/{made['id']}", json={"name": "x"}),
            other.delete(f"/v1/destinations/{made['id']}"),
        ):
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "destination_not_found"
        assert other.get("/v1/destinations").json()["total_count"] == 0
        refused = other.post(
            "/v1/reports",
            json={"template_id": "orders", "formats": ["csv"], "destinations": [made["id"]]},
        )
        assert refused.status_code == 404
    bad = api.post("/v1/destinations", json={"type": "webhook", "url": "http://10.0.0.7/x"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "url_not_allowed"
    assert api.delete(f"/v1/destinations/{made['id']}").status_code == 204
    assert api.get(f"/v1/destinations/{made['id']}").status_code == 404


def test_the_s3_sender_ignores_proxies_from_the_environment(
    tenant_s3: TenantS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A proxy would connect on reportd's behalf, past the outbound policy: never used."""
    from reportd.adapters.delivery.hosts import PolicyHostGuard
    from reportd.adapters.delivery.s3 import S3Sender
    from reportd.adapters.outbound import AddressGuard
    from reportd.adapters.storage.local import LocalStorage
    from reportd.app.deliveries import Parcel
    from reportd.app.downloads import Download
    from reportd.domain.destinations import Destination, DestinationType
    from reportd.domain.formats import Format, Packaging
    from reportd.domain.models import Artifact, Report
    from reportd.domain.states import ReportState

    checker = tenant_s3.client()  # made before the proxies are set: it reads them once
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nobody listens there
    monkeypatch.setenv("NO_PROXY", "")
    storage = LocalStorage("local", tmp_path)
    (tmp_path / "f.csv").write_bytes(b"a,b\n1,2\n")
    report = Report(
        id=uuid.uuid4().hex, tenant_id="t", template_id="orders", name="n",
        state=ReportState.FINISHED, formats=(Format.CSV,), fields=("a",),
    )  # fmt: skip
    artifact = Artifact(
        report_id=report.id, format=Format.CSV, packaging=Packaging.NONE, filename="f.csv",
        mime_type="text/csv", size=8, sha256="0" * 64, storage_key="f.csv",
    )  # fmt: skip
    download = Download(report=report, artifact=artifact, storage=storage)
    destination = Destination(
        id="d", tenant_id="t", type=DestinationType.S3, name="n",
        config={"endpoint_url": tenant_s3.endpoint_url, "bucket": tenant_s3.bucket,
                "prefix": "proxy", "access_key_id": tenant_s3.access_key},
    )  # fmt: skip
    sender = S3Sender(PolicyHostGuard(AddressGuard(["127.0.0.1"])), timeout=10)
    parcel = Parcel(report=report, files=(download,), link=lambda d: "")
    sender.send(destination, {"secret_access_key": tenant_s3.secret_key}, parcel)
    got = checker.get_object(Bucket=tenant_s3.bucket, Key=f"proxy/{report.id}/f.csv")
    assert got["Body"].read() == b"a,b\n1,2\n"
