"""Bounds on what a tenant sends (issue 11), end to end on a real server over SQLite and PostgreSQL.

Each test reproduces one failure of the issue as it was sent: before the bounds it drew a 500
(or stored something every later read failed on); now it is a 400/413/422 with a stable code,
and nothing is stored. The last tests write a value straight into the database, as a version
without the bounds did, and check that every read still renders it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from reportd.adapters.db import Store
from reportd.adapters.db.database import create_db_engine
from reportd.entrypoints.api.webhook_schemas import report_body
from tests.server_fixtures import RunningServer

pytestmark = pytest.mark.timeout(300)
ORDERS = {"template_id": "orders", "formats": ["csv"]}


def nested(levels: int) -> Any:
    """``[[[...]]]`` ``levels`` deep, as the issue sent it."""
    return json.loads("[" * levels + "]" * levels)


def assert_refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


def count(api: httpx.Client, path: str) -> int:
    return int(api.get(path, params={"limit": 1}).json()["total_count"])


def wait_finished(api: httpx.Client, report_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        report: dict[str, Any] = api.get(f"/v1/reports/{report_id}").json()
        if report["state"] == "FINISHED":
            return report
        assert report["state"] in ("CREATED", "IN_PROGRESS"), report
        time.sleep(0.05)
    raise AssertionError(f"report {report_id} did not finish")


def database_url(server: RunningServer) -> str:
    return server.env.get("REPORTD_DATABASE__URL") or f"sqlite:///{server.data_dir / 'reportd.db'}"


def poison(server: RunningServer, table: str, row_id: str, options_json: str) -> None:
    """Write ``options`` as a version without bounds stored them (the column is JSON text)."""
    engine = create_engine(database_url(server))
    cast = "CAST(:options AS JSON)" if engine.dialect.name == "postgresql" else ":options"
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {table} SET options = {cast} WHERE id = :id"),
            {"options": options_json, "id": row_id},
        )
    engine.dispose()


# -- failure 1: options nested ~300 levels --------------------------------------------------------


def test_deep_options_are_refused_and_nothing_is_stored(api: httpx.Client) -> None:
    reports, schedules = count(api, "/v1/reports"), count(api, "/v1/schedules")
    deep = {"a": nested(300)}
    created = api.post("/v1/reports", json={**ORDERS, "options": deep})
    error = assert_refused(created, 400, "payload_too_deep")
    assert error["details"]["max"] == 32
    schedule = {**ORDERS, "name": "deep", "cron": "0 3 * * *", "options": deep}
    assert_refused(api.post("/v1/schedules", json=schedule), 400, "payload_too_deep")
    assert count(api, "/v1/reports") == reports
    assert count(api, "/v1/schedules") == schedules


def test_a_body_just_within_the_depth_limit_passes_the_bounds(api: httpx.Client) -> None:
    # The body is one level above the options: options of depth 31 make a body of 32.
    created = api.post("/v1/reports", json={**ORDERS, "options": {"a": nested(30)}})
    assert created.status_code in (200, 202, 400), created.text
    if created.status_code == 400:  # the template's schema may refuse it; the bounds did not
        assert created.json()["error"]["code"] == "validation_error", created.text


def test_stored_deep_options_still_render(api: httpx.Client, backend_server: RunningServer) -> None:
    report = api.post("/v1/reports", json=ORDERS).json()
    wait_finished(api, report["id"])
    poison(backend_server, "reports", report["id"], json.dumps({"a": nested(300)}))
    got = api.get(f"/v1/reports/{report['id']}")
    assert got.status_code == 200, got.text
    assert got.json()["options"]["a"][0][0]  # the first levels are kept, the rest cut off
    listed = api.get("/v1/reports", params={"limit": 1000})
    assert listed.status_code == 200, listed.text
    assert report["id"] in {r["id"] for r in listed.json()["results"]}
    with api.stream("GET", f"/v1/reports/{report['id']}/events") as events:
        assert events.status_code == 200
        body = "".join(events.iter_text())
    assert "FINISHED" in body
    link = api.get(f"/v1/reports/{report['id']}/download_url")
    assert link.status_code == 200, link.text
    spaceone = api.get(f"/report/v1/report/{report['id']}", params={"domain_id": "acme"})
    assert spaceone.status_code == 200, spaceone.text


def test_stored_deep_options_render_as_a_webhook_payload(
    api: httpx.Client, backend_server: RunningServer
) -> None:
    """The dispatcher's read (``reports.get`` then ``report_body``) of a poisoned report: this
    raised "Maximum serialization depth exceeded" and rolled back every tenant's batch."""
    report = api.post("/v1/reports", json=ORDERS).json()
    wait_finished(api, report["id"])
    poison(backend_server, "reports", report["id"], json.dumps({"a": nested(300), "n": 2**70}))
    engine = create_db_engine(database_url(backend_server))
    try:
        stored = Store.over(engine).reports.get(report["id"])
        payload = json.loads(report_body(stored))
    finally:
        engine.dispose()
    assert payload["id"] == report["id"]
    assert payload["state"] == "FINISHED"
    assert payload["options"]["n"] == "<71-bit integer>"


