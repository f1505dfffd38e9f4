"""The CLI hides nothing: --version, --json on every list, whole ids, one error format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportd import __version__
from reportd.entrypoints.cli.main import app
from tests.server_fixtures import DEFAULT_CONFIG, write_sample_world


@pytest.fixture
def world(tmp_path: Path) -> list[str]:
    write_sample_world(tmp_path)
    config = tmp_path / "reportd.toml"
    config.write_text(DEFAULT_CONFIG)
    return ["--config", str(config), "--data-dir", str(tmp_path / "data")]


def run(*args: str, columns: int = 60) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"reportd {__version__}"


def test_every_list_speaks_json_and_a_narrow_table_keeps_whole_ids(world: list[str]) -> None:
    assert run("tenants", "create", "acme", *world)[0] == 0
    assert run("keys", "create", "--tenant", "acme", "--name", "ci", *world)[0] == 0
    code, out, err = run("keys", "list", "--tenant", "acme", "--json", *world)
    assert code == 0, err
    (key,) = json.loads(out)
    assert key["name"] == "ci" and key["revoked_at"] is None
    code, out, _ = run("keys", "list", "--tenant", "acme", *world)  # a 60-column terminal
    first_column = "".join(
        line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")
    )
    assert key["id"] in first_column and "…" not in out
    code, out, _ = run("tenants", "list", "--json", *world)
    assert [t["id"] for t in json.loads(out)] == ["acme"]
    code, out, _ = run("templates", "list", "--json", *world)
    assert {t["id"] for t in json.loads(out)} >= {"orders"}
    assert run("keys", "revoke", key["id"], *world)[0] == 0
    code, out, _ = run("keys", "list", "--tenant", "acme", "--json", *world)
    assert json.loads(out)[0]["revoked_at"] is not None


@pytest.mark.parametrize(
    ("args", "code_name"),
    [
        (("templates", "show", "nope"), "template_not_found"),
        (("export", "-t", "orders", "-f", "csv", "--option", "oops"), "validation_error"),
        (("keys", "create", "--tenant", "ghost", "--name", "x"), "tenant_not_found"),
    ],
)
def test_one_error_format(world: list[str], args: tuple[str, ...], code_name: str) -> None:
    code, _, err = run(*args, *world, columns=200)
    assert code in (1, 2)
    assert err.startswith(f"error {code_name}: "), err
    assert "Traceback" not in err


def test_a_broken_config_is_the_same_format(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\nport = 1")
    code, _, err = run("templates", "list", "--config", str(bad), columns=200)
    assert code in (1, 2) and err.startswith("error "), err
