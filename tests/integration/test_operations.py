"""Running reportd at scale: wake-ups, metrics, readiness, S3 in the real flow, timeouts.

Real server processes on 127.0.0.1; PostgreSQL is the machine's (a fresh database per
test), S3 is the session's SeaweedFS.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_reports_api import create, wait_final
from tests.integration.test_scale_faults import (
    client,
    log_lines,
    sql,
    start_worker,
    stop_process,
    wait_for,
)
from tests.integration.test_worker_faults import wait_rows
from tests.server_fixtures import DEFAULT_CONFIG, start_server
from tests.storage_fixtures import SeaweedFS, free_ports, seaweedfs  # noqa: F401  (fixture)


def storage_config(settings: dict[str, Any]) -> str:
    lines = [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    return DEFAULT_CONFIG + "\n[storage.default]\n" + "\n".join(lines) + "\n"


def test_workers_wake_on_notify_long_before_their_fallback_poll(
    tmp_path: Path, pg_url: str
) -> None:
    env = {"REPORTD_WORKER__POLL_INTERVAL": "0.1"}  # becomes 5 s while LISTEN is up
    with start_server(tmp_path, workers=0, database_url=pg_url) as server, client(server) as api:
        log = tmp_path / "worker.log"
        worker = start_worker(server, log, concurrency=1, env=env)
        try:
            listening = lambda: any(e.get("action") == "listen" for e in log_lines([log]))  # noqa: E731
            wait_for(listening, 60, "the worker to LISTEN")
            time.sleep(0.5)  # the slot is now idle, waiting on its 5 s fallback
            latencies = []
            for _ in range(5):
                started = time.monotonic()
                report = create(api, template_id="orders", formats=["csv"])
                assert wait_final(api, report["id"], timeout=30)["state"] == "FINISHED"
                latencies.append(time.monotonic() - started)
                time.sleep(0.3)
        finally:
            stop_process(worker)
    assert statistics.median(latencies) < 1.5, latencies


def test_metrics_count_runs_rows_and_states_and_readyz_is_ok(tmp_path: Path) -> None:
    with start_server(tmp_path, workers=1) as server, client(server) as api:
        report = create(api, template_id="orders", formats=["csv", "json"])
        assert wait_final(api, report["id"])["state"] == "FINISHED"
        text = api.get("/metrics").text
        ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"
    for line in (
        "reportd_database_up 1.0",
        "reportd_queue_depth 0.0",
        'reportd_reports{state="FINISHED"} 1.0',
        'reportd_reports{state="CREATED"} 0.0',
        'reportd_generation_seconds_count{format="csv"} 1.0',
        'reportd_generation_seconds_count{format="json"} 1.0',
        'reportd_rows_total{format="csv"} 8.0',
        'reportd_runs_total{state="FINISHED"} 1.0',
        "reportd_lease_expiries_total 0.0",
        'reportd_webhook_failures_total{final="true"} 0.0',
        "process_cpu_seconds_total",
    ):
        assert line in text, line


def test_readyz_names_the_storage_that_is_down(tmp_path: Path) -> None:
    dead_s3 = {
        "type": "s3",
        "bucket": "reports",
        "endpoint_url": f"http://127.0.0.1:{free_ports(1)[0]}",
        "access_key_id": "k",
        "secret_access_key": "s",
        "connect_timeout": 1,
        "max_attempts": 1,
    }
    pytest.importorskip("boto3")
    with start_server(tmp_path, workers=0, config_toml=storage_config(dead_s3)) as server:
        response = httpx.get(f"{server.url}/readyz", timeout=30)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert list(error["details"]["down"]) == ["storage:default"]


def test_s3_storage_serves_presigned_links_and_deletes_on_expiry(
    tmp_path: Path,
    seaweedfs: SeaweedFS,  # noqa: F811
) -> None:
    settings = seaweedfs.settings()
    config = storage_config(settings)
    with start_server(tmp_path, workers=1, config_toml=config) as server, client(server) as api:
        report = create(api, template_id="orders", formats=["csv", "json"], expires_in=3)
        done = wait_final(api, report["id"])
        assert done["state"] == "FINISHED", done
        for artifact in done["artifacts"]:
            check_presigned_download(api, report["id"], artifact, seaweedfs)
        s3, prefix = s3_client(seaweedfs), f"{settings['prefix']}/{server.tenant}/"
        assert len(s3_keys(s3, seaweedfs.bucket, prefix)) == 2
        expired = lambda: api.get(f"/v1/reports/{report['id']}").json()["state"] == "EXPIRED"  # noqa: E731
        wait_for(expired, 30, "the retention sweep")
        assert s3_keys(s3, seaweedfs.bucket, prefix) == []
        gone = api.get(f"/v1/reports/{report['id']}/download_url", params={"format": "csv"})
        assert gone.status_code == 410


def check_presigned_download(
    api: httpx.Client, report_id: str, artifact: dict[str, Any], server: SeaweedFS
) -> None:
    asked = time.time()
    link = api.get(f"/v1/reports/{report_id}/download_url", params={"format": artifact["format"]})
    body = link.json()
    url = body["download_url"]
    assert url.startswith(server.endpoint_url)  # straight from S3, not through reportd
    assert "X-Amz-Signature=" in url
    assert re.search(r"X-Amz-Expires=300\b", url)  # the same life as a local link
    expires = body["expires_at"].replace("Z", "+00:00")
    from datetime import datetime

    assert abs(datetime.fromisoformat(expires).timestamp() - (asked + 300)) < 5
    got = httpx.get(url, timeout=30)
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == artifact["sha256"]
    assert artifact["filename"] in got.headers["content-disposition"]
    tampered = httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=30)
    assert tampered.status_code == 403


def s3_client(server: SeaweedFS) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def s3_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in listed)


SLEEPY_TEMPLATE = """\
id: sleepy
name: A PostgreSQL query that hangs
source: pg
query: |
  SELECT CAST(pg_sleep(30) AS text) AS n WHERE CAST(:tenant_id AS text) IS NOT NULL
