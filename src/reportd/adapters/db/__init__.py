"""Metadata and queue over SQLAlchemy: SQLite for the embedded default, PostgreSQL to scale out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from reportd.adapters.db.database import create_db_engine, migrate
from reportd.adapters.db.reports import ReportStore
from reportd.adapters.db.schedules import ScheduleStore
from reportd.adapters.db.tenants import TenantStore
from reportd.domain.errors import Unavailable


@dataclass
class Store:
    engine: Engine
    reports: ReportStore
    tenants: TenantStore
    schedules: ScheduleStore

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> Store:
        engine = create_db_engine(url, pool_size=pool_size)
        return cls(
            engine=engine,
            reports=ReportStore(engine),
            tenants=TenantStore(engine),
            schedules=ScheduleStore(engine),
        )

    def migrate(self) -> None:
        migrate(self.engine)

    def check(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise Unavailable("the metadata database is unavailable") from exc

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["ReportStore", "ScheduleStore", "Store", "TenantStore"]
