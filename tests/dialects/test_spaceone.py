"""SpaceONE report.v1 (seeds/001_5d0cf8b6500dbae1.txt) against a real server, SQLite and PostgreSQL.

create -> get (with ``only``) -> list (GET, repeated ``only``) / search (filter, filter_or, sort,
page, count_only, keyword) -> get_download_url -> download, the documented messages field by
field, SpaceONE's error body, ``domain_id`` tenancy, and the same report through the native API.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.server_fixtures import OTHER_TENANT, RunningServer, start_server

REPORT_INFO_FIELDS = [
    "domain_id",
    "report_id",
    "template_id",
    "storage_info",
    "storage_path",
    "template_options",
    "state",
    "created_by",
    "schedule_id",
    "created_at",
    "error",
]
STATES = {"CREATED", "IN_PROGRESS", "FAILURE", "TIMEOUT", "CANCELED", "FINISHED"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?Z$")


@pytest.fixture(scope="module")
def backend_server(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with start_server(tmp_path_factory.mktemp("spaceone"), database_url=backend_database) as srv:
        yield srv


def client(server: RunningServer, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


@pytest.fixture
def tenant(backend_server: RunningServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A tenant of its own per test (SpaceONE's domain), with a read-write key."""
    name = f"sp-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    key = backend_server.make_key(name, name="spaceone-client")
    with client(backend_server, key) as api:
        api.domain_id = name  # type: ignore[attr-defined]
        yield api


@pytest.fixture
def acme(backend_server: RunningServer) -> Iterator[httpx.Client]:
    """The sample world's tenant, whose orders the templates read."""
    key = backend_server.make_key(backend_server.tenant, name="spaceone-client")
    with client(backend_server, key) as api:
        api.domain_id = backend_server.tenant  # type: ignore[attr-defined]
        yield api


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/report/v1/reports", json={"domain_id": api.domain_id, **body})  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    info: dict[str, Any] = response.json()
    return info


def get(api: httpx.Client, report_id: str, **params: Any) -> httpx.Response:
    params = {"domain_id": api.domain_id, **params}  # type: ignore[attr-defined]
    return api.get(f"/report/v1/report/{report_id}", params=params)


