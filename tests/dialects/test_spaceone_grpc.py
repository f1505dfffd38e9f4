"""SpaceONE report.v1 over gRPC: a real server with ``[grpc] listen``, SQLite and PostgreSQL.

A plain grpcio client that learns the service by reflection (``tests/grpc_client.py``) calls
every method of ``spaceone.api.report.v1.Report``; health and reflection are checked on their
own; errors come as the status and ``ERROR_...: message`` details spaceone.core's client reads;
the same report is seen through gRPC, the REST binding and the native API (id, files).
``reportd serve`` is run as a user runs it: gRPC beside HTTP on loopback, both ended by SIGTERM.
spacectl itself is ``test_spacectl.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.grpc_client import SERVICE, Reflected, ReportClient, reflection_request, refusal
from tests.server_fixtures import (
    DEFAULT_CONFIG,
    OTHER_TENANT,
    RunningServer,
    server_env,
    start_server,
    write_sample_world,
)

GRPC_CONFIG = DEFAULT_CONFIG + '\n[grpc]\nlisten = "127.0.0.1:0"\n'
FINAL = {"FINISHED", "FAILURE", "TIMEOUT", "CANCELED"}
Code = grpc.StatusCode


@pytest.fixture(scope="module")
def backend_server(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    directory = tmp_path_factory.mktemp("spaceone-grpc")
    with start_server(directory, config_toml=GRPC_CONFIG, database_url=backend_database) as srv:
        yield srv


@pytest.fixture(scope="module")
def channel(backend_server: RunningServer) -> Iterator[grpc.Channel]:
    assert backend_server.grpc_target is not None
    assert backend_server.grpc_target.startswith("127.0.0.1:")
    with grpc.insecure_channel(backend_server.grpc_target) as opened:
        yield opened


@pytest.fixture(scope="module")
def reflected(channel: grpc.Channel) -> Reflected:
    return Reflected.of(channel)


def client_for(
    server: RunningServer, channel: grpc.Channel, reflected: Reflected, tenant: str, **kw: Any
) -> ReportClient:
    key = server.make_key(tenant, name="grpc-client", **kw)
    return ReportClient(channel, reflected, key, domain_id=tenant)


@pytest.fixture
def tenant(
    backend_server: RunningServer,
    channel: grpc.Channel,
    reflected: Reflected,
    request: pytest.FixtureRequest,
) -> ReportClient:
    """A domain of its own per test, with a read-write key."""
    name = f"g-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    return client_for(backend_server, channel, reflected, name)


@pytest.fixture
def acme(
    backend_server: RunningServer, channel: grpc.Channel, reflected: Reflected
) -> ReportClient:
    """The sample world's tenant, whose orders the templates read."""
    return client_for(backend_server, channel, reflected, backend_server.tenant)


