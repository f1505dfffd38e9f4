"""getbill.io reports (seeds/004_a0209f68423855b5.txt) against a real server, SQLite and PostgreSQL.

The document's cURL and Python samples, transcribed (httpx stands in for ``requests``, with the
same calls), its success and 403 bodies field by field, the create/status/list extensions in the
same envelope, and the same report through the native API.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.server_fixtures import OTHER_TENANT, RunningServer, start_server

# The document's example is a PDF: a template whose first format is PDF.
FINANCIAL_SUMMARY = """\
id: financial_summary
name: Financial summary
source: shop
query: |
  SELECT order_id, customer, amount, paid FROM orders WHERE tenant = :tenant_id
fields:
  - {name: order_id, type: integer, filterable: true, sortable: true}
  - {name: customer, type: string, filterable: true, sortable: true}
  - {name: amount, type: number, filterable: true, sortable: true}
  - {name: paid, type: boolean, filterable: true}
formats: [pdf, csv]
display_name: financial_summary
"""
DATA_FIELDS = ["id", "filename", "file_size", "mime_type", "download_url", "expires_at"]
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ACCESS_DENIED = {"error": True, "message": "Access denied to this report", "code": 403}


@pytest.fixture(scope="module")
def backend_server(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("getbill")
    (root / "templates").mkdir()
    (root / "templates" / "financial_summary.yaml").write_text(FINANCIAL_SUMMARY)
    with start_server(root, database_url=backend_database) as server:
        yield server


@pytest.fixture(scope="module")
def access_token(backend_server: RunningServer) -> str:
    return backend_server.make_key(name="getbill", scopes=("reports:read", "reports:write"))


@pytest.fixture
def api(backend_server: RunningServer, access_token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {access_token}"}
    with httpx.Client(base_url=backend_server.url, headers=headers, timeout=30) as client:
        yield client


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/external-api/v1/reports", json=body)
    assert response.status_code == 202, response.text
    envelope: dict[str, Any] = response.json()
    assert envelope["error"] is False and envelope["message"] == "Report generation started"
    assert response.headers["location"] == f"/external-api/v1/reports/{envelope['data']['id']}"
    data: dict[str, Any] = envelope["data"]
    return data


def wait_completed(api: httpx.Client, report_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        response = api.get(f"/external-api/v1/reports/{report_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        if data["status"] not in ("pending", "processing"):
            assert data["status"] == "completed", data
            return data
        time.sleep(0.1)
    raise AssertionError(f"report {report_id} did not complete")


def curl_download_information(url: str, report_id: str, token: str) -> httpx.Response:
    """``curl -X GET "/external-api/v1/reports/download/{id}" -H "Authorization: Bearer ..."``."""
    return httpx.request(
        "GET",
        f"{url}/external-api/v1/reports/download/{report_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def download_report(
    base: str, report_id: str, access_token: str, save_path: Path | None = None
) -> Path | None:
    """The document's Python sample, line for line (``requests`` -> ``httpx``)."""
    try:
        # Get download information
        info_response = httpx.get(
            f"{base}/external-api/v1/reports/download/{report_id}",
            headers={"Authorization": f"Bearer {access_token}"},
        )
        info_response.raise_for_status()
        download_info = info_response.json()["data"]
        # Download the actual file
        file_response = httpx.get(download_info["download_url"])
        file_response.raise_for_status()
        # Save to file
        filename = save_path or Path(download_info["filename"])
        filename.write_bytes(file_response.content)
        return filename
    except httpx.HTTPError:
        return None