def wait_finished(api: httpx.Client, report_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info: dict[str, Any] = get(api, report_id).json()
        if info["state"] not in ("CREATED", "IN_PROGRESS"):
            assert info["state"] == "FINISHED", info
            return info
        time.sleep(0.05)
    raise AssertionError(f"report {report_id} did not finish")


def search(api: httpx.Client, **query: Any) -> dict[str, Any]:
    body = {"domain_id": api.domain_id, "query": query}  # type: ignore[attr-defined]
    response = api.post("/report/v1/reports/search", json=body)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def ids(found: dict[str, Any]) -> list[str]:
    return [r["report_id"] for r in found["results"]]


def error_of(response: httpx.Response, status: int, code: str) -> str:
    """SpaceONE's REST error body: ``{"detail": {"code", "message"}}``; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["detail"]
    assert sorted(body["detail"]) == ["code", "message"]
    assert body["detail"]["code"] == code, body
    message: str = body["detail"]["message"]
    return message


def test_create_get_download_url_download_and_native(
    acme: httpx.Client, backend_server: RunningServer
) -> None:
    tenant = acme
    info = create(
        tenant,
        template_id="orders",
        name="February onwards",
        template_options={"since": "2024-02-01"},
    )
    assert list(info) == REPORT_INFO_FIELDS
    assert info["domain_id"] == tenant.domain_id  # type: ignore[attr-defined]
    assert info["template_id"] == "orders"
    assert info["template_options"] == {"since": "2024-02-01"}
    assert info["state"] == "CREATED"
    assert info["created_by"] == "spaceone-client"
    assert info["schedule_id"] == ""
    assert info["error"] is None
    assert info["storage_path"] == ""
    assert info["storage_info"] == {
        "storage_id": "default",
        "name": "default",
        "domain_id": tenant.domain_id,  # type: ignore[attr-defined]
    }
    assert RFC3339.match(info["created_at"]), info["created_at"]

    done = wait_finished(tenant, info["report_id"])
    assert list(done) == REPORT_INFO_FIELDS
    assert done["storage_path"].endswith(".csv")
    assert done["created_at"] == info["created_at"]

    only = get(tenant, info["report_id"], only=["state", "report_id"])
    assert only.status_code == 200
    assert only.json() == {"report_id": info["report_id"], "state": "FINISHED"}

    link = tenant.get(
        f"/report/v1/report/{info['report_id']}/download_url",
        params={"domain_id": tenant.domain_id},  # type: ignore[attr-defined]
    )
    assert link.status_code == 200, link.text
    assert list(link.json()) == ["download_url"]
    url = link.json()["download_url"]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == backend_server.url
    assert {"expires", "signature"} <= set(parse_qs(parts.query))
    file = httpx.get(url, timeout=30)  # the signature is the only credential
    assert file.status_code == 200
    rows = list(csv.DictReader(io.StringIO(file.text)))
    assert [int(r["order_id"]) for r in rows] == [3, 4, 5, 6, 7, 8]

    native = tenant.get(f"/v1/reports/{info['report_id']}").json()
    assert native["id"] == info["report_id"]
    assert native["options"] == info["template_options"]
    assert native["formats"] == ["csv"]  # the template's first format
    [artifact] = native["artifacts"]
    assert artifact["sha256"] == hashlib.sha256(file.content).hexdigest()
    assert artifact["size"] == len(file.content)
    assert tenant.get(f"/v1/reports/{info['report_id']}/download").content == file.content


def test_list_with_report_query_fields_and_repeated_only(tenant: httpx.Client) -> None:
    made = [create(tenant, template_id="orders", name=f"list {i}") for i in range(3)]
    for info in made:
        wait_finished(tenant, info["report_id"])
    domain = tenant.domain_id  # type: ignore[attr-defined]
    listed = tenant.get(
        "/report/v1/reports",
        params={"domain_id": domain, "only": ["state", "report_id"]},
    )
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert list(body) == ["results", "total_count"]
    assert body["total_count"] == 3
    assert body["results"] == [
        {"report_id": i["report_id"], "state": "FINISHED"} for i in reversed(made)
    ]

    one = tenant.get(
        "/report/v1/reports",
        params={"domain_id": domain, "report_id": made[1]["report_id"], "template_id": "orders"},
    ).json()
    assert one["total_count"] == 1
    assert list(one["results"][0]) == REPORT_INFO_FIELDS
    assert one["results"][0]["report_id"] == made[1]["report_id"]

    assert tenant.get(
        "/report/v1/reports", params={"domain_id": domain, "state": "FAILURE"}
    ).json() == {"results": [], "total_count": 0}
    by_creator = tenant.get(
        "/report/v1/reports", params={"domain_id": domain, "created_by": "spaceone-client"}
    ).json()
    assert by_creator["total_count"] == 3

    paged = tenant.get(
        "/report/v1/reports",
        params={
            "domain_id": domain,
            "query.page.start": 2,
            "query.page.limit": 1,
            "query.sort.key": "created_at",
            "query.only": "report_id",
        },
    ).json()
    assert paged == {"results": [{"report_id": made[1]["report_id"]}], "total_count": 3}


def test_search_filter_sort_page_keyword_count_only(tenant: httpx.Client) -> None:
    first = create(tenant, template_id="orders", name="alpha costs")
    wait_finished(tenant, first["report_id"])
    second = create(tenant, template_id="orders", name="beta costs")
    third = create(tenant, template_id="orders", name="gamma usage")
    for info in (second, third):
        wait_finished(tenant, info["report_id"])
    everyone = [first["report_id"], second["report_id"], third["report_id"]]

    found = search(tenant, filter=[{"k": "report_id", "v": everyone[:2], "o": "in"}])
    assert sorted(ids(found)) == sorted(everyone[:2]) and found["total_count"] == 2
    found = search(
        tenant,
        filter=[{"key": "state", "value": "FINISHED", "operator": "eq"}],
        sort={"key": "created_at"},
    )
    assert ids(found) == everyone
    found = search(
        tenant, sort=[{"key": "created_at", "desc": True}], page={"start": 2, "limit": 1}
    )
    assert ids(found) == [everyone[1]] and found["total_count"] == 3
    found = search(tenant, keyword="costs", sort={"key": "created_at", "desc": False})
    assert ids(found) == everyone[:2]
    found = search(
        tenant,
        filter_or=[
            {"k": "report_id", "v": everyone[0], "o": "eq"},
            {"k": "report_id", "v": everyone[2], "o": "eq"},
        ],
        sort={"key": "created_at"},
    )
    assert ids(found) == [everyone[0], everyone[2]]
    found = search(
        tenant,
        filter=[{"k": "created_at", "v": first["created_at"], "o": "datetime_gt"}],
        sort={"key": "created_at"},
    )
    assert ids(found) == everyone[1:]
    found = search(
        tenant,
        filter=[
            {"k": "report_id", "v": everyone[0], "o": "not"},
            {"k": "schedule_id", "v": False, "o": "exists"},
            {"k": "finished_at", "v": "now-1h", "o": "timediff_gt"},
            {"k": "name", "v": ["gamma", "zeta"], "o": "contain_in"},
        ],
    )
    assert ids(found) == [everyone[2]]
    found = search(tenant, filter=[{"k": "name", "v": "costs", "o": "not_contain"}])
    assert ids(found) == [everyone[2]]
    found = search(tenant, count_only=True)
    assert found == {"results": [], "total_count": 3}
    found = search(tenant, minimal=True, page={"limit": 1})
    assert list(found["results"][0]) == ["report_id", "template_id", "state", "created_at"]
    found = search(tenant, only=["report_id"], filter=[{"k": "template_id", "v": "nope"}])
    assert found == {"results": [], "total_count": 0}


def test_domain_id_must_be_the_callers_tenant(tenant: httpx.Client) -> None:
    info = create(tenant, template_id="orders", name="mine")
    other = {"domain_id": OTHER_TENANT}
    responses = [
        tenant.post(
            "/report/v1/reports", json={**other, "template_id": "orders", "name": "theirs"}
        ),
        tenant.get(f"/report/v1/report/{info['report_id']}", params=other),
        tenant.get(f"/report/v1/report/{info['report_id']}/download_url", params=other),
        tenant.get("/report/v1/reports", params=other),
        tenant.post("/report/v1/reports/search", json=other),
    ]
    for response in responses:
        assert error_of(response, 403, "ERROR_PERMISSION_DENIED").startswith("Permission denied.")


def test_documented_errors_in_spaceones_body(
    tenant: httpx.Client, backend_server: RunningServer
) -> None:
    domain = {"domain_id": tenant.domain_id}  # type: ignore[attr-defined]
    with client(backend_server, None) as anonymous:
        response = anonymous.get("/report/v1/reports", params=domain)
    error_of(response, 401, "ERROR_AUTHENTICATE_FAILURE")
    with client(backend_server, "rk_not-a-key") as wrong:
        error_of(wrong.get("/report/v1/reports", params=domain), 401, "ERROR_AUTHENTICATE_FAILURE")

    missing = tenant.get("/report/v1/reports")
    assert error_of(missing, 400, "ERROR_REQUIRED_PARAMETER") == (
        "Required parameter. (key = domain_id)"
    )
    missing = tenant.post("/report/v1/reports", json={**domain, "template_id": "orders"})
    assert error_of(missing, 400, "ERROR_REQUIRED_PARAMETER") == "Required parameter. (key = name)"
    broken = tenant.post(
        "/report/v1/reports/search",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    error_of(broken, 400, "ERROR_INVALID_PARAMETER")
    error_of(
        tenant.get("/report/v1/reports", params={**domain, "state": "DONE"}),
        400,
        "ERROR_INVALID_PARAMETER",
    )

    error_of(get(tenant, "no-such-report"), 400, "ERROR_NOT_FOUND")
    theirs = create(tenant, template_id="orders", name="hidden")["report_id"]
    other_key = backend_server.make_key("sp-errors-other", name="other")
    with client(backend_server, other_key) as other:
        hidden = other.get(f"/report/v1/report/{theirs}", params={"domain_id": "sp-errors-other"})
    error_of(hidden, 400, "ERROR_NOT_FOUND")  # another domain's report does not exist
    unknown = tenant.post("/report/v1/reports", json={**domain, "template_id": "nope", "name": "x"})
    error_of(unknown, 400, "ERROR_NOT_FOUND")

    bad_operator = tenant.post(
        "/report/v1/reports/search",
        json={**domain, "query": {"filter": [{"k": "name", "v": "x", "o": "regex"}]}},
    )
    assert "regex" in error_of(bad_operator, 400, "ERROR_INVALID_ARGUMENT")
    bad_key = tenant.post(
        "/report/v1/reports/search",
        json={**domain, "query": {"filter": [{"k": "tenant", "v": "x", "o": "eq"}]}},
    )
    assert "unknown field 'tenant'" in error_of(bad_key, 400, "ERROR_INVALID_ARGUMENT")
    bad_only = get(tenant, theirs, only=["nope"])
    error_of(bad_only, 400, "ERROR_INVALID_ARGUMENT")

    slow = create(tenant, template_id="slow", name="not yet")["report_id"]
    not_ready = tenant.get(f"/report/v1/report/{slow}/download_url", params=domain)
    error_of(not_ready, 400, "ERROR_REPORT_NOT_READY")
    assert tenant.post(f"/v1/reports/{slow}/cancel").status_code == 200

    reader = backend_server.make_key(
        tenant.domain_id,  # type: ignore[attr-defined]
        name="reader",
        scopes=("reports:read",),
    )
    with client(backend_server, reader) as read_only:
        refused = read_only.post(
            "/report/v1/reports", json={**domain, "template_id": "nope", "name": "x"}
        )
    error_of(refused, 403, "ERROR_PERMISSION_DENIED")  # the scope is checked first


def test_native_list_accepts_the_same_filter_machinery(tenant: httpx.Client) -> None:
    kept = create(tenant, template_id="orders", name="kept one")
    create(tenant, template_id="orders", name="other one")
    found = tenant.get("/v1/reports", params={"filter": 'name sw "kept" and state pr'}).json()
    assert [r["id"] for r in found["results"]] == [kept["report_id"]]
    assert found["total_count"] == 1
    bad = tenant.get("/v1/reports", params={"filter": "name zz 1"}).json()
    assert bad["error"]["code"] == "invalid_filter"
    assert bad["error"]["details"]["position"] == 5


def test_console_api_form(acme: httpx.Client, backend_server: RunningServer) -> None:
    """Cloudforet console-api's ``POST /report/report/{verb}``, its error body included."""
    domain = {"domain_id": acme.domain_id}  # type: ignore[attr-defined]
    made = acme.post(
        "/report/report/create", json={**domain, "template_id": "orders", "name": "console"}
    )
    assert made.status_code == 200, made.text
    info = made.json()
    assert list(info) == REPORT_INFO_FIELDS
    wait_finished(acme, info["report_id"])
    got = acme.post("/report/report/get", json={**domain, "report_id": info["report_id"]})
    assert got.json()["state"] == "FINISHED"
    only = {**domain, "report_id": info["report_id"], "only": ["state"]}
    assert acme.post("/report/report/get", json=only).json() == {"state": "FINISHED"}
    link = acme.post("/report/report/get_download_url", json={**domain, **only, "only": None})
    assert link.status_code == 400  # only is not a field of GetDownloadURLRequest
    link = acme.post(
        "/report/report/get_download_url", json={**domain, "report_id": info["report_id"]}
    )
    assert httpx.get(link.json()["download_url"], timeout=30).status_code == 200
    listed = acme.post(
        "/report/report/list", json={**domain, "query": {"filter": [{"k": "name", "v": "console"}]}}
    ).json()
    assert [r["report_id"] for r in listed["results"]] == [info["report_id"]]

    def console_error(response: httpx.Response, status: int, code: str) -> None:
        assert response.status_code == status, response.text
        assert list(response.json()) == ["error"]
        assert sorted(response.json()["error"]) == ["code", "message"]
        assert response.json()["error"]["code"] == code

    with client(backend_server, "rk_not-a-key") as wrong:
        console_error(
            wrong.post("/report/report/list", json=domain), 401, "ERROR_AUTHENTICATE_FAILURE"
        )
    other = {"domain_id": OTHER_TENANT}
    console_error(acme.post("/report/report/list", json=other), 403, "ERROR_PERMISSION_DENIED")
    console_error(acme.post("/report/report/get", json=domain), 400, "ERROR_REQUIRED_PARAMETER")
    missing = {**domain, "report_id": "nope"}
    console_error(acme.post("/report/report/get", json=missing), 400, "ERROR_NOT_FOUND")
