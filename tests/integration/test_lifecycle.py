"""Schedules, retention, dedup and empty results, end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import itertools
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pyarrow.parquet as pq
import pytest

from tests.integration.conftest import server_on
from tests.integration.test_reports_api import create, wait_final
from tests.server_fixtures import RunningServer, start_server, write_sample_world

DEDUP_TEMPLATE = """\
id: orders_dedup
name: Orders (deduplicated)
source: shop
query: SELECT order_id, amount FROM orders WHERE tenant = :tenant_id
fields:
  - {name: order_id, type: integer, filterable: true}
  - {name: amount, type: number}
formats: [csv, json]
dedup_window: 7200
retention: 2
"""

EMPTY_TEMPLATE = """\
id: nothing
name: No rows at all
source: shop
query: |
  SELECT order_id, customer, amount, created_at, paid
  FROM orders WHERE tenant = :tenant_id AND false
fields:
  - {name: order_id, type: integer}
  - {name: customer, type: string}
  - {name: amount, type: number}
  - {name: created_at, type: datetime}
  - {name: paid, type: boolean}
formats: [csv, json, ndjson, xlsx, parquet, pdf]
display_name: Nothing
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def life_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """The same lifecycle tests on the embedded SQLite and on PostgreSQL."""
    root = tmp_path_factory.mktemp(f"life-{request.param}")
    write_sample_world(root)
    (root / "templates" / "dedup.yaml").write_text(DEDUP_TEMPLATE)
    (root / "templates" / "nothing.yaml").write_text(EMPTY_TEMPLATE)
    with server_on(request, root) as running:
        yield running


@pytest.fixture
def api(life_server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {life_server.admin_key}"}
    with httpx.Client(base_url=life_server.url, headers=headers, timeout=30) as client:
        yield client


def test_schedule_crud_run_now_and_history(api: httpx.Client) -> None:
    created = api.post(
        "/v1/schedules",
        json={
            "template_id": "orders",
            "name": "Weekly orders",
            "formats": ["csv"],
            "filter": "paid eq true",
            "cron": "0 6 * * 1",
            "timezone": "Europe/Paris",
        },
    )
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert schedule["enabled"] is True
    assert schedule["options"] == {"since": "2000-01-01"}
    fire = datetime.fromisoformat(schedule["next_fire_at"])
    assert fire.weekday() == 0
    assert fire.hour in (4, 5)  # 06:00 in Paris is 04:00 or 05:00 UTC

    runs = [api.post(f"/v1/schedules/{schedule['id']}/run") for _ in range(2)]
    assert [r.status_code for r in runs] == [202, 202]
    for run in runs:
        report = wait_final(api, run.json()["id"])
        assert report["state"] == "FINISHED"
        assert report["schedule_id"] == schedule["id"]
        assert report["filter"] == "paid eq true"
    history = api.get(f"/v1/schedules/{schedule['id']}/runs").json()
    assert history["total_count"] == 2
    assert [r["id"] for r in history["results"]] == [r.json()["id"] for r in reversed(runs)]
    by_filter = api.get("/v1/reports", params={"schedule_id": schedule["id"]}).json()
    assert by_filter["total_count"] == 2

    disabled = api.patch(f"/v1/schedules/{schedule['id']}", json={"enabled": False}).json()
    assert disabled["enabled"] is False and disabled["next_fire_at"] is None
    listed = api.get("/v1/schedules").json()
    assert schedule["id"] in [s["id"] for s in listed["results"]]
    assert api.delete(f"/v1/schedules/{schedule['id']}").status_code == 204
    assert api.get(f"/v1/schedules/{schedule['id']}").json()["error"]["code"] == (
        "schedule_not_found"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"cron": "every tuesday"}, "validation_error"),
        ({"cron": "0 6 * * *", "timezone": "Mars/Olympus"}, "validation_error"),
        ({"template_id": "nope"}, "template_not_found"),
        ({"formats": ["pdf"]}, "format_inapplicable"),
        ({"filter": "bogus eq 1"}, "invalid_filter"),
    ],
)
def test_bad_schedules_are_refused_at_creation(
    api: httpx.Client, body: dict[str, Any], code: str
) -> None:
    full = {"template_id": "orders", "name": "x", "formats": ["csv"], **body}
    response = api.post("/v1/schedules", json=full)
    assert response.json()["error"]["code"] == code


def test_dedup_returns_the_live_twin(api: httpx.Client) -> None:
    body = {"template_id": "orders_dedup", "formats": ["csv"], "filter": "order_id gt 2"}
    first = api.post("/v1/reports", json=body)
    assert first.status_code == 202 and first.json()["deduplicated"] is False
    second = api.post("/v1/reports", json=body)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["deduplicated"] is True
    other = api.post("/v1/reports", json={**body, "filter": "order_id gt 3"})
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]
    # orders has no dedup_window: every create runs
    plain = [create(api, template_id="orders", formats=["csv"])["id"] for _ in range(2)]
    assert plain[0] != plain[1]