def wait_final(api: ReportClient, report_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info: dict[str, Any] = api("get", report_id=report_id)
        if info["state"] in FINAL:
            return info
        time.sleep(0.05)
    raise AssertionError(f"report {report_id} did not finish")


def refused(call: Any, status: grpc.StatusCode, code: str) -> str:
    """Run ``call``; it must be refused with ``status`` and ``code``; returns the message."""
    with pytest.raises(grpc.RpcError) as caught:
        call()
    found_status, found_code, message = refusal(caught.value)
    assert (found_status, found_code) == (status, code), caught.value
    return message


def test_reflection_lists_the_report_service_and_serves_its_files(channel: grpc.Channel) -> None:
    listed = reflection_request(channel, list_services="").list_services_response.service
    assert [s.name for s in listed] == [SERVICE]  # as SpaceONE lists: see grpc/server.py

    reflected = Reflected.of(channel)
    names = [f.name for f in reflected.files]
    assert names[0] == "spaceone/api/report/v1/report.proto"  # what spaceone.core reads
    assert {
        "spaceone/api/core/v1/query.proto",
        "spaceone/api/report/v1/storage.proto",
        "google/api/annotations.proto",
        "google/protobuf/struct.proto",
        "google/protobuf/timestamp.proto",
    } <= set(names)
    service = reflected.pool.FindServiceByName(SERVICE)
    assert [m.name for m in service.methods] == ["get", "get_download_url", "list", "create"]

    health_file = reflection_request(channel, file_containing_symbol="grpc.health.v1.Health")
    assert health_file.file_descriptor_response.file_descriptor_proto  # described by name
    by_name = reflection_request(channel, file_by_filename="spaceone/api/core/v1/query.proto")
    assert by_name.file_descriptor_response.file_descriptor_proto
    unknown = reflection_request(channel, file_containing_symbol="no.such.Service")
    assert unknown.error_response.error_code == Code.NOT_FOUND.value[0]


def test_health_checking(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    serving = health_pb2.HealthCheckResponse.SERVING
    for name in ("", SERVICE):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
        assert reply.status == serving
    with pytest.raises(grpc.RpcError) as caught:
        stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
    assert caught.value.code() == Code.NOT_FOUND
    watched = stub.Watch(health_pb2.HealthCheckRequest(service=SERVICE), timeout=10)
    assert next(iter(watched)).status == serving
    watched.cancel()


def test_every_method_and_the_same_report_through_rest_and_native(
    acme: ReportClient, backend_server: RunningServer
) -> None:
    info = acme(
        "create", template_id="orders", name="by gRPC", template_options={"since": "2024-02-01"}
    )
    assert info["domain_id"] == backend_server.tenant
    assert (info["template_id"], info["state"], info["created_by"]) == (
        "orders",
        "CREATED",
        "grpc-client",
    )
    assert info["template_options"] == {"since": "2024-02-01"}
    assert info["storage_info"]["storage_id"] == "default"
    assert info["created_at"].endswith("Z") and "error" not in info  # unset: no error
    report_id = info["report_id"]

    done = wait_final(acme, report_id)
    assert done["state"] == "FINISHED" and done["storage_path"].endswith(".csv")
    only = acme("get", report_id=report_id, only=["report_id", "state"])
    assert (only["report_id"], only["state"], only["template_id"]) == (report_id, "FINISHED", "")

    link = acme("get_download_url", report_id=report_id)
    assert list(link) == ["download_url"]
    assert link["download_url"].startswith(f"{backend_server.url}/v1/files/{report_id}/")
    file = httpx.get(link["download_url"], timeout=30)  # the signature is the only credential
    assert file.status_code == 200
    rows = list(csv.DictReader(io.StringIO(file.text)))
    assert [int(r["order_id"]) for r in rows] == [3, 4, 5, 6, 7, 8]

    listed = acme("list", report_id=report_id)
    assert listed["total_count"] == 1 and listed["results"][0]["report_id"] == report_id

    key = backend_server.make_key(backend_server.tenant, name="rest-client")
    with httpx.Client(
        base_url=backend_server.url, headers={"Authorization": f"Bearer {key}"}
    ) as rest:
        domain = {"domain_id": backend_server.tenant}
        over_rest = rest.get(f"/report/v1/report/{report_id}", params=domain).json()
        for field in ("report_id", "template_id", "storage_path", "state", "created_at"):
            assert over_rest[field] == done[field], field
        rest_link = rest.get(f"/report/v1/report/{report_id}/download_url", params=domain).json()
        assert httpx.get(rest_link["download_url"], timeout=30).content == file.content
        native = rest.get(f"/v1/reports/{report_id}").json()
        assert native["id"] == report_id and native["options"] == {"since": "2024-02-01"}
        [artifact] = native["artifacts"]
        assert artifact["sha256"] == hashlib.sha256(file.content).hexdigest()

        made_by_rest = rest.post(
            "/report/v1/reports", json={**domain, "template_id": "orders", "name": "by REST"}
        ).json()
    seen = acme("get", report_id=made_by_rest["report_id"])
    assert (seen["report_id"], seen["created_by"]) == (made_by_rest["report_id"], "rest-client")


def test_list_query(tenant: ReportClient) -> None:
    first = tenant("create", template_id="orders", name="alpha costs")
    wait_final(tenant, first["report_id"])
    second = tenant("create", template_id="orders", name="beta costs")
    third = tenant("create", template_id="orders", name="gamma usage")
    for info in (second, third):
        wait_final(tenant, info["report_id"])
    everyone = [first["report_id"], second["report_id"], third["report_id"]]

    def ids(**query: Any) -> tuple[list[str], int]:
        found = tenant("list", query=query)
        return [r["report_id"] for r in found["results"]], found["total_count"]

    assert ids() == (everyone[::-1], 3)  # newest first
    assert ids(sort={"key": "created_at"}) == (everyone, 3)
    assert ids(sort={"key": "created_at", "desc": True}, page={"start": 2, "limit": 1}) == (
        [everyone[1]],
        3,
    )
    found = ids(
        filter=[{"k": "report_id", "v": everyone[:2], "o": "in"}], sort={"key": "created_at"}
    )
    assert found == (everyone[:2], 2)
    found = ids(filter=[{"key": "state", "value": "FINISHED", "operator": "eq"}], keyword="costs")
    assert sorted(found[0]) == sorted(everyone[:2])
    either = [{"k": "report_id", "v": everyone[0]}, {"k": "report_id", "v": everyone[2]}]
    assert ids(filter_or=either, sort={"key": "created_at"}) == ([everyone[0], everyone[2]], 2)
    assert ids(count_only=True) == ([], 3)
    minimal = tenant("list", query={"minimal": True, "page": {"limit": 1}})["results"][0]
    assert minimal["template_id"] == "orders" and minimal["storage_path"] == ""  # left out
    by_field = tenant("list", template_id="orders", created_by="grpc-client", state="FINISHED")
    assert by_field["total_count"] == 3
    assert tenant("list", state="FAILURE") == {"results": [], "total_count": 0}


def test_struct_numbers_reach_the_template_as_integers(tenant: ReportClient) -> None:
    """Struct has only doubles: ``rows: 5`` arrives as 5.0, and the schema says integer."""
    info = tenant("create", template_id="slow", name="five rows", template_options={"rows": 5})
    done = wait_final(tenant, info["report_id"])
    assert done["state"] == "FINISHED", done
    assert done["template_options"] == {"rows": 5}
    file = httpx.get(tenant("get_download_url", report_id=info["report_id"])["download_url"])
    assert len(file.text.strip().splitlines()) == 1 + 5


def test_authentication_and_domains(
    tenant: ReportClient, backend_server: RunningServer, channel: grpc.Channel, reflected: Reflected
) -> None:
    mine = tenant("create", template_id="orders", name="mine")["report_id"]
    for token in (None, "", "rk_not-a-key"):
        anonymous = ReportClient(channel, reflected, token, domain_id=tenant.domain_id)
        message = refused(
            lambda api=anonymous: api("list"), Code.UNAUTHENTICATED, "ERROR_AUTHENTICATE_FAILURE"
        )
        assert message.startswith("Authenticate failure.")

    calls = {
        "create": {"template_id": "orders", "name": "theirs"},
        "get": {"report_id": mine},
        "get_download_url": {"report_id": mine},
        "list": {},
    }
    for method, fields in calls.items():
        body = {"domain_id": OTHER_TENANT, **fields}
        message = refused(
            lambda m=method, b=body: tenant(m, b), Code.PERMISSION_DENIED, "ERROR_PERMISSION_DENIED"
        )
        assert message.startswith("Permission denied.")

    token = tenant.metadata[0][1]
    elsewhere = ReportClient(channel, reflected, token, x_domain_id=OTHER_TENANT)
    refused(lambda: elsewhere("list", {}), Code.PERMISSION_DENIED, "ERROR_PERMISSION_DENIED")
    named = ReportClient(channel, reflected, token, x_domain_id=tenant.domain_id)
    assert named("get", {"report_id": mine})["report_id"] == mine  # x_domain_id as domain_id
    unnamed = ReportClient(channel, reflected, token)
    message = refused(
        lambda: unnamed("get", {"report_id": mine}),
        Code.INVALID_ARGUMENT,
        "ERROR_REQUIRED_PARAMETER",
    )
    assert message == "Required parameter. (key = domain_id)"

    other = client_for(backend_server, channel, reflected, "g-other-domain")
    refused(lambda: other("get", report_id=mine), Code.INVALID_ARGUMENT, "ERROR_NOT_FOUND")


def test_refusals_in_spaceones_codes(tenant: ReportClient, backend_server: RunningServer) -> None:
    arg = Code.INVALID_ARGUMENT
    assert refused(lambda: tenant("get"), arg, "ERROR_REQUIRED_PARAMETER") == (
        "Required parameter. (key = report_id)"
    )
    refused(lambda: tenant("create", template_id="orders"), arg, "ERROR_REQUIRED_PARAMETER")
    refused(lambda: tenant("get", report_id="no-such-report"), arg, "ERROR_NOT_FOUND")
    refused(lambda: tenant("create", template_id="nope", name="x"), arg, "ERROR_NOT_FOUND")
    refused(
        lambda: tenant("create", template_id="orders", name="x", storage_id="nope"),
        arg,
        "ERROR_NOT_FOUND",
    )
    regex = {"filter": [{"k": "name", "v": "x", "o": "regex"}]}
    assert "regex" in refused(lambda: tenant("list", query=regex), arg, "ERROR_INVALID_ARGUMENT")
    mine = tenant("create", template_id="orders", name="x")["report_id"]
    refused(lambda: tenant("get", report_id=mine, only=["nope"]), arg, "ERROR_INVALID_ARGUMENT")
    bad_option = {"rows": "many"}
    message = refused(
        lambda: tenant("create", template_id="slow", name="x", template_options=bad_option),
        arg,
        "ERROR_INVALID_PARAMETER",
    )
    assert message.startswith("Parameter is invalid. (key = template_options.rows, reason = ")

    slow = tenant("create", template_id="slow", name="not yet")["report_id"]
    refused(
        lambda: tenant("get_download_url", report_id=slow),
        Code.FAILED_PRECONDITION,
        "ERROR_REPORT_NOT_READY",
    )
    key = tenant.metadata[0][1]
    cancel = httpx.post(
        f"{backend_server.url}/v1/reports/{slow}/cancel", headers={"Authorization": f"Bearer {key}"}
    )
    assert cancel.status_code == 200
    assert wait_final(tenant, slow)["state"] == "CANCELED"

    reader = backend_server.make_key(tenant.domain_id, name="reader", scopes=("reports:read",))
    read_only = ReportClient(tenant.channel, tenant.reflected, reader, domain_id=tenant.domain_id)
    refused(
        lambda: read_only("create", template_id="orders", name="x"),
        Code.PERMISSION_DENIED,
        "ERROR_PERMISSION_DENIED",
    )
    assert read_only("get", report_id=mine)["report_id"] == mine


# -- `reportd serve` itself ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _logged(path: Path, action: str, deadline: float) -> dict[str, Any]:
    while time.monotonic() < deadline:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{") and json.loads(line).get("action") == action:
                found: dict[str, Any] = json.loads(line)
                return found
        time.sleep(0.05)
    raise AssertionError(f"no {action} line in {path.read_text()[-3000:]}")


def test_reportd_serve_runs_grpc_beside_http_on_loopback_and_stops_cleanly(tmp_path: Path) -> None:
    write_sample_world(tmp_path)
    config = tmp_path / "reportd.toml"
    config.write_text(DEFAULT_CONFIG + '\n[grpc]\nlisten = ":0"\n')  # no host: loopback
    http_port = _free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-c", "from reportd.entrypoints.cli.main import main; main()"]
    command += ["serve", "--config", str(config), "--port", str(http_port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=server_env(None, None), stdout=out, stderr=out)
    try:
        started = _logged(log, "grpc_start", time.monotonic() + 60)
        assert started["host"] == "127.0.0.1"
        target = f"127.0.0.1:{started['port']}"
        with grpc.insecure_channel(target) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICE), timeout=30
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        assert httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=30).status_code == 200
        assert "gRPC:     :0 (SpaceONE report.v1)" in log.read_text()
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down, then re-raises the signal it caught: death by SIGTERM, by design.
        assert process.wait(30) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    _logged(log, "grpc_stop", time.monotonic() + 5)  # stopped by the lifespan, not killed
    assert "Traceback" not in log.read_text()
    with grpc.insecure_channel(target) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert caught.value.code() == Code.UNAVAILABLE


def test_reportd_serve_refuses_a_public_grpc_bind_without_a_secret(tmp_path: Path) -> None:
    config = tmp_path / "reportd.toml"
    config.write_text('[grpc]\nlisten = "0.0.0.0:50051"\n')
    command = [sys.executable, "-c", "from reportd.entrypoints.cli.main import main; main()"]
    command += ["serve", "--config", str(config), "--data-dir", str(tmp_path / "data")]
    done = subprocess.run(
        command, env=server_env(None, None), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "refusing gRPC on 0.0.0.0 without [server] secret" in done.stderr


def test_rate_limits_count_grpc_calls_too(tmp_path: Path) -> None:
    """The same [rate_limits] as HTTP: over the limit is RESOURCE_EXHAUSTED with retry-after."""
    limited = (
        GRPC_CONFIG + "\n[rate_limits]\nenabled = true\nwindow_seconds = 3600\nkey_reads = 2\n"
    )
    with start_server(tmp_path, config_toml=limited, workers=0) as server:
        assert server.grpc_target is not None
        with grpc.insecure_channel(server.grpc_target) as channel:
            api = client_for(server, channel, Reflected.of(channel), server.tenant)
            for _ in range(2):
                assert api("list")["total_count"] == 0
            with pytest.raises(grpc.RpcError) as caught:
                api("list")
            status, code, _ = refusal(caught.value)
            assert (status, code) == (Code.RESOURCE_EXHAUSTED, "ERROR_RATE_LIMITED")
            trailing = dict(caught.value.trailing_metadata())  # type: ignore[attr-defined]
            assert int(trailing["retry-after"]) > 0
            made = api("create", template_id="orders", name="writes are counted apart")
            assert made["report_id"]