def test_stored_deep_schedule_options_still_render(
    api: httpx.Client, backend_server: RunningServer
) -> None:
    made = api.post("/v1/schedules", json={**ORDERS, "name": "poisoned", "cron": "0 3 * * *"})
    assert made.status_code == 201, made.text
    poison(backend_server, "schedules", made.json()["id"], json.dumps({"a": nested(300)}))
    got = api.get(f"/v1/schedules/{made.json()['id']}")
    assert got.status_code == 200, got.text
    assert api.get("/v1/schedules", params={"limit": 1000}).status_code == 200


# -- failure 3: Idempotency-Key + deep body, any credential ---------------------------------------


def test_idempotent_deep_body_with_a_wrong_key_is_not_a_500(backend_server: RunningServer) -> None:
    deep = json.dumps({**ORDERS, "options": {"a": nested(300)}})
    for credential in ("rk_not_a_key", backend_server.admin_key):
        response = httpx.post(
            f"{backend_server.url}/v1/reports",
            content=deep,
            headers={
                "Authorization": f"Bearer {credential}",
                "Idempotency-Key": uuid.uuid4().hex,
                "Content-Type": "application/json",
            },
        )
        assert_refused(response, 400, "payload_too_deep")


def test_idempotent_request_authenticates_before_anything(backend_server: RunningServer) -> None:
    headers = {"Authorization": "Bearer rk_not_a_key", "Idempotency-Key": uuid.uuid4().hex}
    refused = httpx.post(f"{backend_server.url}/v1/reports", json=ORDERS, headers=headers)
    assert_refused(refused, 401, "authentication_failed")


def test_replay_to_a_revoked_key_is_401(api: httpx.Client, backend_server: RunningServer) -> None:
    made = api.post("/v1/keys", json={"name": f"replayed-{uuid.uuid4().hex[:6]}", "scopes": [
        "reports:read", "reports:write"]})  # fmt: skip
    assert made.status_code == 201, made.text
    headers = {"Authorization": f"Bearer {made.json()['secret']}", "Idempotency-Key": "once"}
    first = httpx.post(f"{backend_server.url}/v1/reports", json=ORDERS, headers=headers)
    assert first.status_code == 202, first.text
    again = httpx.post(f"{backend_server.url}/v1/reports", json=ORDERS, headers=headers)
    assert again.headers.get("idempotent-replayed") == "true"
    assert api.post(f"/v1/keys/{made.json()['id']}/revoke").status_code == 204
    revoked = httpx.post(f"{backend_server.url}/v1/reports", json=ORDERS, headers=headers)
    assert_refused(revoked, 401, "authentication_failed")
    assert "idempotent-replayed" not in revoked.headers


# -- failure 4: oversized numbers and patterns ----------------------------------------------------


def test_range_of_thousands_of_digits(api: httpx.Client, backend_server: RunningServer) -> None:
    report = api.post("/v1/reports", json=ORDERS).json()
    size = wait_finished(api, report["id"])["artifacts"][0]["size"]
    link = api.get(f"/v1/reports/{report['id']}/download_url").json()["download_url"]
    digits = "9" * 5000
    for url, headers in (
        (link, {}),
        (f"{backend_server.url}/v1/reports/{report['id']}/download", dict(api.headers)),
    ):
        start = httpx.get(url, headers={**headers, "Range": f"bytes={digits}-"})
        assert start.status_code == 416, start.text
        assert start.headers["content-range"] == f"bytes */{size}"
        end = httpx.get(url, headers={**headers, "Range": f"bytes=0-{digits}"})
        assert end.status_code == 206, end.text
        assert len(end.content) == size
        suffix = httpx.get(url, headers={**headers, "Range": f"bytes=-{digits}"})
        assert suffix.status_code == 206, suffix.text
        assert len(suffix.content) == size


