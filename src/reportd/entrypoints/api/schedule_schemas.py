"""Wire models of the schedule routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reportd.app.schedules import ScheduleChanges
from reportd.domain.formats import Format, Packaging
from reportd.domain.models import GENERATED_PASSWORD, Schedule


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    options: dict[str, Any] = Field(default_factory=dict)
    fields: list[str] | None = None
    filter: str | None = Field(default=None, max_length=10_000)
    order_by: list[str] = Field(default_factory=list)
    formats: list[str] = Field(min_length=1, max_length=6)
    packaging: Literal["none", "zip", "gzip"] = "none"
    zip_password: bool | str | None = None
    storage_id: str | None = None
    cron: str | None = Field(default=None, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    enabled: bool = True
    destinations: list[str] = Field(default_factory=list, max_length=10)

    def to_schedule(self) -> Schedule:
        password = GENERATED_PASSWORD if self.zip_password is True else self.zip_password or None
        return Schedule(
            id="",
            tenant_id="",
            template_id=self.template_id,
            name=self.name,
            formats=_formats(self.formats),
            options=self.options,
            fields=tuple(self.fields) if self.fields is not None else None,
            filter=self.filter,
            order_by=tuple(self.order_by),
            packaging=Packaging(self.packaging),
            zip_password=password,
            storage_id=self.storage_id,
            cron=self.cron,
            timezone=self.timezone,
            enabled=self.enabled,
            destinations=tuple(self.destinations),
        )


def _formats(names: list[str]) -> tuple[Format, ...]:
    return tuple(Format.parse(n) for n in names)


class ScheduleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=300)
    enabled: bool | None = None
    cron: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    options: dict[str, Any] | None = None
    formats: list[str] | None = Field(default=None, min_length=1, max_length=6)
    destinations: list[str] | None = Field(default=None, max_length=10)

    def to_changes(self) -> ScheduleChanges:
        sent = self.model_fields_set
        return ScheduleChanges(
            name=self.name,
            enabled=self.enabled,
            cron=self.cron,
            timezone=self.timezone,
            options=self.options,
            formats=self.formats,
            destinations=self.destinations,
            clear_cron="cron" in sent and self.cron is None,
        )


class SchedulePublic(BaseModel):
    id: str
    tenant_id: str
    template_id: str
    name: str
    options: dict[str, Any]
    fields: list[str] | None
    filter: str | None
    order_by: list[str]
    formats: list[str]
    packaging: str
    cron: str | None
    timezone: str
    enabled: bool
    created_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    next_fire_at: datetime | None
    last_fired_at: datetime | None
    destinations: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, schedule: Schedule) -> SchedulePublic:
        return cls(
            id=schedule.id,
            tenant_id=schedule.tenant_id,
            template_id=schedule.template_id,
            name=schedule.name,
            options=dict(schedule.options),
            fields=list(schedule.fields) if schedule.fields is not None else None,
            filter=schedule.filter,
            order_by=list(schedule.order_by),
            formats=[f.value for f in schedule.formats],
            packaging=schedule.packaging.value,
            cron=schedule.cron,
            timezone=schedule.timezone,
            enabled=schedule.enabled,
            created_by=schedule.created_by,
            created_at=schedule.created_at,
            updated_at=schedule.updated_at,
            next_fire_at=schedule.next_fire_at,
            last_fired_at=schedule.last_fired_at,
            destinations=list(schedule.destinations),
        )


class SchedulesPublic(BaseModel):
    results: list[SchedulePublic]
    total_count: int
