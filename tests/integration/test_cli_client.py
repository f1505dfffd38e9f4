"""``reportd report ...`` against a real server process, configured by environment variables."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from reportd.entrypoints.cli.client_commands import parse_options, report_app
from tests.server_fixtures import RunningServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with start_server(tmp_path_factory.mktemp("cli-server")) as running:
        yield running


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """No workers: reports stay CREATED, so cancel and timeouts are deterministic."""
    with start_server(tmp_path_factory.mktemp("cli-idle"), workers=0) as running:
        yield running


def env_for(server: RunningServer, key: str | None = None) -> dict[str, str]:
    return {"REPORTD_URL": server.url, "REPORTD_API_KEY": key or server.admin_key}


def run(server: RunningServer, *args: str, key: str | None = None) -> Result:
    return CliRunner().invoke(report_app, list(args), env=env_for(server, key))


def run_json(server: RunningServer, *args: str, key: str | None = None) -> dict[str, Any]:
    result = run(server, *args, "--json", key=key)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def route_bytes(server: RunningServer, report_id: str, fmt: str) -> bytes:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        response = http.get(f"/v1/reports/{report_id}/download", params={"format": fmt})
        response.raise_for_status()
        return response.content


def test_create_wait_and_download_into_a_directory(server: RunningServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(
        server, "create", "--template", "orders", "--format", "csv", "--format", "json",
        "--filter", "amount gt 50", "--order-by", "-amount", "--wait", "--output", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "FINISHED" in result.stdout
    assert "rows" in result.stderr  # the progress bar
    report_id = next(
        line.split()[-1] for line in result.stdout.splitlines() if line.startswith("id:")
    )
    files = sorted(out.iterdir())
    assert [p.suffix for p in files] == [".csv", ".json"]
    assert files[0].read_bytes() == route_bytes(server, report_id, "csv")
    assert f"saved {files[0]}" in result.stdout


def test_create_json_parses_option_values(server: RunningServer) -> None:
    report = run_json(
        server, "create", "-t", "slow", "-f", "ndjson", "--option", "rows=3",
        "--field", "n", "--order-by", "-n",
    )  # fmt: skip
    assert report["state"] == "CREATED"
    assert report["options"] == {"rows": 3}
    assert report["fields"] == ["n"]
    assert report["order_by"] == ["-n"]


def test_status_wait_and_download(server: RunningServer, tmp_path: Path) -> None:
    created = run_json(
        server, "create", "-t", "orders", "-f", "csv", "--option", "since=2024-03-01"
    )
    assert created["options"] == {"since": "2024-03-01"}
    waited = run(server, "wait", created["id"], "--timeout", "30")
    assert waited.exit_code == 0, waited.output
    assert "FINISHED" in waited.stderr
    status = run_json(server, "status", created["id"])
    assert status["state"] == "FINISHED"
    assert status["progress"]["rows"] == 4
    human = run(server, "status", created["id"])
    assert "state:        FINISHED" in human.stdout
    dest = tmp_path / "orders.csv"
    done = run(server, "download", created["id"], "--format", "csv", "--output", str(dest))
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == str(dest)
    digest = hashlib.sha256(dest.read_bytes()).hexdigest()
    assert digest == status["artifacts"][0]["sha256"]


def test_list_pages(server: RunningServer) -> None:
    key = server.make_key("cli-paging", name="cli-pager")  # a tenant of its own: exact counts
    made = {
        run_json(server, "create", "-t", "orders", "-f", "csv", key=key)["id"] for _ in range(3)
    }
    first = run_json(server, "list", "--limit", "2", key=key)
    assert first["total_count"] == 3
    assert len(first["results"]) == 2
    second = run_json(server, "list", "--limit", "2", "--cursor", first["next_cursor"], key=key)
    assert len(second["results"]) == 1
    assert second["next_cursor"] is None
    everything = run_json(server, "list", "--all", "--limit", "1", key=key)
    assert {r["id"] for r in everything["results"]} == made
    human = run(server, "list", "--limit", "2", key=key)
    assert human.stdout.splitlines()[0].startswith("ID")
    assert len(human.stdout.splitlines()) == 3
    assert "more: --cursor" in human.stderr


def test_cancel_and_waiting_on_a_canceled_report(idle_server: RunningServer) -> None:
    created = run_json(idle_server, "create", "-t", "orders", "-f", "csv")
    canceled = run(idle_server, "cancel", created["id"])
    assert canceled.exit_code == 0, canceled.output
    assert canceled.stdout.strip() == f"{created['id']}: CANCELED"
    waited = run(idle_server, "wait", created["id"])
    assert waited.exit_code == 1
    assert "error canceled:" in waited.stderr


def test_wait_times_out(idle_server: RunningServer) -> None:
    created = run_json(idle_server, "create", "-t", "orders", "-f", "csv")
    result = run(idle_server, "wait", created["id"], "--timeout", "0.3")
    assert result.exit_code == 1
    assert "error timeout:" in result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["status", "no-such-report"], "report_not_found"),
        (["create", "-t", "orders", "-f", "xlsx"], "format_inapplicable"),
        (["create", "-t", "nope", "-f", "csv"], "template_not_found"),
        (["create", "-t", "orders", "-f", "csv", "--filter", "amount gt"], "invalid_filter"),
        (["download", "no-such-report"], "report_not_found"),
        (["cancel", "no-such-report"], "report_not_found"),
    ],
)
def test_api_errors_exit_1_with_their_code(
    server: RunningServer, args: list[str], code: str
) -> None:
    result = run(server, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error {code}: ")
    assert result.stdout == ""


def test_bad_filter_shows_the_position(server: RunningServer) -> None:
    result = run(server, "create", "-t", "orders", "-f", "csv", "--filter", "amount gt")
    assert 'details: {"position": 9' in result.stderr


def test_bad_key_is_authentication_failed(server: RunningServer) -> None:
    result = run(server, "list", key="rk_wrong")
    assert result.exit_code == 1
    assert "error authentication_failed: the API key is not valid" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["create", "-t", "orders", "-f", "csv", "--option", "no-equals-sign"],
        ["create", "-f", "csv"],  # no template
        ["list", "--limit", "0"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(server: RunningServer, args: list[str]) -> None:
    assert run(server, *args).exit_code == 2


def test_missing_api_key_is_a_usage_error(server: RunningServer) -> None:
    result = CliRunner().invoke(report_app, ["list"], env={"REPORTD_URL": server.url})
    assert result.exit_code == 2
    assert "REPORTD_API_KEY" in result.stderr


def test_unreachable_server_exits_1() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"REPORTD_URL": f"http://127.0.0.1:{port}", "REPORTD_API_KEY": "rk_x"}
    result = CliRunner().invoke(report_app, ["status", "x"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error unavailable: cannot reach reportd")


def test_reportd_report_in_a_subprocess(server: RunningServer) -> None:
    """The mounted command, in a process of its own, configured only by the environment."""
    created = run_json(server, "create", "-t", "orders", "-f", "csv", "--wait")
    command = [
        sys.executable,
        "-m",
        "reportd.entrypoints.cli.main",
        "report",
        "status",
        created["id"],
        "--json",
    ]
    done = subprocess.run(
        command, env={**server.env, **env_for(server)}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "FINISHED"


def test_parse_options() -> None:
    assert parse_options(["a=1", "b=true", "c=2024-01-01", "d=[1,2]", "e=x=y", "f="]) == {
        "a": 1,
        "b": True,
        "c": "2024-01-01",
        "d": [1, 2],
        "e": "x=y",
        "f": "",
    }
    assert parse_options(None) is None
