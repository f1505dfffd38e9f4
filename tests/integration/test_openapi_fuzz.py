"""schemathesis over ``/openapi.json`` of a real server process: every native ``/v1`` route.

The dialect routes follow their vendors' documents, not our OpenAPI, and the console is HTML,
so both are left out. Each operation gets ``MAX_EXAMPLES`` derandomized cases (positive and
negative) on SQLite and on PostgreSQL, sent with an admin key; every response must be no 5xx,
of a declared status, content type and headers, and match its declared schema. Path ids and
some body fields are sometimes swapped for seeded objects and valid values (deterministically,
by a hash of the generated value), so the by-id routes answer 200 and creates succeed too,
not only 404 and 400. A separate test checks that a request without a key is a 401 on every
keyed route.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import server_on
from tests.server_fixtures import ORDERS_TEMPLATE, RunningServer

# Cases per operation and backend: the full run on the embedded default, a shorter one on
# PostgreSQL (the same routes over the other store), the whole file within the CI budget.
MAX_EXAMPLES = {"sqlite": 300, "postgresql": 100}
NATIVE = r"^/v1/(reports|schedules|templates|files|webhooks|destinations|keys|me)(/|$)"
ROUTES = [
    ("POST", "/v1/reports"),
    ("GET", "/v1/reports"),
    ("GET", "/v1/reports/{report_id}"),
    ("DELETE", "/v1/reports/{report_id}"),
    ("POST", "/v1/reports/{report_id}/cancel"),
    ("POST", "/v1/reports/{report_id}/formats"),
    ("GET", "/v1/reports/{report_id}/download"),
    ("GET", "/v1/reports/{report_id}/download_url"),
    ("GET", "/v1/reports/{report_id}/events"),
    ("POST", "/v1/schedules"),
    ("GET", "/v1/schedules"),
    ("GET", "/v1/schedules/{schedule_id}"),
    ("PATCH", "/v1/schedules/{schedule_id}"),
    ("DELETE", "/v1/schedules/{schedule_id}"),
    ("POST", "/v1/schedules/{schedule_id}/run"),
    ("GET", "/v1/schedules/{schedule_id}/runs"),
    ("GET", "/v1/reports/{report_id}/template"),
    ("GET", "/v1/templates"),
    ("POST", "/v1/templates"),
    ("POST", "/v1/templates/validate"),
    ("GET", "/v1/templates/{template_id}"),
    ("PATCH", "/v1/templates/{template_id}"),
    ("DELETE", "/v1/templates/{template_id}"),
    ("GET", "/v1/templates/{template_id}/versions/{version}"),
    ("POST", "/v1/templates/{template_id}/validate"),
    ("POST", "/v1/templates/{template_id}/preview"),
    ("GET", "/v1/files/{report_id}/{filename}"),
    ("POST", "/v1/webhooks"),
    ("GET", "/v1/webhooks"),
    ("GET", "/v1/webhooks/callback_secret"),
    ("GET", "/v1/webhooks/{webhook_id}"),
    ("PATCH", "/v1/webhooks/{webhook_id}"),
    ("DELETE", "/v1/webhooks/{webhook_id}"),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"),
    ("POST", "/v1/destinations"),
    ("GET", "/v1/destinations"),
    ("GET", "/v1/destinations/{destination_id}"),
    ("PATCH", "/v1/destinations/{destination_id}"),
    ("DELETE", "/v1/destinations/{destination_id}"),
    ("GET", "/v1/keys"),
    ("POST", "/v1/keys"),
    ("POST", "/v1/keys/{key_id}/revoke"),
    ("GET", "/v1/me"),
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Only the orders template: a fuzzed create must never start the 30M-row "slow" one.
CONFIG = """\
templates_dir = "fuzz-templates"

[[sources]]
name = "shop"
url = "duckdb:///orders.duckdb"

