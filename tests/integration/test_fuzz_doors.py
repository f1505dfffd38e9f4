"""Every door fuzzed (issue 11, build item 6), on a real server over SQLite and PostgreSQL.

- Each dialect publishes its own OpenAPI document (``/openapi/{dialect}.json``), and
  schemathesis runs over each dialect's routes from it: no case may draw a 5xx.
- A hypothesis suite of hostile bodies (nested past the limit, larger than a request may be,
  not UTF-8, carrying a NUL, numbers of thousands of digits or beyond any float) goes to every
  POST, PUT and PATCH route of every door (native, the five dialects, the token endpoints) and
  to the gRPC door's create: zero 5xx, and each refusal in the door's own error body.

Example counts are small (the whole module stays within about 30 s on both backends); the
bounds are deterministic, so breadth over routes matters more than depth per route.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.error_shapes import (
    Shape,
    digicert,
    drf,
    getbill,
    native,
    oauth,
    pingone,
    spaceone,
    spaceone_console,
    spectra,
)
from tests.grpc_client import Reflected, ReportClient, refusal
from tests.integration.conftest import server_on
from tests.server_fixtures import ORDERS_TEMPLATE, TENANT, RunningServer

pytestmark = pytest.mark.timeout(300)
DIALECTS = ("digicert", "getbill", "pingone", "spaceone", "spectra")
SCHEMA_EXAMPLES = {"sqlite": 6, "postgresql": 3}  # per dialect operation
HOSTILE_EXAMPLES = {"sqlite": 6, "postgresql": 3}  # per route
CONFIG = """\
templates_dir = "fuzz-templates"

[[sources]]
name = "shop"
url = "duckdb:///orders.duckdb"

[worker]
poll_interval = 0.1

