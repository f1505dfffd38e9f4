"""DigiCert Report Library (seeds/000_0f5d68540cbe2839.txt), real server, SQLite and PostgreSQL.

The document's download request sent as its cURL and Python samples write it (headers, the
``/services/v2`` and ``/services/v1`` paths, the cURL path with no slash before ``download``,
the query string), every documented error body field by field, the create -> run -> history ->
download flow of DigiCert's Report Library pages in CSV, JSON and ZIP, and the same run seen
through the native API (same id, same bytes, same sha256).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.server_fixtures import OTHER_TENANT, RunningServer, start_server, write_sample_world

DIGICERT_SCOPES = ("reports:read", "reports:write", "schedules:read", "schedules:write")
NOT_FOUND = "Report with the given identifier does not exist."
DOCUMENTED = {
    "report_format_inapplicable": (
        400,
        "The given report format is not applicable for the template/report.",
    ),
    "missing_mandatory_fields": (400, "Please provide values for mandatory fields"),
    "user_authentication_error": (401, "User is not authenticated."),
    "user_forbidden": (403, "User does not have the required permission."),
    "custom_reports_not_enabled": (403, "Custom reports is not enabled"),
    "reports_not_found": (404, NOT_FOUND),
    "report_not_found": (404, NOT_FOUND),
}
# Orders whose date can be filtered on, for DigiCert's custom_date filter.
DATED_ORDERS = """\
id: dated_orders
name: Dated orders
source: shop
query: SELECT order_id, created_at FROM orders WHERE tenant = :tenant_id
fields:
  - {name: order_id, type: integer, filterable: true}
  - {name: created_at, type: datetime, filterable: true}
