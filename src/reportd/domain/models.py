"""Domain records: frozen dataclasses, changed only through ``evolve`` copies."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from reportd.domain.destinations import ReportDelivery
from reportd.domain.display import Display, TotalKind
from reportd.domain.formats import FieldType, Format, Packaging, ZipEncryption
from reportd.domain.states import ReportState


class Evolvable:
    def evolve(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


class Scope(StrEnum):
    REPORTS_READ = "reports:read"
    REPORTS_WRITE = "reports:write"
    TEMPLATES_READ = "templates:read"
    TEMPLATES_WRITE = "templates:write"
    SCHEDULES_READ = "schedules:read"
    SCHEDULES_WRITE = "schedules:write"
    ADMIN = "admin"


GENERATED_PASSWORD = "true"  # noqa: S105 - a marker: "a new zip password each run"


class Feature(StrEnum):
    CUSTOM_REPORTS = "custom_reports"


@dataclass(frozen=True, slots=True)
class Tenant(Evolvable):
    id: str
    name: str
    features: frozenset[str] = frozenset()
    created_at: datetime | None = None

    def has_feature(self, feature: str) -> bool:
        return feature in self.features


@dataclass(frozen=True, slots=True)
class ApiKey(Evolvable):
    """A stored key: only the hash of its secret is kept."""

    id: str
    tenant_id: str
    name: str
    scopes: frozenset[str]
    key_hash: str
    created_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key of a tenant, resolved by authentication."""

    tenant: Tenant
    key_id: str
    name: str
    scopes: frozenset[str]

    @property
    def tenant_id(self) -> str:
        return self.tenant.id

    def has_scope(self, scope: str) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: FieldType = FieldType.STRING
    label: str | None = None
    filterable: bool = False
    sortable: bool = False
    precision: int | None = None  # decimal only: total digits (default: the source's, or 38)
    scale: int | None = None  # decimal only: digits after the point (default: the source's)
    timezone: str | None = None  # datetime only: write instants in this zone (e.g. "UTC")

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True, slots=True)
class ChartSpec:
    type: str  # bar | line | pie
    x: str
    y: str


@dataclass(frozen=True, slots=True)
class PdfLayout:
    title: str | None = None
    columns: tuple[str, ...] = ()
    chart: ChartSpec | None = None
    landscape: bool | None = None
    row_cap: int = 100_000
    max_pages: int | None = None  # the table stops here, and the last page says so


CSV_DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """How a template's CSV is laid out for the program that opens it.

    Excel guesses a BOM-less file's encoding from the system's code page (Korean turns to
    mojibake), and in much of Europe it splits columns on ``;``, not ``,``.
    """

    bom: bool = False
    delimiter: str = ","
    formatted: bool = False  # cells as the template's display formats show them, not raw


@dataclass(frozen=True, slots=True)
class Template(Evolvable):
    id: str
    name: str
    source: str
    query: str
    fields: tuple[Field, ...]
    formats: tuple[Format, ...]
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    display_name: str | None = None
    timeout: int = 600
    retention: int = 86_400
    subject: Mapping[str, Any] | None = None
    pdf: PdfLayout | None = None
    csv: CsvLayout = CsvLayout()
    display: Display = field(default_factory=Display)
    totals: tuple[tuple[str, TotalKind], ...] = ()  # (field, kind), in the template's order
    max_rows_per_file: int | None = None
    max_bytes_per_file: int | None = None
    keep_data: bool = False
    dedup_window: int | None = None
    zip_encryption: ZipEncryption = ZipEncryption.AES256  # of its password-protected zips
    tenant_id: str | None = None  # None: a global template from the templates directory
    version: int | None = None  # a tenant template's version; None for the operator's files

    @property
    def file_stem(self) -> str:
        return self.display_name or self.name

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def fields_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


