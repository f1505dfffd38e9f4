"""Reads at the database's speed: the async read adapter against the sync store, ETag/304 on
report reads, and key revocation seen at once by every HTTP process, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert

from reportd.adapters.db import Store
from reportd.adapters.db.async_reads import async_reads_for
from reportd.adapters.db.rows import artifact_row
from reportd.adapters.db.schema import artifacts
from reportd.app.tenants import hash_key
from reportd.domain.formats import Format, Packaging
from reportd.domain.models import ApiKey, Artifact, Progress, Report, ReportError, Tenant
from reportd.domain.states import ReportState
from tests.integration.test_processes import BIN, _env, serve

pytestmark = pytest.mark.slow


def _report(report_id: str) -> Report:
    return Report(
        id=report_id,
        tenant_id="acme",
        template_id="orders",
        name="Orders — ünïcode",
        state=ReportState.FINISHED,
        formats=(Format.CSV, Format.JSON),
        fields=("order_id", "amount"),
        options={"since": "2024-01-01", "nested": {"a": [1, 2]}},
        filter='amount gt 10 and customer co "A"',
        order_by=("-amount",),
        packaging=Packaging.NONE,
        storage_id="default",
        progress=Progress(rows=42, total_rows=42),
        created_by="ci",
        created_at=datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC),
        started_at=datetime(2026, 12, 1, 10, 0, 1, tzinfo=UTC),
        finished_at=datetime(2026, 12, 1, 10, 0, 2, tzinfo=UTC),
        expires_at=datetime(2026, 12, 2, 10, 0, 2, tzinfo=UTC),
        error=ReportError(code="x", message="kept for the comparison"),
        attempts=1,
    )


def _artifact(report_id: str, fmt: Format, part: int | None) -> Artifact:
    return Artifact(
        report_id=report_id,
        format=fmt,
        packaging=Packaging.NONE,
        filename=f"orders-2026-12-01.{fmt.value}",
        mime_type="text/csv",
        size=1234,
        sha256="ab" * 32,
        storage_key=f"acme/{report_id}/1/orders.{fmt.value}",
        part=part,
        rows=42,
    )


def test_async_reads_return_what_the_store_returns(database_url: str) -> None:
    store = Store.connect(database_url)
    store.migrate()
    store.tenants.create_tenant(Tenant(id="acme", name="Acme", features=frozenset({"f1"})))
    key = ApiKey(
        id="k1", tenant_id="acme", name="ci", scopes=frozenset({"admin"}), key_hash=hash_key("s")
    )
    store.tenants.create_key(key)
    bare, full = str(uuid.uuid4()), str(uuid.uuid4())
    store.reports.insert(_report(bare))
    store.reports.insert(_report(full))
    now = datetime(2026, 12, 1, 10, 0, 3, tzinfo=UTC)
    with store.engine.begin() as conn:
        for fmt, part in ((Format.JSON, None), (Format.CSV, 2), (Format.CSV, 1)):
            conn.execute(insert(artifacts).values(**artifact_row(_artifact(full, fmt, part), now)))
    reads = async_reads_for(store.engine.url.render_as_string(hide_password=False))

    async def compare() -> None:
        await reads.open()
        try:
            for report_id in (bare, full):
                assert await reads.get_report(report_id, "acme") == store.reports.get(
                    report_id, "acme"
                )
            assert len((await reads.get_report(full, "acme")).artifacts) == 3
            with pytest.raises(Exception, match="not found"):
                await reads.get_report(full, "globex")  # another tenant's: not found
            found = await reads.find_key(hash_key("s"))
            assert found == store.tenants.find_key(hash_key("s"))
            assert await reads.find_key(hash_key("nope")) is None
            before = await _version(reads)
            store.tenants.revoke_key("k1")
            assert await reads.find_key(hash_key("s")) is None
            assert await _version(reads) != before  # the revocation moved the version
        finally:
            await reads.close()

    try:
        asyncio.run(compare())
    finally:
        store.close()


async def _version(reads: object) -> int | None:
    """The auth version, given the LISTEN connection a moment to connect and be notified."""
    version = None
    for _ in range(100):
        await asyncio.sleep(0.05)
        version = await reads.auth_version()  # type: ignore[attr-defined]
        if version is not None:
            return version  # type: ignore[no-any-return]
    return version


def _config_extra(database_url: str) -> str:
    return f'\n[database]\nurl = "{database_url}"\n' if "postgresql" in database_url else ""


def test_report_reads_answer_304_when_nothing_changed(tmp_path: Path, database_url: str) -> None:
    extra = _config_extra(database_url)
    with serve(tmp_path, "--no-worker", extra_toml=extra) as served, served.api as api:
        created = api.post("/v1/reports", json={"template_id": "orders", "formats": ["csv"]})
        assert created.status_code == 202
        path = f"/v1/reports/{created.json()['id']}"
        first = api.get(path)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert first.json()["state"] == "CREATED"
        again = api.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b"" and again.headers["etag"] == etag
        weak = api.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
        assert weak.status_code == 304
        assert api.post(f"{path}/cancel").status_code == 200
        changed = api.get(path, headers={"If-None-Match": etag})
        assert changed.status_code == 200  # the state moved: a new body, a new tag
        assert changed.json()["state"] == "CANCELED"
        assert changed.headers["etag"] != etag
        assert api.get("/v1/reports/nope", headers={"If-None-Match": "*"}).status_code == 404


def test_revocation_takes_effect_at_once_in_every_process(
    tmp_path: Path, database_url: str
) -> None:
    extra = _config_extra(database_url)
    with serve(tmp_path, "--http-processes", "2", "--no-worker", extra_toml=extra) as served:
        config = tmp_path / "reportd.toml"
        made = subprocess.run(
            [str(BIN / "reportd"), "keys", "create", "--tenant", "acme", "--name", "poller",
             "--scopes", "reports:read", "--config", str(config)],
            capture_output=True, text=True, check=True, env=_env(),
        )  # fmt: skip
        secret = made.stdout.strip()
        key_id = re.search(r"key id (\S+)", made.stderr).group(1)  # type: ignore[union-attr]
        headers = {"Authorization": f"Bearer {secret}"}

        def statuses(count: int) -> set[int]:
            seen = set()
            for _ in range(count):  # a fresh connection each: both processes answer
                with httpx.Client(base_url=served.url, headers=headers, timeout=30) as client:
                    seen.add(client.get("/v1/reports/no-such-report").status_code)
            return seen

        assert statuses(40) == {404}  # known (and now remembered) in both processes
        revoke = [str(BIN / "reportd"), "keys", "revoke", key_id, "--config", str(config)]
        subprocess.run(revoke, capture_output=True, check=True, env=_env())
        assert statuses(40) == {401}  # no window: the very next requests are refused
        with served.api as api:  # the other keys still work
            assert api.get("/v1/reports/no-such-report").status_code == 404
