"""``POST /v1/templates/{id}/preview``: the first rows and the row count a report would have,
checked like a create, scoped to the caller's tenant, through the API and the SDK."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from reportd.client import AsyncClient, Client
from reportd.domain.errors import FilterSyntaxError, TemplateNotFound
from tests.server_fixtures import RunningServer


def _expected(server: RunningServer, where: str) -> list[tuple[int, float]]:
    database = Path(server.data_dir).parent / "orders.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            f"SELECT order_id, amount FROM orders WHERE tenant = 'acme' AND {where} "
            "ORDER BY amount DESC, order_id"
        ).fetchall()


def test_preview_is_the_rows_a_report_would_have(backend_server: RunningServer) -> None:
    expected = _expected(backend_server, "amount >= 50")
    with Client(backend_server.url, backend_server.admin_key) as client:
        found = client.preview("orders", fields=["order_id", "amount"], filter="amount ge 50",
                               order_by=["-amount", "order_id"])  # fmt: skip
    assert found["fields"] == ["order_id", "amount"]
    assert [(r["order_id"], r["amount"]) for r in found["rows"]] == expected[:50]
    assert found["row_count"] == len(expected) and found["limit"] == 50


def test_preview_refuses_what_a_create_refuses(backend_server: RunningServer) -> None:
    with Client(backend_server.url, backend_server.admin_key) as client:
        with pytest.raises(FilterSyntaxError):
            client.preview("orders", filter="amount ge")
        with pytest.raises(TemplateNotFound):
            client.preview("nope")
    reader = backend_server.make_key(name="no-reads", scopes=("templates:read",))
    answer = httpx.post(f"{backend_server.url}/v1/templates/orders/preview", json={},
                        headers={"Authorization": f"Bearer {reader}"})  # fmt: skip
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"


def test_another_tenant_previews_only_its_own_rows(backend_server: RunningServer) -> None:
    other = backend_server.make_key(tenant="globex", name="other", scopes=("reports:read",))
    with Client(backend_server.url, other) as client:
        found = client.preview("orders", fields=["order_id"])
    mine = {r[0] for r in _expected(backend_server, "true")}
    assert not mine & {r["order_id"] for r in found["rows"]}


def test_async_client_previews_too(backend_server: RunningServer) -> None:
    async def scenario() -> dict[str, Any]:
        async with AsyncClient(backend_server.url, backend_server.admin_key) as client:
            return await client.preview("orders", options={"since": "2024-03-01"})

    found = asyncio.run(scenario())
    assert found["row_count"] == len(found["rows"]) == 4