formats: [csv, json]
"""


@pytest.fixture(scope="module")
def backend_server(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("digicert")
    write_sample_world(root)
    (root / "templates" / "dated_orders.yaml").write_text(DATED_ORDERS)
    with start_server(root, database_url=backend_database) as srv:
        yield srv


@pytest.fixture(scope="module")
def api_key(backend_server: RunningServer) -> str:
    return backend_server.make_key(name="digicert", scopes=DIGICERT_SCOPES)


@pytest.fixture
def dc(backend_server: RunningServer, api_key: str) -> Iterator[httpx.Client]:
    """A DigiCert client: the documented headers, the base URL changed to reportd's."""
    headers = {"Content-Type": "application/json", "X-DC-DEVKEY": api_key}
    with httpx.Client(base_url=backend_server.url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def native(backend_server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {backend_server.admin_key}"}
    with httpx.Client(base_url=backend_server.url, headers=headers, timeout=30) as client:
        yield client


def report_body(name: str, **changes: Any) -> dict[str, Any]:
    """DigiCert's Create report example, over the sample world's ``orders`` template."""
    body: dict[str, Any] = {
        "display_name": name,
        "schedule": {
            "frequency": "ON_DEMAND",
            "weekday_to_run": "",
            "weekday_frequency": "",
            "run_until": "",
        },
        "format": ["CSV", "JSON"],
        "notification_emails": [],
        "report_metadata": {
            "report_type": "orders",
            "columns": [{"identifier": "order_id"}, {"identifier": "customer"}],
            "filters": [],
            "sources": {"division_filter_type": "INCLUDE_ALL_DIVISIONS"},
        },
    }
    body.update(changes)
    return body


def create(dc: httpx.Client, body: dict[str, Any]) -> str:
    response = dc.post("/reports/v1/report", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created == {
        "report_identifier": created["report_identifier"],
        "message": "Successfully created Custom Report",
    }
    uuid.UUID(created["report_identifier"])
    return str(created["report_identifier"])


def unique(stem: str) -> str:
    return f"{stem}_{uuid.uuid4().hex[:8]}"


def history(dc: httpx.Client, **params: Any) -> dict[str, Any]:
    response = dc.get("/reports/v1/report/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_ready(dc: httpx.Client, name: str, runs: int = 1) -> list[dict[str, Any]]:
    """The runs of report ``name`` once ``runs`` of them are READY (polled through the history)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        found = [
            r
            for r in history(dc, report_display_name=name)["report_history"]
            if r.get("report_run_identifier")
        ]
        if len(found) >= runs and all(r["status"] == "READY" for r in found):
            return found
        assert all(r["status"] in ("GENERATING", "READY") for r in found), found
        time.sleep(0.1)
    raise AssertionError(f"runs of {name} not READY in time")


def assert_error(response: httpx.Response, code: str) -> None:
    status, message = DOCUMENTED[code]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["message"] == message
    assert body["errors"] == [{"code": code, "message": message}]
    assert set(body) == {"code", "message", "errors"}


def download_date_names(stem: str, ext: str) -> set[str]:
    today = datetime.now(UTC).date()
    return {f"{stem}-{day.isoformat()}.{ext}" for day in (today, today - timedelta(days=1))}


@pytest.fixture
def ready_run(dc: httpx.Client) -> tuple[str, str, str]:
    """An ON_DEMAND report (CSV and JSON) and its first run, READY: (name, report id, run id)."""
    name = unique("Orders_report")
    report_id = create(dc, report_body(name))
    (run,) = wait_ready(dc, name)
    return name, report_id, str(run["report_run_identifier"])


# -- the document's request, as written -----------------------------------------------------------


def test_curl_sample_as_written(
    backend_server: RunningServer, api_key: str, ready_run: tuple[str, str, str]
) -> None:
    name, report_id, run_id = ready_run
    # curl -X GET 'https://www.digicert.com/services/v2/report/{{report-identifier}}/
    #   {{report-run-identifier}}download?report_format={{report_format}}' -H ... -H ...
    url = f"{backend_server.url}/services/v2/report/{report_id}/{run_id}download?report_format=CSV"
    headers = {"Content-Type": "application/json", "X-DC-DEVKEY": api_key}
    response = httpx.request("GET", url, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert any(f'filename="{n}"' in disposition for n in download_date_names(name, "csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "order_id" and len(rows[0]) == 2
    assert len(rows) == 1 + 8  # the acme tenant's eight orders, nothing of globex


@pytest.mark.parametrize("report_format", ["CSV", "JSON", "ZIP"])
def test_python_sample_as_written(
    backend_server: RunningServer,
    api_key: str,
    ready_run: tuple[str, str, str],
    report_format: str,
) -> None:
    _, report_id, run_id = ready_run
    url = (
        f"{backend_server.url}/services/v1/report/{report_id}/{run_id}/download"
        f"?report_format={report_format}"
    )
    payload: dict[str, Any] = {}
    headers = {"Content-Type": "application/json", "X-DC-DEVKEY": api_key}
    response = httpx.request("GET", url, headers=headers, data=payload, timeout=30)
    assert response.status_code == 200, response.text
    assert response.content


# -- create -> run -> history -> download, and the same report natively ---------------------------


def test_create_run_history_download_and_native_cross_check(
    dc: httpx.Client, native: httpx.Client
) -> None:
    name = unique("Cross_check")
    report_id = create(dc, report_body(name))
    first = wait_ready(dc, name)[0]["report_run_identifier"]
    run = dc.post(f"/reports/v1/report/{report_id}/run")
    assert run.status_code == 201, run.text
    assert run.json() == {
        "report_identifier": report_id,
        "report_run_identifier": run.json()["report_run_identifier"],
    }
    second = run.json()["report_run_identifier"]
    runs = wait_ready(dc, name, runs=2)
    assert {r["report_run_identifier"] for r in runs} == {first, second}
    record = next(r for r in runs if r["report_run_identifier"] == second)
    assert_history_record(record, name, report_id)
    files = {
        fmt: dc.get(
            f"/reports/v1/report/{report_id}/{second}/download", params={"report_format": fmt}
        )
        for fmt in ("CSV", "JSON", "ZIP")
    }
    for fmt, response in files.items():
        assert response.status_code == 200, response.text
        disposition = response.headers["content-disposition"]
        assert any(f'filename="{n}"' in disposition for n in download_date_names(name, fmt.lower()))
    same_report_natively(native, second, report_id, files)


def assert_history_record(record: dict[str, Any], name: str, report_id: str) -> None:
    assert list(record) == [
        "report_display_name", "report_identifier", "report_run_identifier",
        "created_by_user_id", "created_by_user_name", "created_date", "report_type",
        "report_type_display_name",
        "report_start_date", "report_end_date", "schedule", "format", "status",
        "manually_triggered", "split_report_count",
    ]  # fmt: skip
    assert record["report_display_name"] == name
    assert record["report_identifier"] == report_id
    assert record["created_by_user_name"] == "digicert"
    assert record["created_by_user_id"]  # the id of the key that made it
    datetime.strptime(record["created_date"], "%Y-%m-%d %H:%M:%S")
    datetime.strptime(record["report_end_date"], "%Y-%m-%d %H:%M:%S")
    assert record["report_type"] == "orders"
    assert record["report_type_display_name"] == "Orders report"
    assert record["schedule"] == "ON_DEMAND"
    assert record["format"] == ["CSV", "JSON"]
    assert record["status"] == "READY"
    assert record["manually_triggered"] is True
    assert record["split_report_count"] == 0


def same_report_natively(
    native: httpx.Client, run_id: str, report_id: str, files: dict[str, httpx.Response]
) -> None:
    report = native.get(f"/v1/reports/{run_id}").json()
    assert report["id"] == run_id
    assert report["schedule_id"] == report_id
    assert report["state"] == "FINISHED"
    assert report["fields"] == ["order_id", "customer"]
    digests = {a["format"]: a["sha256"] for a in report["artifacts"]}
    assert set(digests) == {"csv", "json", "zip"}
    for fmt, response in files.items():
        mine = native.get(f"/v1/reports/{run_id}/download", params={"format": fmt.lower()})
        assert mine.status_code == 200
        assert response.content == mine.content
        assert hashlib.sha256(response.content).hexdigest() == digests[fmt.lower()]
    with zipfile.ZipFile(io.BytesIO(files["ZIP"].content)) as bundle:
        inside = {n.rsplit(".", 1)[-1]: bundle.read(n) for n in bundle.namelist()}
    assert inside == {"csv": files["CSV"].content, "json": files["JSON"].content}


# -- schedules -------------------------------------------------------------------------------------


def test_on_demand_runs_once_at_creation(dc: httpx.Client, native: httpx.Client) -> None:
    name = unique("Once")
    report_id = create(dc, report_body(name))
    (run,) = wait_ready(dc, name)
    time.sleep(0.5)  # nothing more comes
    entries = history(dc, report_display_name=name)["report_history"]
    assert [e["report_run_identifier"] for e in entries] == [run["report_run_identifier"]]
    schedule = native.get(f"/v1/schedules/{report_id}").json()
    assert schedule["cron"] is None and schedule["next_fire_at"] is None
    assert native.get(f"/v1/schedules/{report_id}/runs").json()["total_count"] == 1


def next_monday_midnight(now: datetime) -> datetime:
    days = (7 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)


def test_weekly_makes_a_schedule_with_the_right_next_fire(
    dc: httpx.Client, native: httpx.Client
) -> None:
    name = unique("Weekly")
    schedule = {"frequency": "WEEKLY", "weekday_to_run": "MONDAY", "run_until": ""}
    before = datetime.now(UTC)
    report_id = create(dc, report_body(name, schedule=schedule))
    saved = native.get(f"/v1/schedules/{report_id}").json()
    assert saved["cron"] == "0 0 * * 1" and saved["timezone"] == "UTC"
    fire = datetime.fromisoformat(saved["next_fire_at"].replace("Z", "+00:00"))
    assert fire in {next_monday_midnight(before), next_monday_midnight(datetime.now(UTC))}
    assert native.get(f"/v1/schedules/{report_id}/runs").json()["total_count"] == 0
    (waiting,) = history(dc, report_display_name=name)["report_history"]
    assert waiting["status"] == "SCHEDULED" and waiting["schedule"] == "WEEKLY"
    assert "report_run_identifier" not in waiting
    assert history(dc, report_display_name=name, schedule="MONTHLY")["page"]["total"] == 0


def test_monthly_as_digicerts_example(dc: httpx.Client, native: httpx.Client) -> None:
    schedule = {
        "frequency": "MONTHLY", "weekday_to_run": "", "weekday_frequency": "",
        "run_until": "", "repeat_every": 3, "repeat_on": "DATE_OF_THE_MONTH",
        "repeat_on_date": {"date": 5, "last_day_of_the_month": False},
    }  # fmt: skip
    report_id = create(dc, report_body(unique("Monthly"), schedule=schedule))
    cron = native.get(f"/v1/schedules/{report_id}").json()["cron"]
    month = datetime.now(UTC).month
    months = sorted({(month - 1 + k * 3) % 12 + 1 for k in range(4)})
    assert cron == f"0 0 5 {','.join(map(str, months))} *"
    second_tuesday = {
        "frequency": "MONTHLY",
        "weekday_to_run": "TUESDAY",
        "weekday_frequency": "SECOND",
    }
    report_id = create(dc, report_body(unique("Monthly"), schedule=second_tuesday))
    assert native.get(f"/v1/schedules/{report_id}").json()["cron"] == "0 0 * * 2#2"


def test_edit_overwrites_and_on_demand_runs(dc: httpx.Client, native: httpx.Client) -> None:
    name = unique("Edited")
    weekly = {"frequency": "WEEKLY", "weekday_to_run": "FRIDAY"}
    report_id = create(dc, report_body(name, schedule=weekly))
    edited = dc.put(f"/reports/v1/report/{report_id}", json=report_body(name, format=["JSON"]))
    assert edited.status_code == 204, edited.text
    saved = native.get(f"/v1/schedules/{report_id}").json()
    assert saved["cron"] is None and saved["formats"] == ["json", "zip"]
    (run,) = wait_ready(dc, name)
    assert run["format"] == ["JSON"]


def test_filters_become_the_filter_language(dc: httpx.Client) -> None:
    filters = [
        {"filter_identifier": "in", "column_identifier": "order_id", "values": ["1", "2", "3"]},
        {"filter_identifier": "not_in", "column_identifier": "order_id", "values": ["1"]},
        {
            "filter_identifier": "custom_date",
            "column_identifier": "created_at",
            "values": ["2024-01-01", "2024-01-04"],
        },
    ]
    metadata = {"report_type": "dated_orders", "filters": filters}
    name = unique("Filtered")
    report_id = create(dc, report_body(name, report_metadata=metadata))
    (run,) = wait_ready(dc, name)
    url = f"/reports/v1/report/{report_id}/{run['report_run_identifier']}/download"
    text = dc.get(url, params={"report_format": "CSV"}).content.decode("utf-8-sig")
    assert [r[0] for r in csv.reader(io.StringIO(text))][1:] == ["2"]  # Jan 4 included


# -- history --------------------------------------------------------------------------------------


def test_history_pages_and_filters(dc: httpx.Client, ready_run: tuple[str, str, str]) -> None:
    name, _, run_id = ready_run
    ready = history(dc, report_display_name=name, status="READY,FAILED", report_type="orders")
    assert ready["page"] == {"total": 1, "limit": 100, "offset": 0}
    assert ready["report_history"][0]["report_run_identifier"] == run_id
    assert history(dc, search=name[-8:], schedule="ON_DEMAND")["page"]["total"] == 1
    assert history(dc, report_display_name=name, status="GENERATING")["page"]["total"] == 0
    page = history(dc, limit=1, offset=1)
    assert page["page"]["limit"] == 1 and len(page["report_history"]) == 1
    assert page["page"]["total"] >= 2


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "invalid_limit"),
        ({"offset": -1}, "invalid_offset"),
        ({"status": "DONE"}, "invalid_request: status"),
    ],
)
def test_history_bad_query(dc: httpx.Client, params: dict[str, Any], code: str) -> None:
    response = dc.get("/reports/v1/report/history", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == code


# -- the document's errors ------------------------------------------------------------------------


def download(client: httpx.Client, report_id: str, run_id: str, **params: Any) -> httpx.Response:
    return client.get(f"/reports/v1/report/{report_id}/{run_id}/download", params=params)


def test_format_not_applicable(dc: httpx.Client, ready_run: tuple[str, str, str]) -> None:
    _, report_id, run_id = ready_run
    assert_error(download(dc, report_id, run_id, report_format="XML"), "report_format_inapplicable")
    # EXCEL is a DigiCert format, but this run was made as CSV and JSON only.
    assert_error(
        download(dc, report_id, run_id, report_format="EXCEL"), "report_format_inapplicable"
    )


def test_missing_format(dc: httpx.Client, ready_run: tuple[str, str, str]) -> None:
    _, report_id, run_id = ready_run
    assert_error(download(dc, report_id, run_id), "missing_mandatory_fields")
    assert_error(download(dc, report_id, run_id, report_format=""), "missing_mandatory_fields")


def test_bad_or_missing_key(dc: httpx.Client, ready_run: tuple[str, str, str]) -> None:
    _, report_id, run_id = ready_run
    bad = {"X-DC-DEVKEY": "rk_not-a-key"}
    response = dc.get(
        f"/reports/v1/report/{report_id}/{run_id}/download?report_format=CSV", headers=bad
    )
    assert_error(response, "user_authentication_error")
    with httpx.Client(base_url=str(dc.base_url), timeout=30) as anonymous:
        assert_error(
            download(anonymous, report_id, run_id, report_format="CSV"), "user_authentication_error"
        )


def test_key_without_scope(
    backend_server: RunningServer, dc: httpx.Client, ready_run: tuple[str, str, str]
) -> None:
    _, report_id, run_id = ready_run
    key = backend_server.make_key(name="templates-only", scopes=("templates:read",))
    response = dc.get(
        f"/reports/v1/report/{report_id}/{run_id}/download",
        params={"report_format": "CSV"},
        headers={"X-DC-DEVKEY": key},
    )
    assert_error(response, "user_forbidden")
    assert_error(
        dc.post("/reports/v1/report", json=report_body("x"), headers={"X-DC-DEVKEY": key}),
        "user_forbidden",
    )


def test_tenant_without_custom_reports(
    backend_server: RunningServer, dc: httpx.Client, ready_run: tuple[str, str, str]
) -> None:
    _, report_id, run_id = ready_run
    key = backend_server.make_key(f"nolib-{uuid.uuid4().hex[:6]}", name="nolib", features=())
    headers = {"X-DC-DEVKEY": key}
    response = dc.get(
        f"/reports/v1/report/{report_id}/{run_id}/download",
        params={"report_format": "CSV"},
        headers=headers,
    )
    assert_error(response, "custom_reports_not_enabled")
    assert_error(
        dc.post("/reports/v1/report", json=report_body("x"), headers=headers),
        "custom_reports_not_enabled",
    )
    assert_error(
        dc.get("/reports/v1/report/history", headers=headers), "custom_reports_not_enabled"
    )


def test_unknown_report_and_unknown_run(dc: httpx.Client, ready_run: tuple[str, str, str]) -> None:
    _, report_id, run_id = ready_run
    nobody = str(uuid.uuid4())
    assert_error(download(dc, nobody, run_id, report_format="CSV"), "report_not_found")
    assert_error(download(dc, report_id, nobody, report_format="CSV"), "reports_not_found")
    other = create(dc, report_body(unique("Other")))
    # A real run, but of another report.
    assert_error(download(dc, other, run_id, report_format="CSV"), "reports_not_found")
    assert_error(dc.post(f"/reports/v1/report/{nobody}/run"), "report_not_found")


def test_another_tenants_run_is_not_found(
    backend_server: RunningServer, dc: httpx.Client, ready_run: tuple[str, str, str]
) -> None:
    _, report_id, run_id = ready_run
    key = backend_server.make_key(OTHER_TENANT, name="globex", scopes=DIGICERT_SCOPES)
    headers = {"X-DC-DEVKEY": key}
    url = f"/reports/v1/report/{report_id}/{run_id}/download"
    response = dc.get(url, params={"report_format": "CSV"}, headers=headers)
    assert_error(response, "report_not_found")
    theirs = dc.post("/reports/v1/report", json=report_body(unique("Globex")), headers=headers)
    assert theirs.status_code == 201
    # Their report id with our run id: the run is not theirs.
    response = dc.get(
        f"/reports/v1/report/{theirs.json()['report_identifier']}/{run_id}/download",
        params={"report_format": "CSV"},
        headers=headers,
    )
    assert_error(response, "reports_not_found")
    listed = dc.get("/reports/v1/report/history", params={"limit": 1000}, headers=headers).json()
    assert all(r["report_identifier"] != report_id for r in listed["report_history"])


# -- create errors (DigiCert's Errors page codes) -------------------------------------------------


def test_create_errors(dc: httpx.Client) -> None:
    body = report_body("x")
    del body["display_name"]
    assert_error(dc.post("/reports/v1/report", json=body), "missing_mandatory_fields")
    bad_column = report_body(
        "x", report_metadata={"report_type": "orders", "columns": [{"identifier": "serial_number"}]}
    )
    assert (
        dc.post("/reports/v1/report", json=bad_column).json()["code"]
        == "invalid_column_identifiers"
    )
    bad_schedule = report_body("x", schedule={"frequency": "WEEKLY", "weekday_to_run": "SOMEDAY"})
    assert dc.post("/reports/v1/report", json=bad_schedule).json()["code"] == "invalid_schedule"
    past = report_body(
        "x", schedule={"frequency": "WEEKLY", "weekday_to_run": "MONDAY", "run_until": "2001-01-01"}
    )
    assert dc.post("/reports/v1/report", json=past).json()["code"] == "invalid_date"
    assert_error(
        dc.post("/reports/v1/report", json=report_body("x", format=["PDF"])),
        "report_format_inapplicable",
    )
    assert_error(
        dc.post("/reports/v1/report", json=report_body("x", format=["EXCEL"])),
        "report_format_inapplicable",
    )
    bad_filter = report_body(
        "x",
        report_metadata={
            "report_type": "orders",
            "filters": [
                {"filter_identifier": "regex", "column_identifier": "customer", "values": ["A.*"]}
            ],
        },
    )
    assert dc.post("/reports/v1/report", json=bad_filter).json()["code"] == "invalid_filter"
    unknown_type = report_body("x", report_metadata={"report_type": "domains"})
    assert (
        dc.post("/reports/v1/report", json=unknown_type).json()["code"]
        == "invalid_request: report_type"
    )


# -- report details, delete, report types and columns (DigiCert's Report Library pages) ---------


def test_report_details_round_trips_into_edit(dc: httpx.Client) -> None:
    name = unique("Details")
    body = report_body(
        name,
        schedule={"frequency": "WEEKLY", "weekday_to_run": "MONDAY"},
        report_metadata={
            "report_type": "orders",
            "columns": [{"identifier": "order_id"}, {"identifier": "customer"}],
            "filters": [
                {"filter_identifier": "in", "column_identifier": "customer", "values": ["Ada"]}
            ],
        },
    )
    report_id = create(dc, body)
    got = dc.get(f"/reports/v1/report/{report_id}")
    assert got.status_code == 200, got.text
    report = got.json()["report"]
    assert report["report_display_name"] == name
    assert report["report_identifier"] == report_id
    assert report["created_by_user_name"] == "digicert" and report["created_by_user_id"]
    datetime.strptime(report["created_date"], "%Y-%m-%d %H:%M:%S")
    metadata = report["report_metadata"]
    assert metadata["report_type"] == "orders"
    assert metadata["columns"] == [{"identifier": "order_id"}, {"identifier": "customer"}]
    assert metadata["filters"] == [
        {"filter_identifier": "in", "column_identifier": "customer", "values": ["Ada"]}
    ]
    assert report["schedule"]["frequency"] == "WEEKLY"
    assert report["schedule"]["weekday_to_run"] == "MONDAY"
    assert report["format"] == ["CSV", "JSON"]
    # What details returned is a valid Edit report body (DigiCert's advice for edits).
    edit = {
        "display_name": report["report_display_name"],
        "schedule": report["schedule"],
        "format": report["format"],
        "report_metadata": {k: metadata[k] for k in ("report_type", "columns", "filters")},
    }
    assert dc.put(f"/reports/v1/report/{report_id}", json=edit).status_code == 204
    assert (
        dc.get(f"/reports/v1/report/{report_id}").json()["report"]["schedule"]
        == (report["schedule"])
    )
    assert_error(dc.get(f"/reports/v1/report/{uuid.uuid4()}"), "report_not_found")


def test_delete_scheduled_report(dc: httpx.Client, ready_run: tuple[str, str, str]) -> None:
    name, report_id, _ = ready_run
    assert dc.delete(f"/reports/v1/report/{report_id}").status_code == 204
    assert_error(dc.get(f"/reports/v1/report/{report_id}"), "report_not_found")
    assert_error(dc.delete(f"/reports/v1/report/{report_id}"), "report_not_found")
    assert history(dc, report_display_name=name)["page"]["total"] == 1  # the run stays listed


def test_report_types_and_columns(dc: httpx.Client) -> None:
    types = dc.get("/reports/v1/report/types")
    assert types.status_code == 200, types.text
    by_id = {t["identifier"]: t for t in types.json()["report_types"]}
    assert by_id["orders"]["display_name"] == "Orders report"
    assert by_id["orders"]["supported_formats"] == ["CSV", "JSON"]
    columns = dc.get("/reports/v1/report/types/dated_orders/columns").json()
    assert columns["report_type"] == "dated_orders"
    assert [c["identifier"] for c in columns["columns"]] == ["order_id", "created_at"]
    assert "custom_date" in columns["columns"][1]["filters"]
    unknown = dc.get("/reports/v1/report/types/nope/columns")
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid_request: report_type"


def test_devkey_is_honoured_whatever_authorization_says(
    backend_server: RunningServer, api_key: str
) -> None:
    headers = {"X-DC-DEVKEY": api_key, "Authorization": "Bearer not-a-key"}
    response = httpx.get(f"{backend_server.url}/reports/v1/report/history", headers=headers)
    assert response.status_code == 200, response.text


DOCUMENT_PYTHON_SAMPLE = """\
import requests

url = "https://www.digicert.com/services/v1/report/{{report-identifier}}/{{report-run-identifier}}/download?report_format={{report_format}}"

payload={}
headers = {
  'Content-Type': 'application/json',
  'X-DC-DEVKEY': '{{api_key}}',
}

response = requests.request("GET", url, headers=headers, data=payload)

print(response.text)
"""


@pytest.mark.parametrize("report_format", ["CSV", "JSON"])
def test_the_documents_requests_sample_as_printed(
    backend_server: RunningServer,
    api_key: str,
    ready_run: tuple[str, str, str],
    report_format: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The seed's Python sample, run by ``requests`` itself: only the host, ids and key change."""
    _, report_id, run_id = ready_run
    code = (
        DOCUMENT_PYTHON_SAMPLE.replace("https://www.digicert.com", backend_server.url)
        .replace("{{report-identifier}}", report_id)
        .replace("{{report-run-identifier}}", run_id)
        .replace("{{report_format}}", report_format)
        .replace("{{api_key}}", api_key)
    )
    exec(code, {})
    printed = capsys.readouterr().out
    if report_format == "CSV":
        assert printed.startswith("order_id,customer")
    else:
        assert set(json.loads(printed)[0]) == {"order_id", "customer"}


def test_a_custom_report_over_the_tenants_own_template(
    dc: httpx.Client, native: httpx.Client, backend_server: RunningServer
) -> None:
    """DigiCert's custom reports, over a template the tenant defined itself (issue 16)."""
    import subprocess
    import sys

    grant = [sys.executable, "-m", "reportd.entrypoints.cli.main", "tenants", "grant-source"]
    grant += [backend_server.tenant, "shop", "--table", "orders", "--tenant-column", "tenant"]
    grant += ["--config", str(backend_server.config_path)]
    grant += ["--data-dir", str(backend_server.data_dir)]
    done = subprocess.run(grant, env=backend_server.env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    made = native.post(
        "/v1/templates",
        json={
            "id": "my_big_orders",
            "name": "My big orders",
            "source": "shop",
            "query": "SELECT order_id, amount FROM orders WHERE amount >= 100",
            "fields": [
                {"name": "order_id", "type": "integer", "filterable": True},
                {"name": "amount", "type": "number"},
            ],
            "formats": ["csv", "json"],
        },
    )
    assert made.status_code in (201, 409), made.text  # once per backend's module
    types = dc.get("/reports/v1/report/types").json()["report_types"]
    assert "my_big_orders" in [t["identifier"] for t in types]
    columns = dc.get("/reports/v1/report/types/my_big_orders/columns").json()["columns"]
    assert [c["identifier"] for c in columns] == ["order_id", "amount"]
    name = unique("Own_template")
    metadata = {
        "report_type": "my_big_orders",
        "columns": [{"identifier": "order_id"}, {"identifier": "amount"}],
        "filters": [],
    }
    report_id = create(dc, report_body(name, report_metadata=metadata))
    (run,) = wait_ready(dc, name)
    assert run["report_type"] == "my_big_orders"
    got = download(dc, report_id, str(run["report_run_identifier"]), report_format="CSV")
    assert got.status_code == 200, got.text
    ids = sorted(int(line.split(",")[0]) for line in got.text.splitlines()[1:])
    assert ids == [1, 3, 7]  # acme's orders of 100 or more, never globex's