def test_documented_download_information_then_download(
    api: httpx.Client, backend_server: RunningServer, access_token: str
) -> None:
    made = create(api, template_id="financial_summary", name="Financial summary 2024-01")
    assert made["status"] == "pending" and made["type"] == "financial_summary"
    done = wait_completed(api, made["id"])
    assert done["mime_type"] == "application/pdf" and done["download_available"] is True

    response = curl_download_information(backend_server.url, made["id"], access_token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["error", "message", "data"]
    assert body["error"] is False
    assert body["message"] == "Report download information retrieved"
    data = body["data"]
    assert list(data) == DATA_FIELDS
    assert data["id"] == made["id"]
    assert data["mime_type"] == "application/pdf"
    assert re.fullmatch(r"financial_summary-\d{4}-\d\d-\d\d\.pdf", data["filename"])
    assert ISO_Z.match(data["expires_at"])
    link = urlsplit(data["download_url"])
    assert f"{link.scheme}://{link.netloc}" == backend_server.url
    query = parse_qs(link.query)
    assert set(query) == {"expires", "signature"}
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(query["expires"][0])))
    assert expires == data["expires_at"]
    lifetime = int(query["expires"][0]) - time.time()
    assert 3000 < lifetime <= 3600  # getbill's documented hour, not the native five minutes

    file = httpx.get(data["download_url"], timeout=30)  # no credentials
    assert file.status_code == 200
    assert file.content.startswith(b"%PDF")
    assert len(file.content) == data["file_size"]
    assert file.headers["content-type"] == "application/pdf"

    native = api.get(f"/v1/reports/{made['id']}").json()
    assert native["id"] == made["id"] and native["formats"] == ["pdf"]
    [artifact] = native["artifacts"]
    assert artifact["filename"] == data["filename"]
    assert artifact["sha256"] == hashlib.sha256(file.content).hexdigest()
    assert api.get(f"/v1/reports/{made['id']}/download").content == file.content


def test_documented_python_sample(
    api: httpx.Client, backend_server: RunningServer, access_token: str, tmp_path: Path
) -> None:
    made = create(api, template_id="orders", format="csv")
    wait_completed(api, made["id"])
    saved = download_report(backend_server.url, made["id"], access_token, tmp_path / "r.csv")
    assert saved == tmp_path / "r.csv"
    native = api.get(f"/v1/reports/{made['id']}").json()["artifacts"][0]
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == native["sha256"]
    assert saved.read_text().splitlines()[0] == "order_id,customer,amount,created_at,paid"
    # The sample's except branch: a report the caller cannot see.
    assert download_report(backend_server.url, "report_abc123", access_token) is None


def test_access_denied_as_documented(
    api: httpx.Client, backend_server: RunningServer, access_token: str
) -> None:
    # The document's own example id, sent as its cURL sample does.
    response = curl_download_information(backend_server.url, "report_abc123", access_token)
    assert response.status_code == 403 and response.json() == ACCESS_DENIED

    other_key = backend_server.make_key(OTHER_TENANT, name="other", scopes=("reports:write",))
    with httpx.Client(
        base_url=backend_server.url, headers={"Authorization": f"Bearer {other_key}"}
    ) as other:
        theirs = create(other, template_id="orders")["id"]
        # A key without reports:read, on its own tenant's report.
        no_scope = curl_download_information(backend_server.url, theirs, other_key)
        assert no_scope.status_code == 403 and no_scope.json() == ACCESS_DENIED
    with api_for(backend_server, OTHER_TENANT) as reader:
        wait_completed(reader, theirs)
    # Another tenant's (finished) report.
    foreign = curl_download_information(backend_server.url, theirs, access_token)
    assert foreign.status_code == 403 and foreign.json() == ACCESS_DENIED
    status = api.get(f"/external-api/v1/reports/{theirs}")
    assert status.status_code == 403 and status.json() == ACCESS_DENIED


def api_for(server: RunningServer, tenant: str) -> httpx.Client:
    key = server.make_key(tenant, name="reader", scopes=("reports:read",))
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"})


def envelope_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error", "message", "code"]
    assert body["error"] is True and body["code"] == status
    message: str = body["message"]
    return message