def test_expires_in_beyond_any_database_integer(api: httpx.Client) -> None:
    before = count(api, "/v1/reports")
    for value in (2**63, 2**64 + 1):
        created = api.post("/v1/reports", json={**ORDERS, "expires_in": value})
        error = assert_refused(created, 422, "number_out_of_range")
        assert error["details"]["field"] == "expires_in"
    assert count(api, "/v1/reports") == before


def test_a_number_of_thousands_of_digits_in_a_body(backend_server: RunningServer) -> None:
    body = b'{"template_id": "orders", "formats": ["csv"], "options": {"a": ' + b"9" * 5000 + b"}}"
    response = httpx.post(
        f"{backend_server.url}/v1/reports",
        content=body,
        headers={
            "Authorization": f"Bearer {backend_server.admin_key}",
            "Content-Type": "application/json",
        },
    )
    assert_refused(response, 422, "number_out_of_range")


def test_search_patterns_beyond_the_limit_are_refused_in_spaceones_body(
    api: httpx.Client,
) -> None:
    pattern = "a" * 50_001
    queries = (
        {"keyword": pattern},
        {"filter": [{"k": "name", "v": pattern, "o": "contain"}]},
        {"filter": [{"k": "name", "v": [pattern], "o": "contain_in"}]},
    )
    for query in queries:
        found = api.post("/report/v1/reports/search", json={"domain_id": "acme", "query": query})
        assert found.status_code == 400, found.text  # SpaceONE says ERROR_INVALID_ARGUMENT
        assert found.json()["detail"]["code"] == "ERROR_INVALID_ARGUMENT", found.text
    ok = api.post(
        "/report/v1/reports/search", json={"domain_id": "acme", "query": {"keyword": "a" * 1000}}
    )
    assert ok.status_code == 200, ok.text


# -- failure 9 and the rest of the edge ----------------------------------------------------------


def test_ten_megabytes_of_options(api: httpx.Client) -> None:
    before = count(api, "/v1/reports")
    huge = api.post("/v1/reports", json={**ORDERS, "options": {"x": "a" * 10_000_000}})
    assert_refused(huge, 413, "payload_too_large")
    # Below the body's megabyte, above the options' 64 KB: the use case's bound.
    large = api.post("/v1/reports", json={**ORDERS, "options": {"x": "a" * 100_000}})
    error = assert_refused(large, 413, "payload_too_large")
    assert error["details"]["limit"] == "bytes"
    many = api.post("/v1/reports", json={**ORDERS, "options": {f"k{i}": i for i in range(20_000)}})
    assert many.status_code == 413, many.text
    assert count(api, "/v1/reports") == before


def test_invalid_utf8_nul_and_long_headers(backend_server: RunningServer) -> None:
    headers = {
        "Authorization": f"Bearer {backend_server.admin_key}",
        "Content-Type": "application/json",
    }
    url = f"{backend_server.url}/v1/reports"
    latin = httpx.post(
        url, content=b'{"template_id": "orders\xff", "formats": ["csv"]}', headers=headers
    )
    assert_refused(latin, 400, "invalid_encoding")
    nul = httpx.post(
        url,
        content=b'{"template_id": "orders", "formats": ["csv"], "name": "a\\u0000"}',
        headers=headers,
    )
    assert_refused(nul, 400, "invalid_encoding")
    text_of_nul = b'{"template_id": "orders", "formats": ["csv"], "name": "a\\\\u0000"}'
    assert httpx.post(url, content=text_of_nul, headers=headers).status_code == 202
    long_header = httpx.get(url, headers={**headers, "X-Padding": "a" * 9000})
    assert_refused(long_header, 413, "payload_too_large")


def test_nul_in_a_path_or_query_is_refused(api: httpx.Client) -> None:
    """Found while fuzzing the bounds: ``/v1/reports/a%00`` was a 500 on PostgreSQL (text
    cannot hold a NUL), and the list route with one in its filter dropped the connection."""
    for path in (
        "/v1/reports/a%00b",
        "/v1/reports?filter=name%20eq%20%22a%00%22",
        "/v1/reports?template_id=a%00",
        "/v1/schedules/a%00",
    ):
        assert_refused(api.get(path), 400, "invalid_encoding")
    spaceone = api.get("/report/v1/report/a%00", params={"domain_id": "acme"})
    assert spaceone.status_code == 400, spaceone.text
    assert spaceone.json()["detail"]["code"] == "ERROR_INVALID_ARGUMENT"
