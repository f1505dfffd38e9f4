"""Every core: ``reportd serve --http-processes N``, SIGHUP reloads, and /metrics guarded.

Each test runs the real ``reportd`` command in its own process group on 127.0.0.1 and a free
port, over the sample world of ``tests/server_fixtures.py`` (SQLite, a DuckDB source).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.server_fixtures import DEFAULT_CONFIG, write_sample_world

BIN = Path(sys.executable).parent
START_TIMEOUT = 90.0
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("REPORTD_")}


def reportd(config: Path, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "reportd"), *args, "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    key: str
    root: Path
    log: Path

    @property
    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30
        )

    def children(self) -> list[int]:
        """Processes whose parent is the supervisor (the resource tracker aside)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
                if int(fields[1]) == self.process.pid and b"resource_tracker" not in cmdline:
                    found.append(int(stat.parent.name))
        return sorted(found)

    def answering(self, requests: int = 120) -> set[int]:
        """The process ids behind /healthz, each request on a fresh connection."""
        pids: set[int] = set()
        for _ in range(requests):
            with httpx.Client(timeout=10) as client:
                pids.add(client.get(f"{self.url}/healthz").json()["process"])
        return pids


@contextlib.contextmanager
def serve(
    tmp_path: Path,
    *args: str,
    extra_toml: str = "",
    starting: Callable[[Served], None] | None = None,
) -> Iterator[Served]:
    """``reportd serve`` up and answering; ``starting`` runs first, while it comes up."""
    write_sample_world(tmp_path)
    config = tmp_path / "reportd.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n' + DEFAULT_CONFIG + extra_toml)
    reportd(config, "migrate")
    reportd(config, "tenants", "create", "acme")
    key = reportd(config, "keys", "create", "--tenant", "acme", "--name", "t", "--scopes", "admin")
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "reportd"), "serve", "--config", str(config), "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(),
            start_new_session=True,
        )
    served = Served(process, f"http://127.0.0.1:{port}", key, tmp_path, log)
    try:
        if starting is not None:
            starting(served)
        _wait_up(served)
        yield served
    finally:
        _stop(process)


