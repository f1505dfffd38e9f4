"""Tenant templates end to end, on a real server over SQLite and over PostgreSQL.

A tenant's template is created, validated, run, edited (the old report still shows the old
version), invisible to another tenant, and refused over a source the operator did not grant;
and a hostile tenant's SQL does not reach another tenant's rows, other tables or files.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import duckdb
import httpx
import pytest

from tests.conftest import create_pg_database, drop_pg_database
from tests.integration.test_reports_api import create, wait_final
from tests.server_fixtures import (
    OTHER_TENANT,
    TENANT,
    RunningServer,
    start_server,
    write_sample_world,
)

SECRET_FILE = "tenant-secret.csv"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def tserver(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server whose DuckDB source also holds a ``secrets`` table, beside a file on disk;
    ``acme`` is granted ``orders`` scoped by its ``tenant`` column; tenant queries yield at
    most 5 rows (``[tenant_templates] max_rows``)."""
    root = tmp_path_factory.mktemp(f"tenant-templates-{request.param}")
    write_sample_world(root)
    with duckdb.connect(str(root / "orders.duckdb")) as con:
        con.execute("CREATE TABLE secrets (tenant VARCHAR, secret VARCHAR)")
        con.execute("INSERT INTO secrets VALUES ('acme', 'operator-only')")
    (root / SECRET_FILE).write_text("secret\nfrom-a-file\n")
    database_url = None
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server")
        database_url = create_pg_database()
    try:
        env = {"REPORTD_TENANT_TEMPLATES__MAX_ROWS": "5"}
        with start_server(root, database_url=database_url, env=env) as running:
            cli(running, "tenants", "grant-source", TENANT, "shop", "--table", "orders",
                "--tenant-column", "tenant")  # fmt: skip
            yield running
    finally:
        if database_url is not None:
            drop_pg_database(database_url)


