"""Tenant templates over the fake store: made, checked, versioned, run, and kept to the tenant."""

from __future__ import annotations

from typing import Any

import pytest

from reportd.domain.errors import (
    AlreadyExists,
    FeatureNotEnabled,
    Forbidden,
    QueryNotAllowed,
    SourceNotFound,
    SourceNotGranted,
    TemplateInvalid,
    TemplateNotFound,
    TemplateReadOnly,
    VersionConflict,
)
from reportd.domain.states import ReportState
from tests.unit.app.conftest import World


def definition(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "my_orders",
        "name": "My orders",
        "source": "shop",
        "query": "SELECT order_id, customer, amount FROM orders WHERE amount >= :floor",
        "fields": [
            {"name": "order_id", "type": "integer", "sortable": True},
            {"name": "customer", "type": "string", "filterable": True},
            {"name": "amount", "type": "number"},
        ],
        "parameters": {
            "type": "object",
            "properties": {"floor": {"type": "number", "default": 0}},
        },
        "formats": ["csv", "json"],
    }
    body.update(changes)
    return body


@pytest.fixture
def granted(world: World) -> World:
    world.app.templates.grant_source("acme", "shop", tables=("orders",), tenant_column="tenant")
    return world


def test_a_template_is_made_as_version_one_and_checked_against_its_source(granted: World) -> None:
    caller = granted.principal()
    view = granted.app.templates.create(caller, definition())
    assert (view.origin, view.version, view.template.id) == ("tenant", 1, "my_orders")
    assert view.definition is not None and view.definition["name"] == "My orders"
    sql, params = granted.source.planned[-1]
    assert sql.endswith("LIMIT 0")
    assert '"tenant" = :tenant_id' in sql  # what ran is the contained query
    assert params["tenant_id"] == "acme" and params["floor"] == 0


def test_the_tenant_sees_its_template_beside_the_operators(granted: World) -> None:
    caller = granted.principal()
    granted.app.templates.create(caller, definition())
    listed = [(v.template.id, v.origin) for v in granted.app.templates.list(caller)]
    assert listed == [("orders", "operator"), ("samples", "operator"), ("my_orders", "tenant")]
    shown = granted.app.templates.get(caller, "my_orders").template
    assert shown.query == definition()["query"]  # its own text, not the contained one


def test_another_tenants_template_is_not_found(granted: World) -> None:
    granted.app.templates.create(granted.principal(), definition())
    other = granted.principal("globex")
    with pytest.raises(TemplateNotFound):
        granted.app.templates.get(other, "my_orders")
    with pytest.raises(TemplateNotFound):
        granted.create(other, template_id="my_orders")
    assert "my_orders" not in [v.template.id for v in granted.app.templates.list(other)]


def test_a_source_not_granted_is_refused(world: World) -> None:
    with pytest.raises(SourceNotGranted) as refused:
        world.app.templates.create(world.principal(), definition())
    assert refused.value.details == {"path": "source"}


def test_a_grant_names_a_configured_source(world: World) -> None:
    with pytest.raises(SourceNotFound):
        world.app.templates.grant_source("acme", "nowhere")


def test_writes_need_the_scope_and_the_feature(granted: World) -> None:
    reader = granted.principal(scopes=("templates:read",))
    with pytest.raises(Forbidden):
        granted.app.templates.create(reader, definition())
    granted.app.tenants.create_tenant("plain")
    granted.app.templates.grant_source("plain", "shop")
    plain = granted.app.tenants.authenticate(
        granted.app.tenants.create_key("plain", "k", ["admin"]).secret
    )
    with pytest.raises(FeatureNotEnabled):
        granted.app.templates.create(plain, definition())


def test_every_field_must_be_a_column_of_the_query(granted: World) -> None:
    granted.source.result_columns = ["order_id", "amount"]
    with pytest.raises(TemplateInvalid) as refused:
        granted.app.templates.create(granted.principal(), definition())
    assert refused.value.code == "template_invalid"
    (problem,) = refused.value.errors
    assert problem["path"] == "fields[1].name"
    assert "filterable field 'customer' is not a column" in problem["message"]


def test_a_query_that_does_not_run_is_refused_at_the_query(granted: World) -> None:
    granted.app.templates.grant_source("acme", "shop", tables=("nosuchtable",))
    with pytest.raises(TemplateInvalid) as refused:
        granted.app.templates.create(
            granted.principal(), definition(query="SELECT * FROM nosuchtable")
        )
    assert refused.value.errors[0]["path"] == "query"


def test_structure_problems_come_back_all_at_once_with_positions(granted: World) -> None:
    bad = definition(
        fields=[{"name": "order_id", "type": "int"}, {"label": "x"}],
        parameters={"type": "object", "properties": {"floor": {"type": "nummber"}}},
        formats=["csv", "docx"],
        colour="blue",
    )
    with pytest.raises(TemplateInvalid) as refused:
        granted.app.templates.create(granted.principal(), bad)
    paths = [e["path"] for e in refused.value.errors]
    assert paths == [
        "colour",
        "fields[0].type",
        "fields[1].name",
        "formats[1]",
        "parameters.properties.floor.type",
    ]