@dataclass(frozen=True, slots=True)
class Progress:
    rows: int = 0
    total_rows: int | None = None

    @property
    def percent(self) -> float | None:
        if self.total_rows is None:
            return None
        if self.total_rows == 0:
            return 100.0
        return round(min(100.0, 100.0 * self.rows / self.total_rows), 1)


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What a client asks for, before validation against the template."""

    template_id: str
    formats: tuple[str, ...]
    name: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    fields: tuple[str, ...] | None = None
    filter: str | None = None
    order_by: tuple[str, ...] = ()
    packaging: str = Packaging.NONE.value
    zip_password: bool | str | None = None
    storage_id: str | None = None
    expires_in: int | None = None
    callback_url: str | None = None
    schedule_id: str | None = None
    subject: str | None = None  # the entity a per-subject report is about (e.g. a sample hash)
    expires_at: datetime | None = None  # an absolute end of retention, when the caller has one
    zip_encryption: str | None = None  # None: the template's
    destinations: tuple[str, ...] = ()  # ids of the tenant's destinations to deliver it to


@dataclass(frozen=True, slots=True)
class Artifact(Evolvable):
    report_id: str
    format: Format
    packaging: Packaging
    filename: str
    mime_type: str
    size: int
    sha256: str
    storage_key: str
    part: int | None = None
    rows: int = 0
    zip_password: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportError:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Report(Evolvable):
    id: str
    tenant_id: str
    template_id: str
    name: str
    state: ReportState
    formats: tuple[Format, ...]
    fields: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    filter: str | None = None
    order_by: tuple[str, ...] = ()
    packaging: Packaging = Packaging.NONE
    zip_password: str | None = None
    storage_id: str = "default"
    progress: Progress = Progress()
    created_by: str | None = None
    created_by_id: str | None = None  # the id of the key, OAuth client or user that made it
    schedule_id: str | None = None
    callback_url: str | None = None
    expires_in: int | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    expires_at: datetime | None = None
    error: ReportError | None = None
    attempts: int = 0
    cancel_requested: bool = False
    artifacts: tuple[Artifact, ...] = ()
    scheduled_for: datetime | None = None
    dedup_key: str | None = None
    deduplicated: bool = False  # not stored: this create returned an existing report
    subject: str | None = None
    data_key: str | None = None
    zip_encryption: ZipEncryption = ZipEncryption.AES256
    destinations: tuple[str, ...] = ()  # where it goes once FINISHED (reportd.app.deliveries)
    deliveries: tuple[ReportDelivery, ...] = ()  # read with the report, one per destination
    template_version: int | None = None  # the tenant template's version it ran; None: operator's

    def artifacts_for(self, fmt: Format) -> tuple[Artifact, ...]:
        return tuple(a for a in self.artifacts if a.format == fmt)


@dataclass(frozen=True, slots=True)
class Schedule(Evolvable):
    """A saved report definition; with a cron expression it also fires on its own."""

    id: str
    tenant_id: str
    template_id: str
    name: str
    formats: tuple[Format, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    fields: tuple[str, ...] | None = None
    filter: str | None = None
    order_by: tuple[str, ...] = ()
    packaging: Packaging = Packaging.NONE
    zip_password: str | None = None
    storage_id: str | None = None
    cron: str | None = None
    timezone: str = "UTC"
    enabled: bool = True
    created_by: str | None = None
    created_by_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    next_fire_at: datetime | None = None
    last_fired_at: datetime | None = None
    destinations: tuple[str, ...] = ()

    def request(self) -> ReportRequest:
        """What each run of this schedule asks for."""
        return ReportRequest(
            template_id=self.template_id,
            formats=tuple(f.value for f in self.formats),
            name=self.name,
            options=self.options,
            fields=self.fields,
            filter=self.filter,
            order_by=self.order_by,
            packaging=self.packaging.value,
            zip_password=True if self.zip_password == GENERATED_PASSWORD else self.zip_password,
            storage_id=self.storage_id,
            schedule_id=self.id,
            destinations=self.destinations,
        )
