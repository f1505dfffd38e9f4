"""The operator's commands: tenants, keys, templates, export, migrate, on a real database."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from reportd.bootstrap import build_app
from reportd.config import load_settings
from reportd.entrypoints.cli.main import app
from tests.server_fixtures import DEFAULT_CONFIG, write_sample_world


@pytest.fixture
def world(tmp_path: Path) -> Path:
    write_sample_world(tmp_path)
    config = tmp_path / "reportd.toml"
    config.write_text(DEFAULT_CONFIG)
    return config


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_tenants_and_keys(world: Path, tmp_path: Path) -> None:
    data = ["--config", str(world), "--data-dir", str(tmp_path / "data")]
    code, _, err = run("tenants", "create", "acme", "--feature", "custom_reports", *data)
    assert code == 0, err
    code, _, err = run("tenants", "create", "acme", *data)
    assert code == 1
    assert "already_exists" in err

    code, out, err = run(
        "keys",
        "create",
        "--tenant",
        "acme",
        "--name",
        "ci",
        "--scopes",
        "reports:read,templates:read",
        *data,
    )
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("rk_") and "\n" not in secret  # the key alone on stdout

    service = build_app(load_settings(world, data_dir=tmp_path / "data"))
    principal = service.tenants.authenticate(secret)
    assert principal.tenant_id == "acme"
    assert principal.scopes == {"reports:read", "templates:read"}
    assert principal.tenant.features == {"custom_reports"}

    code, _, err = run("keys", "create", "--tenant", "nobody", "--name", "x", *data)
    assert code == 1 and "tenant_not_found" in err
    code, _, err = run(
        "keys", "create", "--tenant", "acme", "--name", "x", "--scopes", "reports:everything", *data
    )
    assert code == 1 and "validation_error" in err

    key_id = service.tenants.list_keys("acme")[0].id
    code, _, err = run("keys", "revoke", key_id, *data)
    assert code == 0, err
    with pytest.raises(Exception, match="not valid"):
        service.tenants.authenticate(secret)
    code, _, err = run("keys", "revoke", key_id, *data)
    assert code == 1 and "key_not_found" in err
    service.store.close()


def test_templates_list_show_and_validate(world: Path, tmp_path: Path) -> None:
    code, out, _ = run("templates", "list", "--config", str(world))
    assert code == 0 and "orders" in out and "slow" in out
    code, out, _ = run("templates", "show", "orders", "--config", str(world))
    assert code == 0 and '"display_name": "Orders"' in out
    code, _, err = run("templates", "validate", "--config", str(world))
    assert code == 0, err

    broken = tmp_path / "broken"
    broken.mkdir()
    orders = (tmp_path / "templates" / "orders.yaml").read_text()
    (broken / "a.yaml").write_text(
        orders.replace("order_id, customer,", "order_id, customer AS client,")
    )
    (broken / "b.yaml").write_text(
        "id: Bad Id\nname: x\nsource: shop\nquery: SELECT 1\nfields: [{name: x}]\n"
    )
    (broken / "c.yaml").write_text(
        (tmp_path / "templates" / "orders.yaml")
        .read_text()
        .replace("source: shop", "source: nowhere")
    )
    (broken / "d.yaml").write_text(
        (tmp_path / "templates" / "orders.yaml").read_text().replace("FROM orders", "FROM nope")
    )
    code, _, err = run("templates", "validate", str(broken), "--config", str(world))
    assert code == 1
    assert "fields ['customer'] are not columns of the query" in err
    assert "must match [a-z0-9_-]+" in err
    assert "source 'nowhere' is not configured" in err
    assert "nope" in err and "query does not run" in err


def test_export_equals_duckdb_and_applies_filter(world: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    code, _, err = run(
        "export",
        "--config",
        str(world),
        "--data-dir",
        str(tmp_path / "d"),
        "--template",
        "orders",
        "--format",
        "csv",
        "--tenant",
        "acme",
        "--filter",
        "amount ge 80",
        "--order-by",
        "-amount",
        "--field",
        "order_id",
        "--field",
        "amount",
        "--output",
        str(out),
    )
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.read_text())))
    with duckdb.connect(str(tmp_path / "orders.duckdb"), read_only=True) as con:
        expected = con.execute(
            "SELECT order_id, amount FROM orders WHERE tenant = 'acme' "
            "AND amount >= 80 ORDER BY amount DESC"
        ).fetchall()
    assert [(int(a), float(b)) for a, b in rows[1:]] == expected
    code, _, err = run(
        "export",
        "--config",
        str(world),
        "--template",
        "orders",
        "--format",
        "csv",
        "--tenant",
        "acme",
        "--filter",
        "amount gt",
        "--output",
        str(out),
    )
    assert code == 1 and "invalid_filter" in err
    code, _, err = run(
        "export",
        "--config",
        str(world),
        "--template",
        "orders",
        "--format",
        "ndjson",
        "--tenant",
        "acme",
        "--option",
        "since=2024-03-01",
        "--output",
        str(tmp_path / "o.ndjson"),
    )
    assert code == 0, err
    assert len((tmp_path / "o.ndjson").read_text().splitlines()) == 4


def test_migrate_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    env = {"REPORTD_DATABASE__URL": pg_url, "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # idempotent
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "reportd.entrypoints.cli.main",
                "migrate",
                "--data-dir",
                str(tmp_path),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    import sqlalchemy

    engine = sqlalchemy.create_engine(pg_url)
    with engine.connect() as conn:
        tables = set(sqlalchemy.inspect(conn).get_table_names())
    engine.dispose()
    assert {"reports", "artifacts", "tenants", "api_keys", "alembic_version"} <= tables


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\nport = 1")
    code, _, err = run("templates", "list", "--config", str(bad))
    assert code == 1 and "not valid TOML" in err
    code, _, err = run("templates", "list", "--config", str(tmp_path / "missing.toml"))
    assert code == 1 and "does not exist" in err
    unsafe = tmp_path / "unsafe.toml"
    unsafe.write_text('[server]\nhost = "0.0.0.0"\n')
    code, _, err = run("serve", "--config", str(unsafe))
    assert code == 1 and "refusing to listen on 0.0.0.0" in err