def test_a_timeout_over_the_operators_limit_is_refused(granted: World) -> None:
    with pytest.raises(TemplateInvalid) as refused:
        granted.app.templates.create(granted.principal(), definition(timeout=10**6))
    assert refused.value.errors[0]["path"] == "timeout"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "function"),
        ("SELECT * FROM '/etc/passwd.csv'", "table_name"),
        ("SELECT * FROM orders; DROP TABLE orders", "multiple_statements"),
        ("ATTACH 'other.duckdb' AS o", "not_a_select"),
        ("COPY orders TO '/tmp/out.csv'", "not_a_select"),
        ("PRAGMA database_list", "not_a_select"),
        ("SELECT * FROM secrets", "table_not_granted"),
        ("SELECT * FROM main.orders", "qualified_table"),
        ("SELECT getenv('HOME') AS order_id", "function"),
    ],
)
def test_what_cannot_be_contained_is_refused_with_a_reason(
    granted: World, query: str, reason: str
) -> None:
    with pytest.raises(QueryNotAllowed) as refused:
        granted.app.templates.create(granted.principal(), definition(query=query))
    assert refused.value.code == "query_not_allowed"
    assert refused.value.details == {"path": "query", "reason": reason}


def test_an_edit_is_a_new_version_and_an_old_report_keeps_its_own(granted: World) -> None:
    caller = granted.principal()
    granted.app.templates.create(caller, definition())
    old = granted.create(caller, template_id="my_orders")
    assert old.template_version == 1
    edited = granted.app.templates.update(caller, "my_orders", {"name": "Big orders"})
    assert edited.version == 2 and edited.template.name == "Big orders"
    new = granted.create(caller, template_id="my_orders")
    assert new.template_version == 2
    assert granted.app.templates.of_report(caller, old.id).template.name == "My orders"
    assert granted.app.templates.of_report(caller, new.id).template.name == "Big orders"
    ran = granted.run_next()
    assert ran.id == old.id and ran.state is ReportState.FINISHED
    assert granted.generator.runs[-1].template.name == "My orders"  # the version it recorded
    assert '"tenant" = :tenant_id' in granted.generator.runs[-1].template.query


def test_a_patch_merges_and_null_removes_a_key(granted: World) -> None:
    caller = granted.principal()
    granted.app.templates.create(caller, definition(description="first"))
    edited = granted.app.templates.update(
        caller, "my_orders", {"description": None, "parameters": {"properties": {}}}
    )
    assert edited.definition is not None and "description" not in edited.definition
    assert edited.definition["parameters"]["properties"]["floor"]["default"] == 0


def test_an_edit_from_a_stale_version_is_a_conflict(granted: World) -> None:
    caller = granted.principal()
    granted.app.templates.create(caller, definition())
    granted.app.templates.update(caller, "my_orders", {"name": "B"}, expected_version=1)
    with pytest.raises(VersionConflict):
        granted.app.templates.update(caller, "my_orders", {"name": "C"}, expected_version=1)


def test_a_bad_edit_changes_nothing(granted: World) -> None:
    caller = granted.principal()
    granted.app.templates.create(caller, definition())
    with pytest.raises(TemplateInvalid):
        granted.app.templates.update(caller, "my_orders", {"fields": []})
    with pytest.raises(TemplateInvalid):
        granted.app.templates.update(caller, "my_orders", {"id": "renamed"})
    assert granted.app.templates.get(caller, "my_orders").version == 1


def test_operator_templates_are_read_only_and_their_ids_taken(granted: World) -> None:
    caller = granted.principal()
    with pytest.raises(TemplateReadOnly):
        granted.app.templates.update(caller, "orders", {"name": "Mine"})
    with pytest.raises(TemplateReadOnly):
        granted.app.templates.delete(caller, "orders")
    with pytest.raises(AlreadyExists):
        granted.app.templates.create(caller, definition(id="orders"))


def test_a_deleted_template_makes_no_new_report_but_old_ones_show_it(granted: World) -> None:
    caller = granted.principal()
    granted.app.templates.create(caller, definition())
    old = granted.create(caller, template_id="my_orders")
    granted.app.templates.delete(caller, "my_orders")
    with pytest.raises(TemplateNotFound):
        granted.create(caller, template_id="my_orders")
    assert granted.app.templates.of_report(caller, old.id).version == 1


def test_a_revoked_grant_stops_the_tenants_reports(granted: World) -> None:
    caller = granted.principal()
    granted.app.templates.create(caller, definition())
    granted.create(caller, template_id="my_orders")
    granted.app.templates.revoke_source("acme", "shop")
    ran = granted.run_next()
    assert ran.state is ReportState.FAILURE
    assert ran.error is not None and ran.error.code == "source_not_granted"
    assert granted.app.templates.sources("acme") == []
