"""``reportd webhooks ...`` against a real server process: create with a signing scheme,
list it, switch it, delete; errors as one line and exit code 1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import Result
from typer.testing import CliRunner

from reportd.entrypoints.cli.webhook_commands import webhooks_app
from tests.server_fixtures import RunningServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """No workers (nothing is delivered); 127.0.0.1 allowed, so subscriptions can be made."""
    env = {"REPORTD_WEBHOOKS__ALLOW_PRIVATE": '["127.0.0.1"]'}
    with start_server(tmp_path_factory.mktemp("cli-webhooks"), workers=0, env=env) as running:
        yield running


def run(server: RunningServer, *args: str) -> Result:
    env = {"REPORTD_URL": server.url, "REPORTD_API_KEY": server.admin_key}
    return CliRunner().invoke(webhooks_app, list(args), env=env)


def test_create_list_switch_and_delete_a_subscription(server: RunningServer) -> None:
    made = run(server, "create", "http://127.0.0.1:9/hook", "-e", "report.finished,report.failed",
               "--signature", "standard")  # fmt: skip
    assert made.exit_code == 0, made.output
    shown = dict(line.split(":", 1) for line in made.stdout.splitlines())
    hook_id = shown["id"].strip()
    assert shown["signature"].strip() == "standard"
    assert shown["events"].strip() == "report.finished, report.failed"
    assert shown["secret"].strip().startswith("whsec_")
    listed = run(server, "list")
    assert listed.exit_code == 0, listed.output
    assert any(
        line.startswith(hook_id) and " standard " in line for line in listed.stdout.splitlines()
    )
    switched = run(server, "set-signature", hook_id, "both", "--json")
    assert switched.exit_code == 0, switched.output
    data = json.loads(switched.stdout)
    assert data["signature"] == "both" and "secret" not in data
    default = json.loads(run(server, "create", "http://127.0.0.1:9/other", "-e", "report.expired",
                             "--json").stdout)  # fmt: skip
    assert default["signature"] == "both"
    assert run(server, "delete", hook_id).exit_code == 0
    ids = [h["id"] for h in json.loads(run(server, "list", "--json").stdout)["results"]]
    assert ids == [default["id"]]


def test_a_bad_scheme_or_an_unknown_id_is_a_clear_error(server: RunningServer) -> None:
    bad = run(server, "create", "http://127.0.0.1:9/hook", "-e", "report.finished",
              "--signature", "svix")  # fmt: skip
    assert bad.exit_code == 2 and "svix" in bad.output
    missing = run(server, "set-signature", "00000000-0000-0000-0000-000000000000", "standard")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error not_found:")
