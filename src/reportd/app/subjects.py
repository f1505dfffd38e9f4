"""Per-subject reports: one report about one row of a template, found by a key of that row.

Spectra Analyze makes one PDF per sample and names the sample by its MD5, SHA1 or SHA256.
A template opts in with ``subject: {keys: {md5: <column>, sha1: <column>, sha256: <column>}}``;
this use case owns the rules every caller of such reports needs, so no router holds them:

- a key is a hash told apart by its length (32, 40 or 64 hex digits); anything else is
  :class:`MalformedSubjectKey`; hex case does not matter (keys are kept lowercase, and the
  template's rows are expected to hold lowercase hex, as every hash tool prints it);
- the row must exist for the caller's tenant (the template query, filtered to it), else
  :class:`SubjectNotFound`;
- the report is the template filtered to that row (``<column> eq "<hash>"``), carrying the
  hash as its ``subject``: asked for by MD5 it is not found by the same sample's SHA1;
- asking again while a report is queued, running or ready (and not past its absolute expiry)
  hands back that report; a failed, canceled or expired one is replaced by a new one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from reportd.app.access import require
from reportd.app.catalog import Catalog
from reportd.app.downloads import Download, Downloads
from reportd.app.options import resolve_options
from reportd.app.reports import Reports
from reportd.domain.errors import (
    MalformedSubjectKey,
    NoSubjectReport,
    SubjectNotFound,
    ValidationError,
)
from reportd.domain.filters import format_literal
from reportd.domain.models import Principal, Report, ReportRequest, Scope, Template
from reportd.domain.query import build_report_query
from reportd.domain.states import ReportState

if TYPE_CHECKING:
    from reportd.app.ports import ReportRepository, SubjectRepository

__all__ = [
    "MalformedSubjectKey",
    "NoSubjectReport",
    "SubjectKey",
    "SubjectNotFound",
    "SubjectState",
    "SubjectStatus",
    "Subjects",
    "parse_hash",
]

HASH_KINDS: Final = {32: "md5", 40: "sha1", 64: "sha256"}
_HEX: Final = re.compile(r"[0-9a-fA-F]+")


class SubjectState(StrEnum):
    MISSING = "missing"  # never asked for, or gone: expired, canceled
    PENDING = "pending"  # queued or running
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """A well-formed key: its hash kind, its lowercase value and the column it is found in."""

    kind: str
    value: str
    column: str

    @property
    def filter(self) -> str:
        """The report's filter: the template narrowed to this one row."""
        return f"{self.column} eq {format_literal(self.value)}"


@dataclass(frozen=True, slots=True)
class SubjectStatus:
    state: SubjectState
    report: Report | None = None


def parse_hash(text: str) -> tuple[str, str]:
    """``(kind, lowercase hex)`` of an MD5, SHA1 or SHA256; MalformedSubjectKey otherwise."""
    kind = HASH_KINDS.get(len(text))
    if kind is None or _HEX.fullmatch(text) is None:
        raise MalformedSubjectKey()
    return kind, text.lower()


def subject_state(report: Report | None, now: datetime) -> SubjectState:
    if report is None or report.state in (ReportState.EXPIRED, ReportState.CANCELED):
        return SubjectState.MISSING
    if report.expires_at is not None and report.expires_at <= now:
        return SubjectState.MISSING  # past its life; the retention sweep is about to remove it
    if report.state in (ReportState.CREATED, ReportState.IN_PROGRESS):
        return SubjectState.PENDING
    if report.state is ReportState.FINISHED:
        return SubjectState.READY
    return SubjectState.FAILED


class Subjects:
    """Find, make and open per-subject reports.

    Over the subjects port (the newest report per subject), the reports port, the catalog
    (the template and its source), and the reports and downloads use cases.
    """

    def __init__(
        self,
        *,
        subjects: SubjectRepository,
        reports: ReportRepository,
        catalog: Catalog,
        create: Reports,
        downloads: Downloads,
    ) -> None:
        self._index = subjects
        self._reports = reports
        self._catalog = catalog
        self._create = create
        self._downloads = downloads

    def resolve(self, principal: Principal, template_id: str, key: str) -> SubjectKey:
        """The subject behind ``key``: a well-formed hash of a row the caller's tenant has."""
        require(principal, Scope.REPORTS_READ)
        template = self._catalog.template(template_id, principal.tenant_id)
        kind, value = parse_hash(key)
        subject = SubjectKey(kind=kind, value=value, column=_key_column(template, kind))
        if not self._row_exists(template, principal.tenant_id, subject):
            raise SubjectNotFound()
        return subject

    def request_report(
        self,
        principal: Principal,
        template_id: str,
        key: str,
        *,
        formats: Sequence[str],
        ttl: int,
    ) -> Report:
        """The live report about ``key``, or a new one that lives ``ttl`` seconds from now."""
        subject = self.resolve(principal, template_id, key)
        now = datetime.now(UTC)
        current = self._newest(principal, template_id, subject)
        if subject_state(current, now) in (SubjectState.PENDING, SubjectState.READY):
            assert current is not None
            return current
        request = ReportRequest(
            template_id=template_id,
            formats=tuple(formats),
            filter=subject.filter,
            subject=subject.value,
            expires_at=now + timedelta(seconds=ttl),
        )
        return self._create.create(principal, request)

    def status(self, principal: Principal, template_id: str, key: str) -> SubjectStatus:
        subject = self.resolve(principal, template_id, key)
        report = self._newest(principal, template_id, subject)
        state = subject_state(report, datetime.now(UTC))
        return SubjectStatus(
            state=state, report=report if state is not SubjectState.MISSING else None
        )

    def open_download(
        self, principal: Principal, template_id: str, key: str, fmt: str | None
    ) -> Download:
        """The ready report's file; NoSubjectReport while there is none (yet, or any more)."""
        found = self.status(principal, template_id, key)
        if found.state is not SubjectState.READY or found.report is None:
            raise NoSubjectReport()
        return self._downloads.open_download(principal, found.report.id, fmt)

    def _newest(self, principal: Principal, template_id: str, subject: SubjectKey) -> Report | None:
        report_id = self._index.newest(principal.tenant_id, template_id, subject.value)
        if report_id is None:
            return None
        return self._reports.get(report_id, principal.tenant_id)

    def _row_exists(self, template: Template, tenant_id: str, subject: SubjectKey) -> bool:
        query = build_report_query(
            template.query, [subject.column], template.fields_by_name, subject.filter, ()
        )
        params = {**resolve_options(template, {}), **query.params, "tenant_id": tenant_id}
        source = self._catalog.source(template.source)
        with source.stream(query.sql, params, batch_size=1) as stream:
            return any(batch.num_rows > 0 for batch in stream)


def _key_column(template: Template, kind: str) -> str:
    """The template's column for ``kind``; the template must declare it as a filterable field."""
    keys = (template.subject or {}).get("keys") or {}
    column = keys.get(kind)
    if not column:
        raise ValidationError(
            f"template {template.id!r} has no subject key for {kind}; it has {sorted(keys)}"
        )
    field = template.field(str(column))
    if field is None or not field.filterable:
        raise ValidationError(
            f"template {template.id!r}: subject key column {column!r} must be a filterable field"
        )
    return field.name