def test_retention_expires_files_then_410(api: httpx.Client, life_server: RunningServer) -> None:
    report = wait_final(
        api, create(api, template_id="orders_dedup", formats=["json"], filter="order_id lt 3")["id"]
    )
    assert report["state"] == "FINISHED"
    link = api.get(f"/v1/reports/{report['id']}/download_url", params={"format": "json"}).json()
    key_dir = life_server.data_dir / "artifacts" / report["tenant_id"] / report["id"]
    assert any(p.is_file() for p in key_dir.rglob("*"))
    deadline = time.monotonic() + 30
    while api.get(f"/v1/reports/{report['id']}").json()["state"] != "EXPIRED":
        assert time.monotonic() < deadline, "the sweeper never expired the report"
        time.sleep(0.2)
    assert not any(p.is_file() for p in key_dir.rglob("*")) if key_dir.exists() else True
    gone = api.get(f"/v1/reports/{report['id']}/download", params={"format": "json"})
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "report_expired"
    with httpx.Client(timeout=30) as anonymous:
        expired_link = anonymous.get(link["download_url"])
    assert expired_link.status_code == 410


def test_expires_in_shortens_retention(api: httpx.Client) -> None:
    report = wait_final(
        api, create(api, template_id="orders", formats=["csv"], expires_in=60)["id"]
    )
    finished = datetime.fromisoformat(report["finished_at"])
    expires = datetime.fromisoformat(report["expires_at"])
    assert 59 <= (expires - finished).total_seconds() <= 61


def test_empty_result_is_a_finished_report_in_every_format(api: httpx.Client) -> None:
    formats = api.get("/v1/templates/nothing").json()["formats"]
    report = wait_final(api, create(api, template_id="nothing", formats=formats)["id"])
    assert report["state"] == "FINISHED"
    assert report["progress"]["rows"] == 0
    assert {a["format"] for a in report["artifacts"]} == set(formats)
    for fmt in formats:
        body = api.get(f"/v1/reports/{report['id']}/download", params={"format": fmt})
        assert body.status_code == 200
        if fmt == "csv":
            assert list(csv.reader(io.StringIO(body.text))) == [
                ["order_id", "customer", "amount", "created_at", "paid"]
            ]
        elif fmt == "json":
            assert json.loads(body.content) == []
        elif fmt == "ndjson":
            assert body.content == b""
        elif fmt == "parquet":
            table = pq.read_table(io.BytesIO(body.content))
            assert table.num_rows == 0
            assert table.column_names == ["order_id", "customer", "amount", "created_at", "paid"]
        elif fmt == "xlsx":
            sheet = openpyxl.load_workbook(io.BytesIO(body.content), read_only=True).active
            assert sheet is not None
            assert [c.value for c in next(sheet.iter_rows(max_row=1))] == [
                "order_id",
                "customer",
                "amount",
                "created_at",
                "paid",
            ]
            assert sheet.max_row == 1
        else:
            assert body.content.startswith(b"%PDF")


def _worker(server: RunningServer) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "reportd.entrypoints.cli.main",
        "worker",
        "--config",
        str(server.config_path),
        "--data-dir",
        str(server.data_dir),
    ]
    return subprocess.Popen(
        command, env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(30)


def test_a_schedule_fires_once_per_firing_across_two_workers(tmp_path: Path, pg_url: str) -> None:
    with start_server(tmp_path, workers=0, database_url=pg_url) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            schedule = api.post(
                "/v1/schedules",
                json={
                    "template_id": "orders",
                    "name": "every 2 s",
                    "formats": ["csv"],
                    "cron": "* * * * * */2",
                },
            ).json()
            workers = [_worker(server), _worker(server)]
            runs_url = f"/v1/schedules/{schedule['id']}/runs"
            try:
                deadline = time.monotonic() + 60
                while api.get(runs_url).json()["total_count"] < 4:
                    assert time.monotonic() < deadline, "the schedule did not keep firing"
                    time.sleep(0.2)
                api.patch(f"/v1/schedules/{schedule['id']}", json={"enabled": False})
            finally:
                for process in workers:
                    _stop(process)
            runs = api.get(f"/v1/schedules/{schedule['id']}/runs", params={"limit": 100}).json()[
                "results"
            ]
    fired = sorted(datetime.fromisoformat(r["scheduled_for"]) for r in runs)
    assert len(fired) >= 4
    assert len(set(fired)) == len(fired)  # never two reports for one firing
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(fired)]
    # Every report is for a real firing time; on a loaded machine a late loop may skip one
    # (then it makes the single catch-up run), never a duplicate.
    assert all(gap > 0 and gap % 2 == 0 for gap in gaps), gaps


def test_missed_firings_catch_up_with_one_run(tmp_path: Path, database_url: str) -> None:
    db = None if database_url.startswith("sqlite") else database_url
    with start_server(tmp_path, workers=0, database_url=db) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            schedule = api.post(
                "/v1/schedules",
                json={
                    "template_id": "orders",
                    "name": "every 2 s",
                    "formats": ["csv"],
                    "cron": "* * * * * */2",
                },
            ).json()
            time.sleep(7)  # three or more firings missed: nothing runs the scheduler
            assert api.get(f"/v1/schedules/{schedule['id']}/runs").json()["total_count"] == 0
            worker = _worker(server)
            try:
                deadline = time.monotonic() + 20
                while not api.get(f"/v1/schedules/{schedule['id']}/runs").json()["total_count"]:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
                api.patch(f"/v1/schedules/{schedule['id']}", json={"enabled": False})
            finally:
                _stop(worker)
            runs = api.get(f"/v1/schedules/{schedule['id']}/runs").json()["results"]
    # One catch-up run for the whole gap (maybe one regular firing right after it).
    assert 1 <= len(runs) <= 2
    created = datetime.fromisoformat(schedule["created_at"])
    first = min(datetime.fromisoformat(r["scheduled_for"]) for r in runs)
    assert (first - created).total_seconds() >= 5