[grpc]
listen = "127.0.0.1:0"
"""
NO_OUTSIDE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}
# Every route that takes a body, on every HTTP door (checked against the server's OpenAPI).
BODY_ROUTES = [
    ("POST", "/v1/reports"),
    ("POST", "/v1/reports/{report_id}/cancel"),
    ("POST", "/v1/reports/{report_id}/formats"),
    ("POST", "/v1/schedules"),
    ("PATCH", "/v1/schedules/{schedule_id}"),
    ("POST", "/v1/schedules/{schedule_id}/run"),
    ("POST", "/v1/templates"),
    ("POST", "/v1/templates/validate"),
    ("PATCH", "/v1/templates/{template_id}"),
    ("POST", "/v1/templates/{template_id}/validate"),
    ("POST", "/v1/templates/{template_id}/preview"),
    ("POST", "/v1/webhooks"),
    ("PATCH", "/v1/webhooks/{webhook_id}"),
    ("POST", "/v1/destinations"),
    ("PATCH", "/v1/destinations/{destination_id}"),
    ("POST", "/v1/keys"),
    ("POST", "/v1/keys/{key_id}/revoke"),
    ("POST", "/oauth/token"),
    ("POST", "/reports/v1/report"),
    ("PUT", "/reports/v1/report/{report_identifier}"),
    ("POST", "/reports/v1/report/{report_identifier}/run"),
    ("POST", "/report/v1/reports"),
    ("POST", "/report/v1/reports/search"),
    ("POST", "/report/report/create"),
    ("POST", "/report/report/get"),
    ("POST", "/report/report/get_download_url"),
    ("POST", "/report/report/list"),
    ("POST", "/api-token-auth/"),
    ("POST", "/v1/environments/{env_id}/dataExplorations"),
    ("POST", "/{env_id}/as/token"),
    ("POST", "/external-api/v1/reports"),
    ("POST", "/token"),
]
TOKEN_PATHS = ("/oauth/token", "/token", "/{env_id}/as/token")


def shape_of(path: str) -> Shape:
    """The error body of the door that owns ``path``."""
    if path in TOKEN_PATHS:
        return oauth
    prefixes: tuple[tuple[str, Shape], ...] = (
        ("/v1/environments/", pingone),
        ("/report/report/", spaceone_console),
        ("/report/", spaceone),
        ("/reports/v1/", digicert),
        ("/services/", digicert),
        ("/external-api/", getbill),
        ("/api-token-auth", drf),
        ("/api", spectra),
    )
    for prefix, shape in prefixes:
        if path.startswith(prefix):
            return shape
    return native


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def doors(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp(f"doors-{backend}")
    templates = root / "fuzz-templates"
    templates.mkdir()
    (templates / "orders.yaml").write_text(ORDERS_TEMPLATE)
    with server_on(request, root, NO_OUTSIDE, backend=backend, config_toml=CONFIG) as running:
        yield running


def credentials(server: RunningServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.admin_key}", "X-DC-DEVKEY": server.admin_key}


# -- the dialects' OpenAPI documents, and schemathesis over them ---------------------------------


def test_each_dialect_publishes_its_own_openapi(doors: RunningServer) -> None:
    native_paths = set(httpx.get(f"{doors.url}/openapi.json").json()["paths"])
    seen: set[str] = set()
    for dialect in DIALECTS:
        document = httpx.get(f"{doors.url}/openapi/{dialect}.json")
        assert document.status_code == 200, document.text
        paths = set(document.json()["paths"])
        assert paths, dialect
        assert paths <= native_paths  # the same routes the server serves, no others
        assert not any(p.startswith(("/v1/reports", "/v1/schedules")) for p in paths), paths
        assert not paths & seen, paths & seen  # each route in one dialect's document
        seen |= paths
    missing = httpx.get(f"{doors.url}/openapi/nothing.json")
    assert missing.status_code == 404
    native(missing.json(), 404)


def _pick(value: object, choice: str) -> str | None:
    """``choice`` for about one generated value in two; the same for the same value."""
    return choice if zlib.crc32(repr(value).encode()) % 2 == 0 else None


def _towards_objects(case: Any) -> None:
    """Point some generated tenants at the caller's, so cases get past the tenant check."""
    for name in ("env_id",):
        if case.path_parameters and name in case.path_parameters:
            chosen = _pick(case.path_parameters[name], TENANT)
            if chosen is not None:
                case.path_parameters = {**case.path_parameters, name: chosen}
    if isinstance(case.body, dict) and "domain_id" in case.body:
        chosen = _pick(case.body["domain_id"], TENANT)
        if chosen is not None:
            case.body = {**case.body, "domain_id": chosen}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_dialect_routes_never_answer_5xx(dialect: str, backend: str, doors: RunningServer) -> None:
    schema = schemathesis.openapi.from_url(f"{doors.url}/openapi/{dialect}.json")
    headers = credentials(doors)
    statuses: dict[int, int] = {}
    operations = [
        (path, method.upper())
        for path, methods in schema.raw_schema["paths"].items()
        for method in methods
    ]
    for path, method in operations:
        operation = schema[path][method]
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=SCHEMA_EXAMPLES[backend],
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def fuzz(case: Any) -> None:
            _towards_objects(case)
            response = case.call_and_validate(
                base_url=doors.url, headers=headers, checks=[not_a_server_error], timeout=30
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        fuzz()
    print(f"{dialect}: {len(operations)} operations, statuses {sorted(statuses)}")
    assert operations
    assert not [s for s in statuses if s >= 500]


# -- hostile bodies on every door ----------------------------------------------------------------


def _deep(levels: int) -> bytes:
    return (
        b'{"template_id": "orders", "formats": ["csv"], "options": {"a": '
        + (b"[" * levels + b"]" * levels)
        + b"}}"
    )


def _deep_objects(levels: int) -> bytes:
    return b'{"a": ' * levels + b"1" + b"}" * levels


def _with_digits(digits: int) -> bytes:
    return b'{"template_id": "orders", "formats": ["csv"], "expires_in": ' + b"9" * digits + b"}"


def _not_utf8(tail: bytes) -> bytes:
    return b'{"template_id": "orders\xff' + tail.replace(b'"', b"") + b'", "formats": ["csv"]}'


def _with_nul(text: str) -> bytes:
    body = {
        "template_id": "orders",
        "formats": ["csv"],
        "name": f"{text}\u0000",
        "domain_id": TENANT,
    }
    return json.dumps(body).encode()


HOSTILE = st.one_of(
    st.integers(33, 5000).map(_deep),
    st.integers(33, 400).map(_deep_objects),
    st.binary(max_size=32).map(_not_utf8),
    st.text(max_size=16).map(_with_nul),
    st.integers(101, 8000).map(_with_digits),
    st.sampled_from(
        [
            b'{"template_id": "orders", "formats": ["csv"], "options": {"n": 1e999}}',
            b'{"template_id": "orders", "formats": ["csv"], "expires_in": -1e400}',
            b'{"template_id": "orders", "formats": ["csv"], "options": {"x": "'
            + b"a" * 100_000
            + b'"}}',
            b'{"name": "' + b"a" * 1_100_000 + b'"}',
        ]
    ),
)


def _concrete(path: str) -> str:
    return (
        path.replace("{env_id}", TENANT)
        .replace("{template_id}", "orders")
        .replace("{report_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{schedule_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{report_identifier}", "00000000-0000-0000-0000-000000000000")
        .replace("{key_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{webhook_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{destination_id}", "00000000-0000-0000-0000-000000000000")
    )


def test_body_routes_are_every_body_route(doors: RunningServer) -> None:
    spec = httpx.get(f"{doors.url}/openapi.json").json()
    declared = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method.upper() in ("POST", "PUT", "PATCH")
    }
    assert declared == set(BODY_ROUTES)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_hostile_bodies_are_refused_in_the_doors_shape(
    method: str, path: str, backend: str, doors: RunningServer
) -> None:
    shape = shape_of(path)
    url = f"{doors.url}{_concrete(path)}"
    headers = {**credentials(doors), "Content-Type": "application/json"}
    if path in TOKEN_PATHS or path == "/api-token-auth/":
        del headers["Authorization"]  # these authenticate by the body, or Basic

    @settings(
        max_examples=HOSTILE_EXAMPLES[backend],
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=HOSTILE)
    def fuzz(body: bytes) -> None:
        response = httpx.request(method, url, content=body, headers=headers, timeout=30)
        assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
        shape(response.json(), response.status_code)

    fuzz()