def _wait_up(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"reportd serve exited:\n{served.log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{served.url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"reportd serve did not come up:\n{served.log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _until(condition: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    pytest.fail("condition not met in time")


def _finished(api: httpx.Client, report_id: str) -> dict[str, object]:
    body: dict[str, object] = {}

    def done() -> bool:
        nonlocal body
        body = api.get(f"/v1/reports/{report_id}").json()
        return body["state"] not in ("CREATED", "IN_PROGRESS")

    _until(done)
    return body


def test_http_processes_share_the_port_and_workers_run_apart(tmp_path: Path) -> None:
    with serve(tmp_path, "--http-processes", "2") as served:
        assert len(served.children()) == 3  # two HTTP processes and one report worker
        first = served.answering()
        assert len(first) == 2  # both HTTP processes accept on the one port
        assert served.process.pid not in first  # the supervisor serves nothing itself
        with served.api as api:
            created = api.post("/v1/reports", json={"template_id": "orders", "formats": ["csv"]})
            assert created.status_code == 202
            assert _finished(api, created.json()["id"])["state"] == "FINISHED"
        # A dead HTTP process is replaced; the port never stops answering meanwhile.
        victim = sorted(first)[0]
        os.kill(victim, signal.SIGKILL)
        with httpx.Client(timeout=10) as client:
            assert client.get(f"{served.url}/healthz").status_code == 200
        _until(lambda: len(served.answering(40) - {victim}) == 2)
    assert served.process.returncode == 0  # SIGTERM: every child stopped, a clean exit


def test_a_sighup_while_the_children_start_reloads_them_instead_of_killing_them(
    tmp_path: Path,
) -> None:
    def hang_up_at_once(served: Served) -> None:
        # The supervisor has its handler once it says where it serves; its children are
        # spawned right after and spend a second or more importing: SIGHUP's default action
        # would end each of them then.
        _until(lambda: "serving on" in served.log.read_text(), timeout=60)
        served.process.send_signal(signal.SIGHUP)

    with serve(tmp_path, "--http-processes", "2", starting=hang_up_at_once) as served:
        _until(lambda: served.log.read_text().count("templates and sources reloaded") >= 3)
        assert "restarting" not in served.log.read_text()
        assert served.answering(20)


def test_sighup_reloads_templates_and_sources_without_dropping_requests(tmp_path: Path) -> None:
    with serve(tmp_path, "--http-processes", "2") as served:
        statuses: list[int] = []
        stop = threading.Event()

        def poll() -> None:  # a client polling all along, a fresh connection per request
            no_reuse = httpx.Limits(max_keepalive_connections=0)
            with httpx.Client(timeout=60, headers=served.api.headers, limits=no_reuse) as client:
                while not stop.is_set():
                    statuses.append(client.get(f"{served.url}/v1/templates").status_code)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            _until(lambda: len(statuses) >= 3)
            orders = (tmp_path / "templates" / "orders.yaml").read_text()
            changed = orders.replace("id: orders", "id: orders_paid").replace(
                "WHERE tenant = :tenant_id", "WHERE tenant = :tenant_id AND paid"
            )
            assert changed != orders
            (tmp_path / "templates" / "orders_paid.yaml").write_text(changed)
            served.process.send_signal(signal.SIGHUP)

            def everywhere() -> bool:
                with served.api as api:
                    return all(
                        "orders_paid"
                        in {t["id"] for t in api.get("/v1/templates").json()["results"]}
                        for _ in range(10)
                    )

            _until(everywhere)
            # Every process, the worker too, has read the new set before the next file lands
            # (a reload reads the files as they are when that process gets to it).
            _until(lambda: served.log.read_text().count("templates and sources reloaded") >= 3)
            # A broken file: logged, and the running set stays.
            (tmp_path / "templates" / "broken.yaml").write_text("id: [unclosed\n")
            served.process.send_signal(signal.SIGHUP)
            _until(lambda: served.log.read_text().count("reload failed") >= 3)
            before = len(statuses)
            _until(lambda: len(statuses) >= before + 3)
        finally:
            stop.set()
            poller.join(60)
        assert statuses and set(statuses) == {200}, sorted(set(statuses))
        # The worker process reloaded too: the new template's query runs there.
        with served.api as api:
            created = api.post(
                "/v1/reports", json={"template_id": "orders_paid", "formats": ["csv"]}
            )
            assert created.status_code == 202, created.text
            body = _finished(api, created.json()["id"])
            assert body["state"] == "FINISHED", body
            everything = api.post("/v1/reports", json={"template_id": "orders", "formats": ["csv"]})
            total = _finished(api, everything.json()["id"])
        assert 0 < body["progress"]["rows"] < total["progress"]["rows"]  # type: ignore[index]


def test_sighup_in_a_single_process(tmp_path: Path) -> None:
    with serve(tmp_path) as served:
        (tmp_path / "templates" / "again.yaml").write_text(
            (tmp_path / "templates" / "orders.yaml").read_text().replace("id: orders", "id: again")
        )
        served.process.send_signal(signal.SIGHUP)
        with served.api as api:
            _until(lambda: "again" in {t["id"] for t in api.get("/v1/templates").json()["results"]})
            assert served.answering(5) == {served.process.pid}  # one process, no supervisor


def test_metrics_token(tmp_path: Path) -> None:
    extra = '\n[server]\nmetrics_token = "scrape-me-1234"\n'
    with serve(tmp_path, extra_toml=extra) as served, httpx.Client(timeout=10) as client:
        client.base_url = httpx.URL(served.url)
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "authentication_failed"
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-1234"})
        assert ok.status_code == 200
        assert "reportd_queue_depth" in ok.text


def test_metrics_on_their_own_address_per_process(tmp_path: Path) -> None:
    base = free_port()
    while not _free(base + 1):
        base = free_port()
    extra = f'\n[server]\nmetrics_listen = "127.0.0.1:{base}"\n'
    with serve(tmp_path, "--http-processes", "2", extra_toml=extra) as served:
        assert httpx.get(f"{served.url}/metrics", timeout=10).status_code == 404
        for port in (base, base + 1):  # HTTP process i on base + i
            _until(lambda port=port: _metrics_up(port))


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _metrics_up(port: int) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return "reportd_" in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return False