[worker]
poll_interval = 0.1
"""
# Webhook and callback deliveries to fuzzed URLs go to a closed local port, never outside.
NO_OUTSIDE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
    # The seeded webhooks point at 127.0.0.1:9 (nobody listens): allowed past the outbound
    # policy, which refuses loopback otherwise (the dispatcher ignores the proxies above).
    "REPORTD_WEBHOOKS__ALLOW_PRIVATE": '["127.0.0.1"]',
}


class Seeded:
    """Objects made before the run: ids the fuzzed paths are sometimes pointed at."""

    def __init__(self) -> None:
        kinds = ("report_id", "schedule_id", "webhook_id", "destination_id", "key_id")
        kinds += ("template_id",)
        self.ids: dict[str, list[str]] = {kind: [] for kind in kinds}
        self.victims: dict[str, list[str]] = {kind: [] for kind in kinds}
        self.signed: list[dict[str, str]] = []  # path and query of signed links


def _wait_finished(api: httpx.Client, report_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = api.get(f"/v1/reports/{report_id}").json()["state"]
        if state == "FINISHED":
            return
        assert state in ("CREATED", "IN_PROGRESS"), state
        time.sleep(0.05)
    raise AssertionError(f"report {report_id} did not finish")


def _seed(api: httpx.Client) -> Seeded:
    seeded = Seeded()
    bodies: list[dict[str, Any]] = [
        {"template_id": "orders", "formats": ["csv", "json"]},
        {"template_id": "orders", "formats": ["ndjson"], "packaging": "zip"},
        {"template_id": "orders", "formats": ["csv"], "filter": 'customer eq "Ada"'},
    ]
    for body in bodies:
        created = api.post("/v1/reports", json=body)
        assert created.status_code == 202, created.text
        seeded.ids["report_id"].append(created.json()["id"])
    victim = api.post("/v1/reports", json={"template_id": "orders", "formats": ["csv"]})
    seeded.victims["report_id"].append(victim.json()["id"])
    for report_id in [*seeded.ids["report_id"], *seeded.victims["report_id"]]:
        _wait_finished(api, report_id)
    for report_id in seeded.ids["report_id"]:
        link = api.get(f"/v1/reports/{report_id}/download_url").json()["download_url"]
        parts = urlsplit(link)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        seeded.signed.append({"path": parts.path, **query})
    schedule = {"template_id": "orders", "name": "fuzz", "formats": ["csv"], "cron": "0 3 * * *"}
    for target in (seeded.ids, seeded.victims):
        made = api.post("/v1/schedules", json=schedule)
        assert made.status_code == 201, made.text
        target["schedule_id"].append(made.json()["id"])
        hook = api.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["report.finished"]}
        )
        assert hook.status_code == 201, hook.text
        target["webhook_id"].append(hook.json()["id"])
        drop = api.post(
            "/v1/destinations", json={"type": "webhook", "url": "http://127.0.0.1:9/drop"}
        )
        assert drop.status_code == 201, drop.text
        target["destination_id"].append(drop.json()["id"])
    for _ in range(3):  # keys the revoke route may be pointed at (never the fuzz's own)
        key = api.post("/v1/keys", json={"name": "fuzz victim", "scopes": ["reports:read"]})
        assert key.status_code == 201, key.text
        seeded.ids["key_id"].append(key.json()["id"])
    for target, name in ((seeded.ids, "fuzz_tpl"), (seeded.victims, "fuzz_victim")):
        made = api.post("/v1/templates", json=tenant_template(name))
        assert made.status_code == 201, made.text
        target["template_id"] += [name, "orders"]  # a tenant's own and the operator's
    run = api.post(f"/v1/schedules/{seeded.ids['schedule_id'][0]}/run")
    assert run.status_code == 202, run.text
    _wait_finished(api, run.json()["id"])
    return seeded


def tenant_template(template_id: str) -> dict[str, Any]:
    """A definition that saves, over the source the fuzzed tenant is granted."""
    return {
        "id": template_id,
        "name": "Fuzzed tenant template",
        "source": "shop",
        "query": "SELECT order_id, amount FROM orders",
        "fields": [{"name": "order_id", "type": "integer"}, {"name": "amount"}],
        "formats": ["csv"],
    }


def _pick(value: object, choices: list[str], one_in: int = 3) -> str | None:
    """A seeded id for about one generated value in ``one_in``; the same for the same value."""
    digest = zlib.crc32(repr(value).encode())
    if not choices or digest % one_in:
        return None
    return choices[(digest // one_in) % len(choices)]


@pytest.fixture(scope="module", params=list(MAX_EXAMPLES))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def fuzz_server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp(f"fuzz-{backend}")
    templates = root / "fuzz-templates"
    templates.mkdir()
    (templates / "orders.yaml").write_text(ORDERS_TEMPLATE)
    with server_on(request, root, NO_OUTSIDE, backend=backend, config_toml=CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def seeded(fuzz_server: RunningServer) -> Seeded:
    grant = [sys.executable, "-m", "reportd.entrypoints.cli.main", "tenants", "grant-source"]
    grant += [fuzz_server.tenant, "shop", "--table", "orders", "--tenant-column", "tenant"]
    grant += ["--config", str(fuzz_server.config_path), "--data-dir", str(fuzz_server.data_dir)]
    done = subprocess.run(grant, env=fuzz_server.env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    headers = {"Authorization": f"Bearer {fuzz_server.admin_key}"}
    with httpx.Client(base_url=fuzz_server.url, headers=headers, timeout=30) as api:
        return _seed(api)


def _point_at_seeded(case: Any, seeded: Seeded) -> None:
    """Point some generated ids at seeded objects (DELETE only at its own victims)."""
    operation = case.operation
    pool = seeded.victims if operation.method.upper() == "DELETE" else seeded.ids
    params = case.path_parameters or {}
    if operation.path == "/v1/files/{report_id}/{filename}":
        link = _pick(params.get("filename"), [str(i) for i in range(len(seeded.signed))])
        if link is not None:
            signed = dict(seeded.signed[int(link)])
            report_id, filename = signed.pop("path").split("/")[3:]
            case.path_parameters = {"report_id": report_id, "filename": filename}
            case.query = {**(case.query or {}), **signed}
        return
    if "version" in params and _pick(params["version"], ["1"], one_in=2) is not None:
        case.path_parameters = {**case.path_parameters, "version": 1}
    if operation.path in ("/v1/templates", "/v1/templates/validate"):
        chosen = _pick(case.body, ["fuzz_new", "fuzz_tpl"], one_in=2)
        if chosen is not None:  # a definition that saves (or exists already)
            case.body = tenant_template(chosen)
            return
    for name in (
        "report_id",
        "schedule_id",
        "webhook_id",
        "destination_id",
        "template_id",
        "key_id",
    ):
        if name in params:
            chosen = _pick(params[name], pool.get(name, ["orders"]))
            if chosen is not None:
                case.path_parameters = {**case.path_parameters, name: chosen}
    if isinstance(case.body, dict):
        case.body = _valid_sometimes(case.body)
        if operation.path == "/v1/destinations" and _pick(case.body, ["drop"]) is not None:
            # A destination's body is flat and per type: only a whole valid one can succeed.
            case.body = {"type": "webhook", "url": "http://127.0.0.1:9/drop"}


# Body fields a fuzzed body sometimes gets a valid value for, so creates can succeed too.
VALID_BODY = {
    "template_id": ["orders"],
    "formats": [["csv"], ["json", "ndjson"]],
    "url": ["http://127.0.0.1:9/hook"],
    "events": [["report.finished"], ["report.failed", "report.finished"]],
    "cron": ["*/5 * * * *"],
    "timezone": ["UTC", "Europe/Paris"],
    "format": ["parquet", "csv"],
    "name": ["fuzzed", "Q1 sales"],
    "scopes": [["reports:read"], ["reports:read", "reports:write"]],
    "type": ["webhook", "email", "s3", "sftp"],
    "to": [["ops@example.com"]],
}


def _valid_sometimes(body: dict[str, Any]) -> dict[str, Any]:
    fixed = dict(body)
    for name, choices in VALID_BODY.items():
        if name in fixed:
            index = _pick(fixed[name], [str(i) for i in range(len(choices))], one_in=2)
            if index is not None:
                fixed[name] = choices[int(index)]
    return fixed


@pytest.fixture(scope="module")
def api_schema(fuzz_server: RunningServer) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")


def test_routes_are_every_native_route(api_schema: Any) -> None:
    """The list below is every native operation the server declares: none escapes the fuzz."""
    declared = {
        (method.upper(), path)
        for path, operations in api_schema.raw_schema["paths"].items()
        if re.match(NATIVE, path)
        for method in operations
    }
    assert declared == set(ROUTES)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_conforms_to_its_openapi(
    method: str,
    path: str,
    backend: str,
    api_schema: Any,
    fuzz_server: RunningServer,
    seeded: Seeded,
) -> None:
    operation = api_schema[path][method]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    headers = {"Authorization": f"Bearer {fuzz_server.admin_key}"}

    @settings(
        max_examples=MAX_EXAMPLES[backend],
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        _point_at_seeded(case, seeded)
        response = case.call_and_validate(
            base_url=fuzz_server.url, headers=headers, checks=CHECKS, timeout=30
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    statuses: dict[int, int] = {}
    fuzz()
    print(f"{method} {path}: {sum(statuses.values())} cases, statuses {sorted(statuses)}")
    assert set(statuses) - {400, 404}, f"no case reached an object or passed validation: {statuses}"


def test_every_keyed_route_needs_a_key(fuzz_server: RunningServer, seeded: Seeded) -> None:
    spec = httpx.get(f"{fuzz_server.url}/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1/") or path.startswith(("/v1/files/", "/v1/environments/")):
            continue
        concrete = (
            path.replace("{report_id}", seeded.ids["report_id"][0])
            .replace("{schedule_id}", seeded.ids["schedule_id"][0])
            .replace("{webhook_id}", seeded.ids["webhook_id"][0])
            .replace("{template_id}", "orders")
        )
        for method in operations:
            for headers in ({}, {"Authorization": "Bearer rk_not_a_key"}):
                response = httpx.request(
                    method.upper(), f"{fuzz_server.url}{concrete}", headers=headers, json={}
                )
                assert response.status_code == 401, (method, path, response.text)
                assert response.json()["error"]["code"] == "authentication_failed"
                assert response.headers["www-authenticate"] == "Bearer"
                checked += 1
    assert checked >= 40


def test_found_by_the_fuzz_stay_fixed(fuzz_server: RunningServer, seeded: Seeded) -> None:
    """What the fuzz found once: a PATCH of formats was a 500, so was a huge list offset."""
    headers = {"Authorization": f"Bearer {fuzz_server.admin_key}"}
    with httpx.Client(base_url=fuzz_server.url, headers=headers, timeout=30) as api:
        schedule_id = seeded.ids["schedule_id"][0]
        patched = api.patch(f"/v1/schedules/{schedule_id}", json={"formats": ["JSON", "csv"]})
        assert patched.status_code == 200, patched.text
        assert patched.json()["formats"] == ["json", "csv"]
        for path in ("/v1/schedules", f"/v1/webhooks/{seeded.ids['webhook_id'][0]}/deliveries"):
            huge = api.get(path, params={"offset": 2**63})
            assert huge.status_code == 400, huge.text
            assert huge.json()["error"]["code"] == "validation_error"
        too_long = api.get("/v1/reports", params={"filter": "x" * 4_001})
        assert too_long.status_code == 400
