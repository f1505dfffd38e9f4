"""Scale and faults, with real processes on 127.0.0.1 (issue 6's three fault tests).

- 1,000 reports in a burst over four ``reportd worker`` processes on PostgreSQL, one
  SIGKILLed and one SIGTERMed mid-run: all FINISHED, each exactly once, no orphan file.
- A private PostgreSQL stopped and started while reports are created and generated: the
  API says 503 in between and recovers by itself; nothing is lost or stuck.
- The S3 server (SeaweedFS) killed mid-upload: the report retries, fails with
  ``storage_unavailable`` if S3 stays down, finishes if it comes back; nothing partial is
  ever downloadable.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.integration.test_reports_api import wait_final
from tests.pg_cluster import private_postgres
from tests.server_fixtures import DEFAULT_CONFIG, RunningServer, start_server
from tests.storage_fixtures import (
    SCRIPT,
    SeaweedFS,
    _not_available,
    _start,
    _wait_until_writable,
)

BURST = 1000
FAST_LEASES = {
    "REPORTD_WORKER__LEASE_SECONDS": "3",
    "REPORTD_WORKER__MAX_ATTEMPTS": "5",
    "REPORTD_WORKER__POLL_INTERVAL": "0.1",
}


# -- helpers ------------------------------------------------------------------------------


def start_worker(
    server: RunningServer, log: Path, concurrency: int = 2, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A ``reportd worker`` process over the server's config; JSON logs go to ``log``
    (and, on SIGABRT, every thread's stack: see ``stop_process``)."""
    command = [
        sys.executable, "-m", "reportd.entrypoints.cli.main", "worker",
        "--config", str(server.config_path), "--data-dir", str(server.data_dir),
        "--concurrency", str(concurrency),
    ]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            env={**server.env, "PYTHONFAULTHANDLER": "1", **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # a hung process logs its threads' stacks
            process.wait(10)


def client(server: RunningServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def sql(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        return conn.execute(query, params or None).fetchall()


def states(url: str) -> dict[str, int]:
    return dict(sql(url, "SELECT state, count(*) FROM reports GROUP BY state"))  # type: ignore[arg-type]


def wait_for(condition: Any, timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def freeze_holding(url: str, worker: subprocess.Popen[bytes], timeout: float) -> list[str]:
    """Stop ``worker`` (SIGSTOP) at a moment it holds leases; the reports it holds then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.send_signal(signal.SIGSTOP)
        held = leases(url, worker)
        if held:
            return held
        worker.send_signal(signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for the worker to hold a report")


def create_burst(server: RunningServer, count: int, threads: int = 16) -> list[str]:
    """``count`` orders reports created at once by ``threads`` clients."""
    clients = [client(server) for _ in range(threads)]

    def one(index: int) -> str:
        api = clients[index % threads]  # index i runs in one thread at a time per client
        response = api.post("/v1/reports", json={"template_id": "orders", "formats": ["csv"]})
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(one, range(count)))
    finally:
        for api in clients:
            api.close()


def stored_keys(data_dir: Path) -> set[str]:
    """Every visible file of the local storage, as a key (in-flight ``.tmp`` files aside)."""
    root = data_dir / "artifacts"
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".tmp" not in p.relative_to(root).parts
    }


def log_lines(paths: list[Path]) -> list[dict[str, Any]]:
    lines = []
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
    return lines


def leases(url: str, process: subprocess.Popen[bytes]) -> list[str]:
    """The reports ``process`` is running now, by its lease."""
    owned = sql(
        url,
        "SELECT id FROM reports WHERE state = 'IN_PROGRESS' AND lease_owner LIKE %s",
        f"%:{process.pid}:%",
    )
    return [row[0] for row in owned]


# -- 1,000 reports, four workers, one killed and one stopped ------------------------------


@pytest.mark.slow
def test_a_burst_of_1000_reports_survives_a_killed_and_a_stopped_worker(
    tmp_path: Path, pg_url: str
) -> None:
    with start_server(tmp_path, workers=0, database_url=pg_url, env=FAST_LEASES) as server:
        logs = [tmp_path / f"worker-{i}.log" for i in range(4)]
        workers = [start_worker(server, log) for log in logs]
        try:
            started = time.monotonic()
            ids = create_burst(server, BURST)
            created_in = time.monotonic() - started
            killed, stopped = workers[0], workers[1]
            busy = lambda worker: len(leases(pg_url, worker)) == 2  # noqa: E731
            # Frozen, the worker cannot finish what it holds between the look and the kill.
            orphaned = freeze_holding(pg_url, killed, 60)
            killed.send_signal(signal.SIGKILL)
            killed.wait(10)
            wait_for(lambda: states(pg_url).get("FINISHED", 0) >= BURST // 2, 120, "half done")
            wait_for(lambda: busy(stopped), 60, "the second worker running two reports", 0.01)
            stop_process(stopped)
            assert stopped.returncode == 0, logs[1].read_text()[-3000:]
            wait_for(lambda: states(pg_url) == {"FINISHED": BURST}, 180, "every report done", 0.5)
            took = time.monotonic() - started
        finally:
            for worker in workers:
                stop_process(worker)
        print(f"\n{BURST} reports created in {created_in:.1f}s, all FINISHED in {took:.1f}s")
        check_each_finished_once(pg_url, ids, server.data_dir, logs)
        attempts = dict(sql(pg_url, "SELECT id, attempts FROM reports"))
        assert all(attempts[report_id] >= 2 for report_id in orphaned)


def check_each_finished_once(url: str, ids: list[str], data_dir: Path, logs: list[Path]) -> None:
    assert len(set(ids)) == BURST
    rows = sql(url, "SELECT report_id, storage_key FROM artifacts")
    per_report = Counter(report_id for report_id, _ in rows)
    assert set(per_report) == set(ids)
    assert set(per_report.values()) == {1}, "a report has artifacts from two finishes"
    keys = {key for _, key in rows}
    # Every stored file is a recorded artifact (no orphans), every artifact is stored.
    assert stored_keys(data_dir) == keys
    attempts = dict(sql(url, "SELECT id, attempts FROM reports"))
    for report_id, key in rows:  # keys carry the attempt that finished the report
        assert key.split("/")[2] == str(attempts[report_id])
    finishes = Counter(
        line["report_id"]
        for line in log_lines(logs)
        if line.get("action") == "end" and line.get("state") == "FINISHED"
    )
    assert max(finishes.values()) == 1, finishes.most_common(3)


# -- PostgreSQL stopped and started --------------------------------------------------------


@dataclass
class Creator:
    """Creates reports in a loop and records what the API answered."""

    server: RunningServer
    accepted: list[str] = field(default_factory=list)
    refused: list[httpx.Response] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with client(self.server) as api:
            while not self.stop.is_set():
                try:
                    response = api.post(
                        "/v1/reports", json={"template_id": "orders", "formats": ["csv"]}
                    )
                except httpx.TransportError as exc:  # the API process itself must stay up
                    raise AssertionError(f"the API stopped answering: {exc}") from exc
                if response.status_code == 202:
                    self.accepted.append(response.json()["id"])
                else:
                    self.refused.append(response)
                time.sleep(0.02)

    def accepted_since(self, count: int) -> int:
        return len(self.accepted) - count


@pytest.mark.slow
def test_postgres_restart_loses_nothing_and_the_api_recovers_by_itself(tmp_path: Path) -> None:
    with (
        private_postgres() as pg,
        start_server(tmp_path, workers=0, database_url=pg.url, env=FAST_LEASES) as server,
    ):
        logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
        workers = [start_worker(server, log) for log in logs]
        creator = Creator(server)
        thread = threading.Thread(target=creator.run, daemon=True)
        thread.start()
        try:
            wait_for(lambda: states(pg.url).get("FINISHED", 0) >= 20, 60, "reports flowing")
            pg.stop()
            wait_for(lambda: len(creator.refused) >= 5, 20, "503s while the database is away")
            with client(server) as api:
                ready = api.get("/readyz")
            time.sleep(2)  # workers meanwhile fail their claims, heartbeats and housekeeping
            pg.start()
            before = len(creator.accepted)
            wait_for(lambda: creator.accepted_since(before) >= 20, 60, "the API recovering")
        finally:
            creator.stop.set()
            thread.join(30)
        try:
            with client(server) as api:
                for report_id in creator.accepted:
                    assert wait_final(api, report_id, timeout=120)["state"] == "FINISHED"
                assert api.get("/readyz").status_code == 200
            assert all(w.poll() is None for w in workers), "a worker died of the outage"
        finally:
            for worker in workers:
                stop_process(worker)
        check_the_outage(pg.url, creator, ready)
        # Runs whose finish was lost with the database were re-run; their files went.
        keys = {row[0] for row in sql(pg.url, "SELECT storage_key FROM artifacts")}
        assert stored_keys(server.data_dir) == keys


def check_the_outage(url: str, creator: Creator, ready: httpx.Response) -> None:
    assert creator.refused, "the API never noticed the outage"
    for response in creator.refused:
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "unavailable"
        assert int(response.headers["Retry-After"]) > 0
    assert ready.status_code == 503
    assert "database" in ready.json()["error"]["details"]["down"]
    # Nothing stuck: every report in the database ended, including any whose create
    # committed while its answer was lost.
    assert set(states(url)) == {"FINISHED"}
    found = {row[0] for row in sql(url, "SELECT id FROM reports")}
    assert set(creator.accepted) <= found


# -- S3 stopped mid-upload -----------------------------------------------------------------

BIG_ROWS = 1_500_000  # ~60 MB of CSV: a multipart upload of about a dozen 5 MiB parts


class PrivateSeaweed:
    """A SeaweedFS of this test's own, killed and restarted on the same ports and data."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server: SeaweedFS = _start(root)
        _wait_until_writable(self.server)
        self.ports = (root / "weed.ports").read_text().split()[:5]

    def kill(self) -> None:
        pid = int((self.root / "weed.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        self._script("stop")  # removes the pid file and the unix sockets weed leaves

    def restart(self) -> None:
        self._script("start", *self.ports)
        _wait_until_writable(self.server)

    def _script(self, *args: str) -> None:
        command = ["bash", str(SCRIPT), args[0], str(self.root), *args[1:]]
        subprocess.run(command, check=True, capture_output=True, timeout=90)

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.server.endpoint_url,
            region_name=self.server.region,
            aws_access_key_id=self.server.access_key_id,
            aws_secret_access_key=self.server.secret_access_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


@pytest.fixture
def weed(tmp_path: Path) -> Iterator[PrivateSeaweed]:
    try:
        import boto3  # noqa: F401
    except ImportError:
        _not_available("boto3 is not installed (pip install 'reportd[s3]')")
    running = PrivateSeaweed(tmp_path / "weed")
    try:
        yield running
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(running.root)], check=False, timeout=60)


def s3_config(weed: PrivateSeaweed, prefix: str) -> str:
    settings = weed.server.settings(
        prefix=prefix, multipart_threshold=5 << 20, multipart_chunksize=5 << 20
    )
    lines = [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    return DEFAULT_CONFIG + "\n[storage.default]\n" + "\n".join(lines) + "\n"


def uploading(s3: Any, bucket: str, prefix: str) -> bool:
    found = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    return bool(found)


def objects(s3: Any, bucket: str, prefix: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def create_big(api: httpx.Client) -> dict[str, Any]:
    body = {"template_id": "slow", "formats": ["csv"], "options": {"rows": BIG_ROWS}}
    response = api.post("/v1/reports", json=body)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


def kill_mid_upload(weed: PrivateSeaweed, s3: Any, prefix: str) -> None:
    wait_for(lambda: uploading(s3, weed.server.bucket, prefix), 90, "a multipart upload", 0.02)
    weed.kill()


def assert_not_downloadable(api: httpx.Client, report_id: str) -> None:
    response = api.get(f"/v1/reports/{report_id}/download_url", params={"format": "csv"})
    assert response.status_code in (404, 409), response.text


@pytest.mark.slow
def test_s3_killed_mid_upload_retries_then_fails_or_finishes(
    tmp_path: Path, weed: PrivateSeaweed
) -> None:
    env = {"REPORTD_WORKER__LEASE_SECONDS": "3", "REPORTD_WORKER__MAX_ATTEMPTS": "4"}
    config = s3_config(weed, "faults")
    with (
        start_server(tmp_path, workers=1, env=env, config_toml=config) as server,
        client(server) as api,
    ):
        s3, bucket = weed.client(), weed.server.bucket
        # S3 stays down: every attempt fails, the report ends storage_unavailable.
        doomed = create_big(api)
        prefix = f"faults/{server.tenant}/{doomed['id']}/"
        kill_mid_upload(weed, s3, prefix)
        assert_not_downloadable(api, doomed["id"])
        failed = wait_final(api, doomed["id"], timeout=120)
        assert failed["state"] == "FAILURE", failed
        assert failed["error"]["code"] == "storage_unavailable"
        assert "gave up after 4 attempts" in failed["error"]["message"]
        assert failed["artifacts"] == []
        assert_not_downloadable(api, doomed["id"])
        weed.restart()
        assert objects(s3, bucket, prefix) == []  # the killed upload never became an object
        # S3 back before the attempts run out: the report finishes, with whole files only.
        saved = create_big(api)
        prefix = f"faults/{server.tenant}/{saved['id']}/"
        kill_mid_upload(weed, s3, prefix)
        assert_not_downloadable(api, saved["id"])
        weed.restart()
        done = wait_final(api, saved["id"], timeout=120)
        assert done["state"] == "FINISHED", done
        check_whole_download(api, s3, bucket, prefix, done)


def check_whole_download(
    api: httpx.Client, s3: Any, bucket: str, prefix: str, report: dict[str, Any]
) -> None:
    (artifact,) = report["artifacts"]
    (stored,) = objects(s3, bucket, prefix)  # one whole file, of the attempt that finished
    attempt, name = stored[len(prefix) :].split("/")
    assert name == artifact["filename"]
    assert int(attempt) >= 2  # the killed upload was attempt 1
    link = api.get(f"/v1/reports/{report['id']}/download_url", params={"format": "csv"}).json()
    digest = hashlib.sha256()
    with httpx.stream("GET", link["download_url"], timeout=60) as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == artifact["sha256"]
