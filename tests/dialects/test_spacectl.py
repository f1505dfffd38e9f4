"""spacectl 2.0.10, SpaceONE's own CLI, unchanged, against reportd's gRPC door (SQLite, PostgreSQL).

spacectl runs from a venv of its own (``tests/spacectl_env.py``), configured as the README says
(``spacectl config init -e reportd -f reportd.yml``: ``api_key`` and ``endpoints: {report:
grpc://HOST:PORT}``) in a temporary HOME. It finds ``report.Report`` by server
reflection and sends its key as ``token``. ``exec create``, ``exec get``,
``exec get_download_url`` and ``list`` work; a wrong token and another domain are refused.
spacectl prints its errors as ``ERROR: ...`` and exits 0 whatever happened, so the tests read
what it printed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server_fixtures import DEFAULT_CONFIG, OTHER_TENANT, RunningServer, start_server
from tests.spacectl_env import SPACECTL_ENV, spacectl_venv

GRPC_CONFIG = DEFAULT_CONFIG + '\n[grpc]\nlisten = "127.0.0.1:0"\n'
pytestmark = pytest.mark.timeout(1200)  # the first run on a machine builds spacectl's venv


@pytest.fixture(scope="module")
def spacectl_bin() -> Path:
    return spacectl_venv() / "bin" / "spacectl"


@pytest.fixture(scope="module")
def backend_server(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    directory = tmp_path_factory.mktemp("spacectl")
    with start_server(directory, config_toml=GRPC_CONFIG, database_url=backend_database) as srv:
        yield srv


@dataclass
class Spacectl:
    """spacectl with a HOME of its own (``~/.spaceone/``)."""

    executable: Path
    home: Path

    def run(self, *args: str) -> str:
        """spacectl's stdout; it exits 0 even on errors, which it prints as ``ERROR: ...``."""
        env = {
            "HOME": str(self.home),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            **SPACECTL_ENV,
        }
        done = subprocess.run(
            [str(self.executable), *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def ok(self, *args: str) -> Any:
        """A call with ``-o json`` that must succeed: its JSON answer."""
        printed = self.run(*args, "-o", "json")
        assert not printed.startswith("ERROR"), printed
        return json.loads(printed)

    def configure(self, api_key: str, endpoint: str, **more: str) -> None:
        """``spacectl config init -f`` with the file the README shows (one call, not four)."""
        lines = [f"api_key: {api_key}", *(f"{k}: {v}" for k, v in more.items())]
        config = self.home / "reportd.yml"
        config.write_text("\n".join([*lines, "endpoints:", f"  report: {endpoint}", ""]))
        self.run("config", "init", "-e", "reportd", "-f", str(config))


@pytest.fixture
def spacectl(spacectl_bin: Path, backend_server: RunningServer, tmp_path: Path) -> Spacectl:
    """spacectl configured with an admin key of acme, the sample world's tenant."""
    cli = Spacectl(spacectl_bin, tmp_path / "home")
    cli.home.mkdir()
    key = backend_server.make_key(backend_server.tenant, name="spacectl")
    cli.configure(key, f"grpc://{backend_server.grpc_target}")
    return cli


def test_create_get_get_download_url_and_list(
    spacectl: Spacectl, backend_server: RunningServer
) -> None:
    domain = f"domain_id={backend_server.tenant}"
    options = json.dumps({"template_options": {"since": "2024-02-01"}})
    made = spacectl.ok(
        "exec", "create", "report.Report",
        "-p", domain, "-p", "template_id=orders", "-p", "name=from spacectl", "-j", options,
    )  # fmt: skip
    report_id = made["report_id"]
    assert (made["domain_id"], made["template_id"]) == (backend_server.tenant, "orders")
    assert made["template_options"] == {"since": "2024-02-01"}
    assert made["created_by"] == "spacectl"

    deadline = time.monotonic() + 60
    info = spacectl.ok("exec", "get", "report.Report", "-p", domain, "-p", f"report_id={report_id}")
    while info.get("state") != "FINISHED" and time.monotonic() < deadline:
        time.sleep(0.2)
        info = spacectl.ok(
            "exec", "get", "report.Report", "-p", domain, "-p", f"report_id={report_id}"
        )
    assert info["state"] == "FINISHED", info
    assert info["storage_path"].endswith(".csv")

    link = spacectl.ok(
        "exec", "get_download_url", "report.Report", "-p", domain, "-p", f"report_id={report_id}"
    )
    assert list(link) == ["download_url"]
    file = httpx.get(link["download_url"], timeout=30)
    assert file.status_code == 200
    rows = list(csv.DictReader(io.StringIO(file.text)))
    assert [int(r["order_id"]) for r in rows] == [3, 4, 5, 6, 7, 8]

    listed = spacectl.ok("list", "report.Report", "-p", domain, "-p", f"report_id={report_id}")
    assert listed["total_count"] == 1
    assert listed["results"][0]["report_id"] == report_id
    table = spacectl.run("list", "report.Report", "-p", domain, "-c", "report_id,state")
    assert report_id in table and "FINISHED" in table and "Count: " in table

    key = backend_server.make_key(backend_server.tenant, name="rest")
    with httpx.Client(
        base_url=backend_server.url, headers={"Authorization": f"Bearer {key}"}
    ) as rest:
        native = rest.get(f"/v1/reports/{report_id}").json()  # the same report, natively
    assert native["name"] == "from spacectl" and native["state"] == "FINISHED"
    [artifact] = native["artifacts"]
    assert artifact["sha256"] == hashlib.sha256(file.content).hexdigest()


def test_a_wrong_token_is_refused(
    spacectl_bin: Path, backend_server: RunningServer, tmp_path: Path
) -> None:
    cli = Spacectl(spacectl_bin, tmp_path / "home")
    cli.home.mkdir()
    cli.configure("rk_not-a-real-key", f"grpc://{backend_server.grpc_target}")
    printed = cli.run("list", "report.Report", "-p", f"domain_id={backend_server.tenant}")
    # spacectl's own words for ERROR_AUTHENTICATE_FAILURE (UNAUTHENTICATED)
    assert printed.startswith('ERROR: The api_key is not set or incorrect. (Use "spacectl config')


def test_another_domain_is_refused(
    spacectl: Spacectl, spacectl_bin: Path, backend_server: RunningServer, tmp_path: Path
) -> None:
    theirs = f"domain_id={OTHER_TENANT}"
    for args in (
        ("list", "report.Report", "-p", theirs),
        (
            "exec",
            "create",
            "report.Report",
            "-p",
            theirs,
            "-p",
            "template_id=orders",
            "-p",
            "name=x",
        ),
        ("exec", "get", "report.Report", "-p", theirs, "-p", "report_id=anything"),
    ):
        assert spacectl.run(*args).startswith("ERROR: Permission denied."), args

    other = Spacectl(spacectl_bin, tmp_path / "other-home")  # x_domain_id, spacectl's option
    other.home.mkdir()
    key = backend_server.make_key(backend_server.tenant, name="spacectl")
    other.configure(key, f"grpc://{backend_server.grpc_target}", x_domain_id=OTHER_TENANT)
    assert other.run("list", "report.Report").startswith("ERROR: Permission denied.")
