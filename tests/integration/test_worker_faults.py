"""Cancel, timeout and a worker killed mid-report, against real processes on both databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_reports_api import create, wait_final
from tests.server_fixtures import RunningServer, start_server, write_sample_world

TIMEOUT_TEMPLATE = """\
id: slow_timeout
name: Too slow for its timeout
source: shop
query: |
  SELECT range AS n, md5(CAST(range AS VARCHAR)) AS digest
  FROM range(200000000) WHERE :tenant_id IS NOT NULL
fields:
  - {name: n, type: integer}
  - {name: digest, type: string}
formats: [csv]
timeout: 1
"""

# One aggregate over a huge range: no first batch for a long time, so only an interrupt stops it.
HANGING_TEMPLATE = """\
id: hanging
name: A query that never yields a row in time
source: shop
query: |
  SELECT sum(hash(range)) AS n FROM range(100000000000) WHERE :tenant_id IS NOT NULL
fields:
  - {name: n, type: number}
formats: [csv]
timeout: 1
"""


@pytest.fixture(scope="module")
def fault_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("faults")
    write_sample_world(root)
    (root / "templates" / "slow_timeout.yaml").write_text(TIMEOUT_TEMPLATE)
    (root / "templates" / "hanging.yaml").write_text(HANGING_TEMPLATE)
    tmp = root / "worker-tmp"
    tmp.mkdir()
    with start_server(root, env={"TMPDIR": str(tmp)}) as running:
        yield running


@pytest.fixture
def api(fault_server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {fault_server.admin_key}"}
    with httpx.Client(base_url=fault_server.url, headers=headers, timeout=30) as client:
        yield client


def wait_rows(api: httpx.Client, report_id: str, timeout: float = 60) -> dict[str, Any]:
    """Until the report is running and has written some rows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report: dict[str, Any] = api.get(f"/v1/reports/{report_id}").json()
        if report["state"] == "IN_PROGRESS" and report["progress"]["rows"] > 0:
            return report
        assert report["state"] in ("CREATED", "IN_PROGRESS"), report
        time.sleep(0.05)
    raise AssertionError("the report never got going")


def stored_files(data_dir: Path) -> list[Path]:
    root = data_dir / "artifacts"
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts]


def test_cancel_stops_a_running_report_within_two_seconds(
    api: httpx.Client, fault_server: RunningServer
) -> None:
    report = create(
        api, template_id="slow", formats=["csv", "ndjson"], options={"rows": 200_000_000}
    )
    running = wait_rows(api, report["id"])
    assert 0 < running["progress"]["rows"] < 200_000_000
    before = {p.name for p in stored_files(fault_server.data_dir)}
    asked = time.monotonic()
    canceled = api.post(f"/v1/reports/{report['id']}/cancel").json()
    assert canceled["state"] in ("IN_PROGRESS", "CANCELED")
    final = wait_final(api, report["id"], timeout=10)
    took = time.monotonic() - asked
    assert final["state"] == "CANCELED"
    assert final["error"]["code"] == "canceled"
    assert took < 2.0, f"cancel took {took:.2f}s"
    assert final["artifacts"] == []
    assert {p.name for p in stored_files(fault_server.data_dir)} == before
    leftovers = list((fault_server.config_path.parent / "worker-tmp").glob("reportd-*"))
    assert leftovers == []
    again = api.post(f"/v1/reports/{report['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_state"


def test_template_timeout_ends_in_timeout(api: httpx.Client) -> None:
    report = create(api, template_id="slow_timeout", formats=["csv"])
    final = wait_final(api, report["id"], timeout=20)
    assert final["state"] == "TIMEOUT"
    assert final["error"]["code"] == "timeout"
    assert final["artifacts"] == []


def test_timeout_interrupts_a_query_that_has_not_yielded_yet(api: httpx.Client) -> None:
    report = create(api, template_id="hanging", formats=["csv"])
    final = wait_final(api, report["id"], timeout=20)
    assert final["state"] == "TIMEOUT"
    assert final["progress"]["rows"] == 0


def _worker(server: RunningServer, lease: str = "1") -> subprocess.Popen[bytes]:
    env = {
        **server.env,
        "REPORTD_WORKER__LEASE_SECONDS": lease,
        "REPORTD_WORKER__POLL_INTERVAL": "0.1",
    }
    command = [
        sys.executable,
        "-m",
        "reportd.entrypoints.cli.main",
        "worker",
        "--config",
        str(server.config_path),
        "--data-dir",
        str(server.data_dir),
        "--concurrency",
        "1",
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_worker_killed_mid_report_is_replaced_and_the_report_finishes_once(
    tmp_path: Path, database_url: str
) -> None:
    db = None if database_url.startswith("sqlite") else database_url
    env = {"REPORTD_WORKER__LEASE_SECONDS": "1"}
    with start_server(tmp_path, workers=0, database_url=db, env=env) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            report = create(api, template_id="slow", formats=["csv"], options={"rows": 4_000_000})
            first = _worker(server)
            try:
                wait_rows(api, report["id"])
            finally:
                os.kill(first.pid, signal.SIGKILL)
                first.wait()
            second = _worker(server)
            try:
                final = wait_final(api, report["id"], timeout=120)
            finally:
                second.send_signal(signal.SIGTERM)
                second.wait(30)
            assert final["state"] == "FINISHED", final
            assert final["progress"]["rows"] == 4_000_000
            assert final["artifacts"][0]["rows"] == 4_000_000
            files = stored_files(server.data_dir)
            assert [p.name for p in files] == [final["artifacts"][0]["filename"]]
            # The second attempt's files only: attempt 1 never reached storage.
            assert files[0].parent.name == "2"