def cli(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "reportd.entrypoints.cli.main", *args]
    command += ["--config", str(server.config_path), "--data-dir", str(server.data_dir)]
    done = subprocess.run(
        command, env=server.env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def tapi(tserver: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {tserver.admin_key}"}
    with httpx.Client(base_url=tserver.url, headers=headers, timeout=30) as client:
        yield client


def definition(template_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": template_id,
        "name": "Big orders",
        "source": "shop",
        "query": "SELECT order_id, customer, amount FROM orders WHERE amount >= :floor",
        "fields": [
            {"name": "order_id", "type": "integer", "sortable": True},
            {"name": "customer", "type": "string", "filterable": True},
            {"name": "amount", "type": "number", "sortable": True},
        ],
        "parameters": {
            "type": "object",
            "properties": {"floor": {"type": "number", "default": 100}},
        },
        "formats": ["csv", "json"],
    }
    body.update(changes)
    return body


def csv_rows(api: httpx.Client, report_id: str) -> list[list[str]]:
    text = api.get(f"/v1/reports/{report_id}/download", params={"format": "csv"}).text
    return list(csv.reader(io.StringIO(text)))


def test_created_validated_run_and_edited_the_old_report_keeps_its_version(
    tapi: httpx.Client, tserver: RunningServer
) -> None:
    made = tapi.post("/v1/templates", json=definition("big"))
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 1 and made.json()["origin"] == "tenant"
    assert made.headers["location"] == "/v1/templates/big"

    first = wait_final(tapi, create(tapi, template_id="big", formats=["csv"])["id"])
    assert first["state"] == "FINISHED", first
    assert first["template_version"] == 1
    rows = csv_rows(tapi, first["id"])
    assert rows[0] == ["order_id", "customer", "amount"]
    assert sorted(int(r[0]) for r in rows[1:]) == [1, 3, 7]  # acme's only: not globex's 100

    edited = tapi.patch(
        "/v1/templates/big",
        json={"name": "Huge orders", "parameters": {"properties": {"floor": {"default": 300}}}},
        headers={"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.headers["etag"] == '"2"'
    stale = tapi.patch("/v1/templates/big", json={"name": "x"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"

    second = wait_final(tapi, create(tapi, template_id="big", formats=["csv"])["id"])
    assert second["template_version"] == 2
    assert sorted(int(r[0]) for r in csv_rows(tapi, second["id"])[1:]) == [3, 7]

    old = tapi.get(f"/v1/reports/{first['id']}/template").json()
    assert (old["version"], old["name"]) == (1, "Big orders")
    assert old["definition"]["parameters"]["properties"]["floor"]["default"] == 100
    new = tapi.get(f"/v1/reports/{second['id']}/template").json()
    assert (new["version"], new["name"]) == (2, "Huge orders")
    assert tapi.get(f"/v1/reports/{first['id']}").json()["template_version"] == 1


def test_invisible_to_another_tenant(tapi: httpx.Client, tserver: RunningServer) -> None:
    assert tapi.post("/v1/templates", json=definition("mine")).status_code == 201
    other = {"Authorization": f"Bearer {tserver.make_key(OTHER_TENANT)}"}
    with httpx.Client(base_url=tserver.url, headers=other, timeout=30) as api:
        assert api.get("/v1/templates/mine").status_code == 404
        assert "mine" not in [t["id"] for t in api.get("/v1/templates").json()["results"]]
        asked = api.post("/v1/reports", json={"template_id": "mine", "formats": ["csv"]})
        assert asked.status_code == 404
        assert asked.json()["error"]["code"] == "template_not_found"
        assert api.patch("/v1/templates/mine", json={"name": "x"}).status_code == 404
        assert api.delete("/v1/templates/mine").status_code == 404
    assert tapi.get("/v1/templates/mine").json()["version"] == 1


def test_refused_for_a_source_not_granted(tapi: httpx.Client, tserver: RunningServer) -> None:
    other = {"Authorization": f"Bearer {tserver.make_key('initech')}"}
    with httpx.Client(base_url=tserver.url, headers=other, timeout=30) as api:
        refused = api.post("/v1/templates", json=definition("ungranted"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "source_not_granted"
    assert refused.json()["error"]["details"] == {"path": "source"}


def test_refused_with_positions_and_nothing_saved(tapi: httpx.Client) -> None:
    bad = definition(
        "broken",
        fields=[{"name": "order_id", "type": "integer"}, {"name": "no_such_column"}],
    )
    refused = tapi.post("/v1/templates", json=bad)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "template_invalid"
    assert [e["path"] for e in error["details"]["errors"]] == ["fields[1].name"]
    assert tapi.get("/v1/templates/broken").status_code == 404
    checked = tapi.post("/v1/templates/validate", json=definition("fine"))
    assert checked.status_code == 200 and checked.json()["valid"] is True
    assert tapi.get("/v1/templates/fine").status_code == 404  # validate saves nothing


def test_operator_templates_stay_read_only(tapi: httpx.Client) -> None:
    for response in (
        tapi.patch("/v1/templates/orders", json={"name": "Mine"}),
        tapi.delete("/v1/templates/orders"),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "template_read_only"
    assert tapi.post("/v1/templates", json=definition("orders")).status_code == 409
    assert tapi.get("/v1/templates/orders").json()["origin"] == "operator"


def test_deleted_it_makes_no_report_but_old_reports_show_it(tapi: httpx.Client) -> None:
    assert tapi.post("/v1/templates", json=definition("brief")).status_code == 201
    report = wait_final(tapi, create(tapi, template_id="brief", formats=["csv"])["id"])
    assert tapi.delete("/v1/templates/brief").status_code == 204
    asked = tapi.post("/v1/reports", json={"template_id": "brief", "formats": ["csv"]})
    assert asked.status_code == 404
    assert tapi.get(f"/v1/reports/{report['id']}/template").json()["version"] == 1
    assert tapi.get("/v1/templates/brief/versions/1").json()["name"] == "Big orders"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("SELECT * FROM secrets", "table_not_granted"),
        (f"SELECT * FROM read_csv('{SECRET_FILE}')", "function"),
        (f"SELECT * FROM '{SECRET_FILE}'", "table_name"),
        ("SELECT * FROM orders; SELECT * FROM secrets", "multiple_statements"),
        ("ATTACH 'orders.duckdb' AS again", "not_a_select"),
        ("COPY orders TO 'leak.csv'", "not_a_select"),
        ("PRAGMA database_list", "not_a_select"),
        ("SET threads = 64", "not_a_select"),
        ("SELECT * FROM main.secrets", "qualified_table"),
        ("SELECT * FROM duckdb_tables()", "function"),
        ("SELECT * FROM query('SELECT * FROM secrets')", "function"),
        ("SELECT getenv('HOME') AS secret", "function"),
        ("SELECT * FROM orders WHERE tenant = $1", "positional_parameter"),
    ],
)
def test_a_hostile_query_is_refused_with_a_stable_code(
    tapi: httpx.Client, query: str, reason: str
) -> None:
    body = definition("hostile", query=query, fields=[{"name": "secret"}])
    refused = tapi.post("/v1/templates", json=body)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "query_not_allowed", error
    assert error["details"] == {"path": "query", "reason": reason}


def test_a_query_reaching_for_other_tenants_rows_gets_its_own(tapi: httpx.Client) -> None:
    """What can be contained runs contained: every table read is the tenant's rows only."""
    sneaky = (
        "SELECT o.order_id, o.tenant FROM orders o "
        "WHERE o.tenant <> :tenant_id OR 1 = 1 OR o.order_id IN "
        "(SELECT order_id FROM orders WHERE tenant = 'globex') "
        "UNION ALL SELECT order_id, tenant FROM orders WHERE tenant = 'globex'"
    )
    body = definition(
        "sneaky",
        query=sneaky,
        fields=[{"name": "order_id", "type": "integer"}, {"name": "tenant"}],
        parameters={"type": "object", "properties": {"tenant_id": {"type": "string"}}},
    )
    assert tapi.post("/v1/templates", json=body).status_code == 201
    asked = tapi.post(
        "/v1/reports",
        json={"template_id": "sneaky", "formats": ["csv"], "options": {"tenant_id": "globex"}},
    )
    assert asked.status_code == 400  # tenant_id is never an option
    report = wait_final(tapi, create(tapi, template_id="sneaky", formats=["csv"])["id"])
    assert report["state"] == "FINISHED", report
    rows = csv_rows(tapi, report["id"])[1:]
    assert rows and {r[1] for r in rows} == {TENANT}


def test_the_operators_row_cap_holds(tserver: RunningServer, tapi: httpx.Client) -> None:
    grant = ("tenants", "grant-source", "capped", "shop", "--table", "orders")
    key = tserver.make_key("capped")
    cli(tserver, *grant)
    listed = cli(tserver, "tenants", "sources", "capped", "--json").stdout
    assert '"source": "shop"' in listed and '"tenant_column": null' in listed
    with httpx.Client(
        base_url=tserver.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as api:
        body = definition("all", query="SELECT order_id, customer, amount FROM orders")
        assert api.post("/v1/templates", json=body).status_code == 201
        report = wait_final(api, create(api, template_id="all", formats=["csv"])["id"])
        assert report["progress"]["rows"] == 5  # unscoped: every tenant's rows, up to the cap
    cli(tserver, "tenants", "revoke-source", "capped", "shop")
    assert cli(tserver, "tenants", "sources", "capped", "--json").stdout.strip() == "[]"


def test_the_cli_lists_a_grant(tserver: RunningServer) -> None:
    listed = cli(tserver, "tenants", "sources", TENANT).stdout
    assert "shop" in listed and "orders" in listed and "tenant" in listed


def test_the_sdk_makes_edits_and_reads_back_templates(tserver: RunningServer) -> None:
    from reportd import QueryNotAllowed, TemplateInvalid, VersionConflict
    from reportd.client import Client

    with Client(tserver.url, tserver.admin_key) as client:
        assert client.validate_template(definition("sdk"))["columns"] == [
            "order_id",
            "customer",
            "amount",
        ]
        assert client.create_template(definition("sdk"))["version"] == 1
        assert client.update_template("sdk", {"name": "SDK"}, version=1)["version"] == 2
        with pytest.raises(VersionConflict):
            client.update_template("sdk", {"name": "late"}, version=1)
        with pytest.raises(TemplateInvalid) as refused:
            client.create_template(definition("sdk2", fields=[{"name": "nope"}]))
        assert refused.value.details["errors"][0]["path"] == "fields[0].name"
        with pytest.raises(QueryNotAllowed):
            client.create_template(definition("sdk3", query="SELECT * FROM secrets"))
        report = client.create_report("sdk", ["csv"])
        assert client.report_template(report["id"])["version"] == 2
        assert client.get_template_version("sdk", 1)["name"] == "Big orders"
        client.delete_template("sdk")
        assert "sdk" not in [t["id"] for t in client.list_templates()["results"]]