# -- the gRPC door --------------------------------------------------------------------------------


def _nested_dict(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        value = {"a": value}
    return value


GRPC_OPTIONS = st.one_of(
    st.integers(33, 45).map(_nested_dict),  # a Struct level is two of protobuf's 100
    st.integers(70_000, 2_000_000).map(lambda n: {"x": "a" * n}),
    st.text(max_size=16).map(lambda t: {"x": f"{t}\u0000"}),
    # (No numbers: Struct numbers are doubles, and a finite double is a fair option.)
    st.integers(10_001, 20_000).map(lambda n: {f"k{i}": i for i in range(n)}),
)


def test_hostile_grpc_creates_are_invalid_argument(backend: str, doors: RunningServer) -> None:
    assert doors.grpc_target is not None
    with grpc.insecure_channel(
        doors.grpc_target, options=[("grpc.max_send_message_length", 8 * 1024 * 1024)]
    ) as channel:
        client = ReportClient(channel, Reflected.of(channel), doors.admin_key, domain_id=TENANT)

        @settings(
            max_examples=HOSTILE_EXAMPLES[backend] * 2,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(options=GRPC_OPTIONS)
        def fuzz(options: dict[str, Any]) -> None:
            with pytest.raises(grpc.RpcError) as refused:
                client("create", template_id="orders", name="hostile", template_options=options)
            status, code, _ = refusal(refused.value)
            assert status == grpc.StatusCode.INVALID_ARGUMENT, refused.value
            assert code == "ERROR_INVALID_ARGUMENT", refused.value

        fuzz()


def test_nul_in_any_path_parameter_is_refused_in_the_doors_shape(doors: RunningServer) -> None:
    """Every route with a path parameter, a NUL in it: a 400 in the door's body, never a
    lookup (PostgreSQL text cannot hold a NUL: ``/v1/reports/a%00`` was a 500)."""
    spec = httpx.get(f"{doors.url}/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        if "{" not in path:
            continue
        concrete = re.sub(r"\{[^}]+\}", "a%00b", path)
        for method in operations:
            response = httpx.request(
                method.upper(), f"{doors.url}{concrete}", headers=credentials(doors), timeout=30
            )
            assert response.status_code == 400, (method, path, response.text)
            shape_of(path)(response.json(), 400)
            checked += 1
    assert checked >= 40
