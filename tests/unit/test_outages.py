"""Outages become domain errors in one place, metrics survive them, logs name the report."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from reportd.adapters.db import Store
from reportd.adapters.db.database import write_transaction
from reportd.adapters.db.listen import listen_dsn
from reportd.domain.errors import DatabaseUnavailable, Unavailable
from reportd.obs.logs import ReportContextFilter, report_logging
from reportd.obs.metrics import Metrics
from tests.storage_fixtures import free_ports


def unreachable_store() -> Store:
    port = free_ports(1)[0]  # nothing listens there
    return Store.connect(f"postgresql+psycopg://postgres@127.0.0.1:{port}/nothing")


def test_an_unreachable_database_is_unavailable_not_a_driver_error() -> None:
    store = unreachable_store()
    with pytest.raises(DatabaseUnavailable) as caught:
        store.reports.get("any")
    assert caught.value.code == "unavailable"
    assert caught.value.status == 503
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)  # the cause is kept
    with pytest.raises(Unavailable):
        store.check()
    store.close()


def test_sqlite_syntax_errors_stay_bugs_not_outages(tmp_path: Path) -> None:
    store = Store.connect(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(OperationalError), write_transaction(store.engine) as conn:
        conn.exec_driver_sql("SELEC 1")
    store.close()


def test_queue_gauges_say_the_database_is_down_instead_of_failing_the_scrape() -> None:
    store = unreachable_store()
    metrics = Metrics()
    metrics.watch_queue(store.queue)
    text = metrics.render().decode()
    assert "reportd_database_up 0.0" in text
    assert "reportd_queue_depth " not in text
    store.close()


def test_metrics_live_in_their_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.lease_expiries.inc(3)
    first.webhook_failed(final=True)
    assert "reportd_lease_expiries_total 3.0" in first.render().decode()
    assert 'reportd_webhook_failures_total{final="true"} 1.0' in first.render().decode()
    assert "reportd_lease_expiries_total 0.0" in second.render().decode()


def test_listen_only_on_postgresql() -> None:
    assert listen_dsn("sqlite:///x.db") is None
    dsn = listen_dsn("postgresql+psycopg://u:p@127.0.0.1:5/db")
    assert dsn == "postgresql://u:p@127.0.0.1:5/db"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(ReportContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_every_line_logged_while_running_a_report_names_it() -> None:
    handler = Records()
    root = logging.getLogger("reportd")
    root.addHandler(handler)
    try:
        with report_logging("r-1"):
            logging.getLogger("reportd.generation.pipeline").warning("from the pipeline")
            logging.getLogger("reportd.adapters.sources.sql").warning(
                "given", extra={"report_id": "r-2"}
            )
        logging.getLogger("reportd.app.service").warning("after")
    finally:
        root.removeHandler(handler)
    ids = [getattr(r, "report_id", None) for r in handler.records]
    assert ids == ["r-1", "r-2", None]


def test_a_pooled_connection_broken_mid_restart_is_unavailable_not_a_500() -> None:
    """asyncpg's state error for a connection the stopping server left mid-operation."""
    import asyncio

    import asyncpg

    from reportd.adapters.db.async_reads import PostgresReads

    class BrokenPool:  # the state asyncpg's pool handed out while PostgreSQL restarted
        async def fetchrow(self, sql: str, *args: object) -> object:
            raise asyncpg.InternalClientError(
                "cannot switch to state 12; another operation (2) is in progress"
            )

    reads = PostgresReads("postgresql://postgres@127.0.0.1:1/none")
    reads._pool = BrokenPool()
    with pytest.raises(DatabaseUnavailable) as caught:
        asyncio.run(reads.find_key("any"))
    assert caught.value.status == 503
    assert isinstance(caught.value.__cause__, asyncpg.InternalClientError)