def test_other_errors_in_the_same_envelope(
    api: httpx.Client, backend_server: RunningServer
) -> None:
    url = f"{backend_server.url}/external-api/v1/reports/download/report_abc123"
    envelope_error(httpx.get(url), 401)
    envelope_error(httpx.get(url, headers={"Authorization": "Bearer rk_wrong"}), 401)

    slow = create(api, template_id="slow")["id"]
    assert "not FINISHED" in envelope_error(
        api.get(f"/external-api/v1/reports/download/{slow}"), 409
    )
    assert api.post(f"/v1/reports/{slow}/cancel").status_code == 200

    assert "nope" in envelope_error(
        api.post("/external-api/v1/reports", json={"template_id": "nope"}), 404
    )
    envelope_error(api.post("/external-api/v1/reports", json={"name": "no template"}), 400)
    envelope_error(
        api.post(
            "/external-api/v1/reports",
            content=b"{broken",
            headers={"Content-Type": "application/json"},
        ),
        400,
    )
    assert "xlsx" in envelope_error(
        api.post("/external-api/v1/reports", json={"template_id": "orders", "format": "xlsx"}),
        400,
    )
    envelope_error(api.get("/external-api/v1/reports", params={"status": "done"}), 400)

    reader = backend_server.make_key(name="getbill-reader", scopes=("reports:read",))
    refused = httpx.post(
        f"{backend_server.url}/external-api/v1/reports",
        json={"template_id": "orders"},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert "reports:write" in envelope_error(refused, 403)


REPORT_FIELDS = [
    "id", "type", "title", "description", "status", "filename", "file_size", "mime_type",
    "period_from", "period_to", "generated_at", "created_at", "download_available",
]  # fmt: skip


def test_get_and_list_reports_as_documented(backend_server: RunningServer) -> None:
    key = backend_server.make_key("getbill-list", name="lister")
    with httpx.Client(
        base_url=backend_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        first = create(client, template_id="orders", name="first", options={"since": "2024-01-01"})
        wait_completed(client, first["id"])
        second = create(client, type="financial_summary", name="second")
        wait_completed(client, second["id"])
        third = create(client, template_id="orders", name="third")
        wait_completed(client, third["id"])

        got = client.get(f"/external-api/v1/reports/{first['id']}").json()
        assert list(got) == ["error", "message", "data"]
        assert got["error"] is False and got["message"] == "Success"
        data = got["data"]
        assert list(data) == REPORT_FIELDS
        assert data["type"] == "orders" and data["title"] == "first"
        assert data["description"] == "Every order in a period."
        assert data["status"] == "completed" and data["download_available"] is True
        assert data["mime_type"] == "text/csv" and data["filename"].endswith(".csv")
        assert data["period_from"] == "2024-01-01" and data["period_to"] is None
        assert ISO_Z.match(data["generated_at"]) and ISO_Z.match(data["created_at"])

        listed = client.get("/external-api/v1/reports", params={"limit": 2}).json()
        assert list(listed) == ["error", "data", "pagination"]
        assert listed["pagination"] == {"total": 3, "page": 1, "limit": 2, "pages": 2}
        assert [r["id"] for r in listed["data"]] == [third["id"], second["id"]]
        assert all(list(r) == REPORT_FIELDS for r in listed["data"])
        page2 = client.get("/external-api/v1/reports", params={"limit": 2, "page": 2}).json()
        assert [r["id"] for r in page2["data"]] == [first["id"]]
        assert page2["pagination"] == {"total": 3, "page": 2, "limit": 2, "pages": 2}
        typed = client.get("/external-api/v1/reports", params={"type": "orders"}).json()
        assert [r["id"] for r in typed["data"]] == [third["id"], first["id"]]
        assert typed["pagination"] == {"total": 2, "page": 1, "limit": 20, "pages": 1}
        assert (
            client.get("/external-api/v1/reports", params={"status": "completed"}).json()[
                "pagination"
            ]["total"]
            == 3
        )
        envelope_error(client.get("/external-api/v1/reports", params={"limit": 101}), 400)
        envelope_error(client.get("/external-api/v1/reports", params={"page": 0}), 400)
        assert client.get(f"/v1/reports/{first['id']}").json()["state"] == "FINISHED"


def test_a_paginating_client_reaches_the_last_page(backend_server: RunningServer) -> None:
    """getbill's pagination guide loop: ``while page < pages``, 100 at a time."""
    key = backend_server.make_key("getbill-pages", name="pager")
    with httpx.Client(
        base_url=backend_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        made = [create(client, template_id="orders", name=f"r{i}")["id"] for i in range(5)]
        seen: list[str] = []
        page, more = 1, True
        while more:
            body = client.get("/external-api/v1/reports", params={"page": page, "limit": 2})
            response = body.json()
            seen += [r["id"] for r in response["data"]]
            more = page < response["pagination"]["pages"]
            page += 1
        assert sorted(seen) == sorted(made) and page == 4
