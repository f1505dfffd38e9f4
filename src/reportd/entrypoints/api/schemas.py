"""The native API's report, template and error bodies as pydantic models, and the download
routes' OpenAPI responses.

Pydantic stays at the edges: these shapes (with ``schedule_schemas``, ``webhook_schemas`` and
``destination_schemas`` beside them), the dialects' bodies, the gRPC door's and the settings
(``reportd.config``). The domain and the use cases never import it (import-linter contracts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reportd.app.tenant_templates import TemplateView
from reportd.domain import paging
from reportd.domain.destinations import ReportDelivery
from reportd.domain.formats import Format
from reportd.domain.models import Artifact, ReportRequest, Template
from reportd.domain.models import Report as DomainReport


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: str = Field(min_length=1, max_length=100)
    name: str | None = Field(default=None, max_length=300)
    options: dict[str, Any] = Field(default_factory=dict)
    fields: list[str] | None = None
    filter: str | None = Field(default=None, max_length=10_000)
    order_by: list[str] = Field(default_factory=list)
    formats: list[str] = Field(min_length=1, max_length=6)
    packaging: Literal["none", "zip", "gzip"] = "none"
    zip_password: bool | str | None = None
    # None: the template's (AES-256 unless it says zipcrypto); see domain.formats.ZipEncryption
    zip_encryption: Literal["aes256", "zipcrypto"] | None = None
    storage_id: str | None = None
    expires_in: int | None = Field(default=None, gt=0)
    callback_url: str | None = Field(default=None, max_length=2000)
    destinations: list[str] = Field(default_factory=list, max_length=10)

    def to_request(self) -> ReportRequest:
        return ReportRequest(
            template_id=self.template_id,
            name=self.name,
            options=self.options,
            fields=tuple(self.fields) if self.fields is not None else None,
            filter=self.filter,
            order_by=tuple(self.order_by),
            formats=tuple(self.formats),
            packaging=self.packaging,
            zip_password=self.zip_password,
            zip_encryption=self.zip_encryption,
            storage_id=self.storage_id,
            expires_in=self.expires_in,
            callback_url=self.callback_url,
            destinations=tuple(self.destinations),
        )


class ProgressPublic(BaseModel):
    rows: int
    total_rows: int | None
    percent: float | None


class ErrorPublic(BaseModel):
    code: str
    message: str


class ArtifactPublic(BaseModel):
    format: str
    packaging: str
    filename: str
    mime_type: str
    size: int
    sha256: str
    part: int | None = None
    rows: int

    @classmethod
    def of(cls, artifact: Artifact) -> ArtifactPublic:
        return cls(
            format=artifact.format.value,
            packaging=artifact.packaging.value,
            filename=artifact.filename,
            mime_type=artifact.mime_type,
            size=artifact.size,
            sha256=artifact.sha256,
            part=artifact.part,
            rows=artifact.rows,
        )


class DeliveryPublic(BaseModel):
    destination_id: str
    state: str  # pending | delivered | failed | skipped
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None

    @classmethod
    def of(cls, delivery: ReportDelivery) -> DeliveryPublic:
        return cls(
            destination_id=delivery.destination_id,
            state=delivery.state.value,
            attempts=delivery.attempts,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
        )


class ReportLinks(BaseModel):
    self: str
    events: str
    download: str
    cancel: str


class ReportPublic(BaseModel):
    id: str
    tenant_id: str
    template_id: str
    template_version: int | None = None  # a tenant template's version it ran; None: operator's
    name: str
    state: str
    options: dict[str, Any]
    fields: list[str]
    filter: str | None
    order_by: list[str]
    formats: list[str]
    packaging: str
    zip_password: str | None = None
    progress: ProgressPublic
    created_by: str | None
    schedule_id: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    error: ErrorPublic | None
    storage_id: str
    artifacts: list[ArtifactPublic]
    links: ReportLinks
    scheduled_for: datetime | None = None
    deduplicated: bool = False
    destinations: list[str] = Field(default_factory=list)
    deliveries: list[DeliveryPublic] = Field(default_factory=list)

    @classmethod
    def of(cls, report: DomainReport) -> ReportPublic:
        base = f"/v1/reports/{report.id}"
        return cls(
            id=report.id,
            tenant_id=report.tenant_id,
            template_id=report.template_id,
            template_version=report.template_version,
            name=report.name,
            state=report.state.value,
            options=dict(report.options),
            fields=list(report.fields),
            filter=report.filter,
            order_by=list(report.order_by),
            formats=[f.value for f in report.formats],
            packaging=report.packaging.value,
            zip_password=report.zip_password,
            progress=ProgressPublic(
                rows=report.progress.rows,
                total_rows=report.progress.total_rows,
                percent=report.progress.percent,
            ),
            created_by=report.created_by,
            schedule_id=report.schedule_id,
            created_at=report.created_at,
            started_at=report.started_at,
            finished_at=report.finished_at,
            expires_at=report.expires_at,
            error=ErrorPublic(code=report.error.code, message=report.error.message)
            if report.error
            else None,
            storage_id=report.storage_id,
            artifacts=[ArtifactPublic.of(a) for a in report.artifacts],
            scheduled_for=report.scheduled_for,
            deduplicated=report.deduplicated,
            destinations=list(report.destinations),
            deliveries=[DeliveryPublic.of(d) for d in report.deliveries],
            links=ReportLinks(
                self=base,
                events=f"{base}/events",
                download=f"{base}/download",
                cancel=f"{base}/cancel",
            ),
        )


class ReportsPublic(BaseModel):
    results: list[ReportPublic]
    total_count: int
    next_cursor: str | None


class DownloadUrlPublic(BaseModel):
    download_url: str
    expires_at: datetime
    filename: str
    file_size: int
    mime_type: str
    sha256: str


class FieldPublic(BaseModel):
    name: str
    type: str
    label: str | None
    filterable: bool
    sortable: bool


class TemplatePublic(BaseModel):
    id: str
    name: str
    description: str
    fields: list[FieldPublic]
    parameters: dict[str, Any]
    formats: list[str]
    display_name: str | None
    timeout: int
    retention: int
    origin: str = "operator"  # operator: a read-only file; tenant: the tenant's own
    version: int | None = None  # a tenant template's, bumped by each PATCH
    updated_at: datetime | None = None
    definition: dict[str, Any] | None = None  # a tenant template's model, as it was sent

    @classmethod
    def of_view(cls, view: TemplateView) -> TemplatePublic:
        public = cls.of(view.template)
        if view.stored is None:
            return public
        return public.model_copy(
            update={
                "origin": view.origin,
                "version": view.version,
                "updated_at": view.updated_at,
                "definition": dict(view.definition or {}),
            }
        )

    @classmethod
    def of(cls, template: Template) -> TemplatePublic:
        return cls(
            id=template.id,
            name=template.name,
            description=template.description,
            fields=[
                FieldPublic(
                    name=f.name,
                    type=f.type.value,
                    label=f.label,
                    filterable=f.filterable,
                    sortable=f.sortable,
                )
                for f in template.fields
            ],
            parameters=dict(template.parameters),
            formats=[f.value for f in template.formats],
            display_name=template.display_name,
            timeout=template.timeout,
            retention=template.retention,
        )


class TemplatesPublic(BaseModel):
    results: list[TemplatePublic]
    total_count: int


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


MAX_OFFSET = paging.MAX_OFFSET  # the page rule is the domain's (reportd.domain.paging)

# What a download route declares: every artifact media type (a packaging wraps it in zip/gzip).
_ARTIFACT_TYPES = sorted({f.mime_type for f in Format} | {"application/zip", "application/gzip"})
_BINARY = {"schema": {"type": "string", "format": "binary"}}
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The artifact.", "content": dict.fromkeys(_ARTIFACT_TYPES, _BINARY)},
    206: {
        "description": "The byte range asked for by `Range`.",
        "content": dict.fromkeys(_ARTIFACT_TYPES, _BINARY),
    },
    304: {"description": "Not modified: `If-None-Match` names the current ETag."},
}