fields:
  - {name: n, type: string}
formats: [csv]
timeout: 1
"""


@pytest.mark.parametrize("driver", ["adbc", "sqlalchemy"])
def test_timeout_cancels_a_hanging_postgresql_source_query(
    tmp_path: Path, pg_url: str, driver: str
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "sleepy.yaml").write_text(SLEEPY_TEMPLATE)
    # postgresql:// is the ADBC source; postgresql+psycopg:// keeps SQLAlchemy.
    url = pg_url.replace("postgresql+psycopg://", "postgresql://") if driver == "adbc" else pg_url
    config = DEFAULT_CONFIG + f'\n[[sources]]\nname = "pg"\nurl = "{url}"\n'
    # The source streams through a server-side cursor: the backend shows FETCH, sleeping.
    sleeping = (
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
        "AND wait_event = 'PgSleep' AND datname = current_database()"
    )
    with start_server(tmp_path, workers=1, config_toml=config) as server, client(server) as api:
        started = time.monotonic()
        report = create(api, template_id="sleepy", formats=["csv"])
        running = lambda: sql(pg_url, sleeping)[0][0] == 1  # noqa: E731
        try:
            wait_for(running, 10, "the query to run", 0.02)
        except AssertionError:
            raise AssertionError(api.get(f"/v1/reports/{report['id']}").text) from None
        final = wait_final(api, report["id"], timeout=10)
        took = time.monotonic() - started
        assert final["state"] == "TIMEOUT", final
        assert final["error"]["code"] == "timeout"
        assert took < 4, f"TIMEOUT after {took:.1f}s for a 1 s timeout"
        wait_for(lambda: sql(pg_url, sleeping)[0][0] == 0, 2, "the backend query to be canceled")


@pytest.mark.slow
def test_sigterm_hands_a_long_report_back_to_the_queue(tmp_path: Path, pg_url: str) -> None:
    with start_server(tmp_path, workers=0, database_url=pg_url) as server, client(server) as api:
        log = tmp_path / "worker.log"
        worker = start_worker(server, log, concurrency=1)
        report = create(api, template_id="slow", formats=["csv"], options={"rows": 300_000_000})
        try:
            wait_rows(api, report["id"])
        finally:
            asked = time.monotonic()
            stop_process(worker)
        took = time.monotonic() - asked
        assert worker.returncode == 0, log.read_text()[-3000:]
        assert took < 20, f"stopping took {took:.1f}s"  # a 10 s drain, then hand back
        back = api.get(f"/v1/reports/{report['id']}").json()
        assert back["state"] == "CREATED", back
        assert back["progress"]["rows"] == 0
        ((attempts,),) = sql(pg_url, "SELECT attempts FROM reports WHERE id = %s", report["id"])
        assert attempts == 0  # a hand-back does not use up an attempt
        assert api.post(f"/v1/reports/{report['id']}/cancel").json()["state"] == "CANCELED"
