"""TemplateRepository and SourceGrantRepository: versions kept, tenants apart, edits in order."""

from __future__ import annotations

import threading

import pytest

from reportd.app import ports
from reportd.domain.errors import AlreadyExists, NotFound, TemplateNotFound, VersionConflict
from reportd.domain.tenant_templates import SourceGrant, TenantTemplate
from tests.contract.records import in_threads


def new_template(
    tenant: str = "t1", template_id: str = "sales", **definition: object
) -> TenantTemplate:
    body = {"id": template_id, "name": "Sales", "source": "shop", "query": "SELECT 1 AS a"}
    body.update(definition)
    return TenantTemplate(
        tenant_id=tenant, id=template_id, version=0, definition=body, updated_by="alice"
    )


def test_a_template_reads_back_as_version_one(store: ports.Store) -> None:
    stored = store.templates.insert(new_template(fields=[{"name": "a", "type": "integer"}]))
    assert stored.version == 1
    assert stored.created_at is not None and stored.updated_at == stored.created_at
    found = store.templates.get("t1", "sales")
    assert found == stored
    assert found.definition["fields"] == [{"name": "a", "type": "integer"}]
    assert found.updated_by == "alice"


def test_another_tenants_template_is_not_found(store: ports.Store) -> None:
    store.templates.insert(new_template())
    with pytest.raises(TemplateNotFound):
        store.templates.get("t2", "sales")
    assert store.templates.list("t2") == []
    with pytest.raises(TemplateNotFound):
        store.templates.update(new_template("t2"), 1)
    with pytest.raises(TemplateNotFound):
        store.templates.delete("t2", "sales")


def test_the_same_id_in_two_tenants_is_two_templates(store: ports.Store) -> None:
    store.templates.insert(new_template("t1", name="One"))
    store.templates.insert(new_template("t2", name="Two"))
    assert store.templates.get("t1", "sales").definition["name"] == "One"
    assert store.templates.get("t2", "sales").definition["name"] == "Two"


def test_a_second_insert_of_a_live_id_is_refused(store: ports.Store) -> None:
    store.templates.insert(new_template())
    with pytest.raises(AlreadyExists):
        store.templates.insert(new_template())


def test_an_update_adds_a_version_and_keeps_the_old_one(store: ports.Store) -> None:
    first = store.templates.insert(new_template(name="Old"))
    second = store.templates.update(new_template(name="New"), expected_version=1)
    assert second.version == 2
    assert second.created_at == first.created_at
    assert store.templates.get("t1", "sales").definition["name"] == "New"
    assert store.templates.get("t1", "sales", version=1).definition["name"] == "Old"
    assert store.templates.get("t1", "sales", version=2).definition["name"] == "New"
    with pytest.raises(TemplateNotFound):
        store.templates.get("t1", "sales", version=3)


def test_an_update_from_a_stale_version_is_a_conflict(store: ports.Store) -> None:
    store.templates.insert(new_template())
    store.templates.update(new_template(name="B"), expected_version=1)
    with pytest.raises(VersionConflict):
        store.templates.update(new_template(name="C"), expected_version=1)
    assert store.templates.get("t1", "sales").definition["name"] == "B"


def test_of_edits_racing_from_one_version_one_wins(store: ports.Store) -> None:
    store.templates.insert(new_template())
    won: list[int] = []
    lock = threading.Lock()

    def edit(i: int) -> None:
        try:
            store.templates.update(new_template(name=f"edit {i}"), expected_version=1)
        except VersionConflict:
            return
        with lock:
            won.append(i)

    in_threads(4, edit)
    assert len(won) == 1
    assert store.templates.get("t1", "sales").version == 2


def test_a_deleted_template_keeps_its_versions_readable_by_number(store: ports.Store) -> None:
    store.templates.insert(new_template(name="Old"))
    store.templates.delete("t1", "sales")
    with pytest.raises(TemplateNotFound):
        store.templates.get("t1", "sales")
    assert store.templates.list("t1") == []
    assert store.templates.get("t1", "sales", version=1).definition["name"] == "Old"
    with pytest.raises(TemplateNotFound):
        store.templates.delete("t1", "sales")


def test_made_again_after_a_delete_it_goes_on_numbering(store: ports.Store) -> None:
    store.templates.insert(new_template(name="Old"))
    store.templates.update(new_template(name="Older"), expected_version=1)
    store.templates.delete("t1", "sales")
    again = store.templates.insert(new_template(name="New"))
    assert again.version == 3
    assert store.templates.get("t1", "sales", version=1).definition["name"] == "Old"


def test_list_holds_the_latest_version_of_each_live_template_by_id(store: ports.Store) -> None:
    store.templates.insert(new_template(template_id="b"))
    store.templates.insert(new_template(template_id="a"))
    store.templates.update(new_template(template_id="a", name="A2"), expected_version=1)
    store.templates.insert(new_template(template_id="c"))
    store.templates.delete("t1", "c")
    found = store.templates.list("t1")
    assert [(t.id, t.version) for t in found] == [("a", 2), ("b", 1)]
    assert found[0].definition["name"] == "A2"


def test_changing_a_returned_definition_changes_nothing_stored(store: ports.Store) -> None:
    store.templates.insert(new_template(fields=[{"name": "a"}]))
    store.templates.get("t1", "sales").definition["fields"].append({"name": "b"})  # type: ignore[attr-defined]
    assert store.templates.get("t1", "sales").definition["fields"] == [{"name": "a"}]


def test_a_grant_reads_back_and_is_replaced_by_a_new_one(store: ports.Store) -> None:
    assert store.grants.get("t1", "shop") is None
    first = store.grants.grant(
        SourceGrant(tenant_id="t1", source="shop", tables=("orders",), tenant_column="tenant")
    )
    assert first.created_at is not None
    assert store.grants.get("t1", "shop") == first
    store.grants.grant(SourceGrant(tenant_id="t1", source="shop", tables=("orders", "items")))
    found = store.grants.get("t1", "shop")
    assert found is not None
    assert found.tables == ("orders", "items") and found.tenant_column is None
    assert store.grants.get("t2", "shop") is None


def test_grants_are_listed_per_tenant_by_source_and_revoked(store: ports.Store) -> None:
    store.grants.grant(SourceGrant(tenant_id="t1", source="zoo"))
    store.grants.grant(SourceGrant(tenant_id="t1", source="shop"))
    store.grants.grant(SourceGrant(tenant_id="t2", source="shop"))
    assert [g.source for g in store.grants.list("t1")] == ["shop", "zoo"]
    store.grants.revoke("t1", "shop")
    assert [g.source for g in store.grants.list("t1")] == ["zoo"]
    assert store.grants.get("t2", "shop") is not None
    with pytest.raises(NotFound):
        store.grants.revoke("t1", "shop")
