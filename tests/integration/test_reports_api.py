"""The native API end to end against a real server process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import duckdb
import httpx
import pytest

from tests.server_fixtures import OTHER_TENANT, RunningServer

FINAL = {"FINISHED", "FAILURE", "TIMEOUT", "CANCELED", "EXPIRED"}


def wait_final(api: httpx.Client, report_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report: dict[str, Any] = api.get(f"/v1/reports/{report_id}").json()
        if report["state"] in FINAL:
            return report
        time.sleep(0.05)
    raise AssertionError(f"report {report_id} did not finish: {report}")


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/reports", json=body)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


def duckdb_answer(server: RunningServer, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(server.config_path.parent / "orders.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_report_with_fields_filter_and_order_equals_duckdb(
    api: httpx.Client, backend_server: RunningServer
) -> None:
    report = create(
        api,
        template_id="orders",
        fields=["order_id", "customer", "amount", "created_at"],
        filter='paid eq true and (amount gt 50 or customer sw "Ch")',
        order_by=["-amount", "order_id"],
        formats=["csv", "json", "ndjson"],
    )
    assert report["state"] == "CREATED"
    done = wait_final(api, report["id"])
    assert done["state"] == "FINISHED", done
    expected = duckdb_answer(
        backend_server,
        "SELECT order_id, customer, amount, created_at FROM orders "
        "WHERE tenant = 'acme' AND paid AND (amount > 50 OR customer LIKE 'Ch%') "
        "ORDER BY amount DESC, order_id",
    )
    assert done["progress"]["rows"] == len(expected) > 0
    assert done["progress"]["percent"] == 100.0

    text = api.get(f"/v1/reports/{report['id']}/download", params={"format": "csv"}).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["order_id", "customer", "amount", "created_at"]
    assert [(int(r[0]), r[1], float(r[2]), r[3]) for r in rows[1:]] == [
        (i, c, a, t.isoformat()) for i, c, a, t in expected
    ]

    as_json = api.get(f"/v1/reports/{report['id']}/download", params={"format": "json"}).json()
    lines = api.get(f"/v1/reports/{report['id']}/download", params={"format": "ndjson"}).text
    as_ndjson = [json.loads(line) for line in lines.splitlines()]
    assert as_json == as_ndjson
    assert [(o["order_id"], o["customer"], o["amount"], o["created_at"]) for o in as_json] == [
        (i, c, a, t.isoformat()) for i, c, a, t in expected
    ]


def test_report_resource_and_listing(api: httpx.Client) -> None:
    created = api.post("/v1/reports", json={"template_id": "orders", "formats": ["csv"]})
    assert created.headers["location"] == f"/v1/reports/{created.json()['id']}"
    report = wait_final(api, created.json()["id"])
    for key in (
        "id",
        "tenant_id",
        "template_id",
        "name",
        "state",
        "options",
        "fields",
        "filter",
        "order_by",
        "formats",
        "packaging",
        "progress",
        "created_by",
        "schedule_id",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
        "error",
        "storage_id",
        "artifacts",
        "links",
    ):
        assert key in report
    assert report["options"] == {"since": "2000-01-01"}
    assert report["created_by"] == "admin"
    artifact = report["artifacts"][0]
    assert artifact["filename"].startswith("Orders-") and artifact["filename"].endswith(".csv")
    assert len(artifact["sha256"]) == 64

    listed = api.get("/v1/reports", params={"template_id": "orders", "limit": 1}).json()
    assert listed["total_count"] >= 1 and len(listed["results"]) == 1
    assert api.get("/v1/reports", params={"state": "NOPE"}).json()["error"]["code"] == (
        "validation_error"
    )


def test_cursor_paging_walks_every_report_once(
    api: httpx.Client, backend_server: RunningServer
) -> None:
    key = backend_server.make_key("pager", name="pager")
    with httpx.Client(
        base_url=backend_server.url, timeout=30, headers={"X-API-Key": key}
    ) as client:
        made = {create(client, template_id="orders", formats=["csv"])["id"] for _ in range(5)}
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/reports", params=params).json()
            assert page["total_count"] == 5
            seen.extend(r["id"] for r in page["results"])
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert sorted(seen) == sorted(made) and len(seen) == 5


def test_signed_link_range_tamper_and_expiry(api: httpx.Client) -> None:
    report = wait_final(api, create(api, template_id="orders", formats=["csv"])["id"])
    whole = api.get(f"/v1/reports/{report['id']}/download", params={"format": "csv"})
    assert whole.headers["etag"] == f'"{report["artifacts"][0]["sha256"]}"'
    assert "Orders-" in whole.headers["content-disposition"]

    link = api.get(f"/v1/reports/{report['id']}/download_url", params={"format": "csv"}).json()
    assert link["sha256"] == report["artifacts"][0]["sha256"]
    assert link["file_size"] == len(whole.content)
    url = link["download_url"]
    assert url.startswith("http://127.0.0.1:")
    with httpx.Client(timeout=30) as anonymous:
        assert anonymous.get(url).content == whole.content
        partial = anonymous.get(url, headers={"Range": "bytes=10-"})
        assert partial.status_code == 206
        assert whole.content[:10] + partial.content == whole.content
        assert partial.headers["content-range"] == f"bytes 10-{len(whole.content) - 1}/" + str(
            len(whole.content)
        )
        tail = anonymous.get(url, headers={"Range": "bytes=-5"})
        assert tail.content == whole.content[-5:]
        outside = anonymous.get(url, headers={"Range": f"bytes={len(whole.content) + 5}-"})
        assert outside.status_code == 416
        assert outside.json()["error"]["code"] == "range_not_satisfiable"
        cached = anonymous.get(url, headers={"If-None-Match": whole.headers["etag"]})
        assert cached.status_code == 304

        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for name in ("signature", "expires"):
            changed = dict(query)
            value = changed[name]
            changed[name] = value[:-1] + ("0" if value[-1] != "0" else "1")
            tampered = f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(changed)}"
            response = anonymous.get(tampered)
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "invalid_signature"
        other_file = url.replace(".csv?", ".json?")
        assert anonymous.get(other_file).json()["error"]["code"] == "invalid_signature"
        assert anonymous.get(url.split("?")[0]).json()["error"]["code"] == "invalid_signature"

    short = api.get(
        f"/v1/reports/{report['id']}/download_url", params={"format": "csv", "expires_in": 1}
    ).json()
    time.sleep(2.1)
    with httpx.Client(timeout=30) as anonymous:
        expired = anonymous.get(short["download_url"])
    assert expired.status_code == 403
    assert expired.json()["error"]["code"] == "link_expired"


def test_tenants_are_isolated_and_scopes_enforced(
    api: httpx.Client, backend_server: RunningServer
) -> None:
    mine = wait_final(api, create(api, template_id="orders", formats=["csv"])["id"])
    other_key = backend_server.make_key(OTHER_TENANT, name="globex")
    with httpx.Client(base_url=backend_server.url, timeout=30) as client:
        headers = {"Authorization": f"Token {other_key}"}
        for path in ("", "/download?format=csv", "/download_url?format=csv"):
            response = client.get(f"/v1/reports/{mine['id']}{path}", headers=headers)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "report_not_found"
        assert client.post(f"/v1/reports/{mine['id']}/cancel", headers=headers).status_code == 404
        with httpx.Client(base_url=backend_server.url, headers=headers, timeout=30) as other:
            theirs = create(other, template_id="orders", formats=["csv"])
            other_rows = wait_final(other, theirs["id"])
        assert other_rows["progress"]["rows"] == 1  # only globex's own row, tenant bound

        reader = backend_server.make_key(name="reader", scopes=("reports:read",))
        forbidden = client.post(
            "/v1/reports",
            json={"template_id": "orders", "formats": ["csv"]},
            headers={"X-DC-DEVKEY": reader},
        )
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["code"] == "forbidden"
        assert (
            client.get(f"/v1/reports/{mine['id']}", headers={"X-API-Key": reader}).status_code
            == 200
        )
        for bad in (
            {},
            {"Authorization": "Bearer nope"},
            {"X-API-Key": "rk_wrong"},
            {"Authorization": "Basic abc"},
        ):
            response = client.get("/v1/reports", headers=bad)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"template_id": "nope", "formats": ["csv"]}, 404, "template_not_found"),
        ({"template_id": "orders", "formats": ["pdf"]}, 400, "format_inapplicable"),
        ({"template_id": "orders", "formats": ["docx"]}, 400, "format_inapplicable"),
        ({"template_id": "orders", "formats": []}, 400, "validation_error"),
        ({"template_id": "orders"}, 400, "validation_error"),
        (
            {"template_id": "orders", "formats": ["csv"], "fields": ["nope"]},
            400,
            "validation_error",
        ),
        (
            {"template_id": "orders", "formats": ["csv"], "filter": "amount gt"},
            400,
            "invalid_filter",
        ),
        (
            {"template_id": "orders", "formats": ["csv"], "filter": 'created_at eq "x"'},
            400,
            "invalid_filter",
        ),
        (
            {"template_id": "orders", "formats": ["csv"], "order_by": ["paid"]},
            400,
            "invalid_filter",
        ),
        (
            {"template_id": "orders", "formats": ["csv"], "options": {"since": "last tuesday"}},
            400,
            "validation_error",
        ),
        (
            {"template_id": "orders", "formats": ["csv"], "options": {"tenant_id": "globex"}},
            400,
            "validation_error",
        ),
        (
            {"template_id": "orders", "formats": ["csv"], "packaging": "rar"},
            400,
            "validation_error",
        ),
        (
            {"template_id": "orders", "formats": ["csv"], "zip_password": "secret-pass"},
            400,
            "validation_error",
        ),
        (
            {"template_id": "orders", "formats": ["csv"], "storage_id": "elsewhere"},
            404,
            "storage_not_found",
        ),
        ({"template_id": "orders", "formats": ["csv"], "surprise": 1}, 400, "validation_error"),
    ],
)
def test_bad_requests_get_stable_codes(
    api: httpx.Client, body: dict[str, Any], status: int, code: str
) -> None:
    response = api.post("/v1/reports", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_filter_error_points_at_the_position(api: httpx.Client) -> None:
    body = {"template_id": "orders", "formats": ["csv"], "filter": "amount gt 5 and bogus eq 1"}
    error = api.post("/v1/reports", json=body).json()["error"]
    assert error["code"] == "invalid_filter"
    assert error["details"]["position"] == 16


def test_malformed_and_unknown_requests_are_not_500(api: httpx.Client) -> None:
    broken = api.post(
        "/v1/reports", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "validation_error"
    assert api.get("/v1/reports/does-not-exist").json()["error"]["code"] == "report_not_found"
    assert api.get("/v1/nothing-here").status_code == 404
    assert api.get("/v1/reports", params={"limit": 0}).status_code == 400
    assert api.get("/v1/reports", params={"cursor": "!!!"}).json()["error"]["code"] == (
        "validation_error"
    )
    assert api.get("/v1/templates/nope").json()["error"]["code"] == "template_not_found"


def test_download_before_finish_and_delete(api: httpx.Client) -> None:
    slow = create(api, template_id="slow", formats=["csv"], options={"rows": 20_000_000})
    early = api.get(f"/v1/reports/{slow['id']}/download", params={"format": "csv"})
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "report_not_ready"
    api.post(f"/v1/reports/{slow['id']}/cancel")
    wait_final(api, slow["id"])

    done = wait_final(api, create(api, template_id="orders", formats=["csv"])["id"])
    assert (
        api.get(f"/v1/reports/{done['id']}/download", params={"format": "json"}).json()["error"][
            "code"
        ]
        == "format_inapplicable"
    )
    link = api.get(f"/v1/reports/{done['id']}/download_url", params={"format": "csv"}).json()
    assert api.delete(f"/v1/reports/{done['id']}").status_code == 204
    assert api.get(f"/v1/reports/{done['id']}").status_code == 404
    with httpx.Client(timeout=30) as anonymous:
        assert anonymous.get(link["download_url"]).status_code == 404


def test_events_stream_ends_with_the_final_state(api: httpx.Client) -> None:
    report = create(api, template_id="orders", formats=["csv"])
    states = []
    with api.stream("GET", f"/v1/reports/{report['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                states.append(json.loads(line[6:])["state"])
    assert states[-1] == "FINISHED"
    assert states == sorted(states, key=["CREATED", "IN_PROGRESS", "FINISHED"].index)


def test_templates_and_service_routes(api: httpx.Client) -> None:
    templates = api.get("/v1/templates").json()
    assert {t["id"] for t in templates["results"]} == {"orders", "slow"}
    orders = api.get("/v1/templates/orders").json()
    assert [f["name"] for f in orders["fields"]] == [
        "order_id",
        "customer",
        "amount",
        "created_at",
        "paid",
    ]
    assert api.get("/healthz").json()["status"] == "ok"
    assert api.get("/readyz").status_code == 200
    assert "/v1/reports" in api.get("/openapi.json").json()["paths"]
    assert api.get("/docs").status_code == 200
