"""The catalog: lookups that fail the same way everywhere, template reads behind their scope."""

from __future__ import annotations

import pytest

from reportd.domain.errors import (
    FilterSyntaxError,
    Forbidden,
    SourceNotFound,
    StorageNotFound,
    TemplateNotFound,
    ValidationError,
)
from tests.unit.app.conftest import World


def test_lookups_say_what_is_missing(world: World) -> None:
    catalog = world.app.catalog
    with pytest.raises(TemplateNotFound, match="'nope'"):
        catalog.template("nope")
    with pytest.raises(SourceNotFound):
        catalog.source("nope")
    with pytest.raises(StorageNotFound, match="known: \\['default'\\]"):
        catalog.check_storage("archive")
    assert catalog.check_storage(None) == "default"


def test_template_reads_need_their_scope(world: World) -> None:
    reader = world.principal(scopes=("templates:read",))
    assert [t.id for t in world.app.catalog.list_templates(reader)] == ["orders", "samples"]
    with pytest.raises(Forbidden, match="templates:read"):
        world.app.catalog.get_template(world.principal(scopes=("reports:read",)), "orders")


def test_validate_query_checks_as_a_create_would(world: World) -> None:
    caller = world.principal()
    world.app.catalog.validate_query(caller, "orders", 'customer eq "a"', ["-amount"])
    with pytest.raises(FilterSyntaxError):
        world.app.catalog.validate_query(caller, "orders", "customer eq")
    with pytest.raises(ValidationError):
        world.app.catalog.validate_query(caller, "orders", options={"since": 3})
    with pytest.raises(ValidationError):
        world.app.catalog.validate_query(caller, "orders", options={"tenant_id": "globex"})
