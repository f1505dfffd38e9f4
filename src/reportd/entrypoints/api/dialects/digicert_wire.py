"""DigiCert Report Library shapes: request bodies in, history records and errors out.

Translation only (see ``digicert.py`` for what follows which document): DigiCert's format names
become reportd formats and reportd's records become DigiCert's JSON. The schedule object <-> cron
lives in ``digicert_schedule.py``, the column filters <-> filters in ``digicert_filters.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from reportd.app.library import HistoryEntry
from reportd.domain.errors import FormatInapplicable
from reportd.domain.formats import Format
from reportd.domain.models import Report, Schedule, Template
from reportd.domain.states import ReportState
from reportd.entrypoints.api.dialects.digicert_filters import (
    ColumnFilter,
    column_filters,
    filter_kinds,
    filter_of,
)
from reportd.entrypoints.api.dialects.digicert_schedule import (
    FREQUENCIES,
    ScheduleSpec,
    frequency_name,
    schedule_object,
)

__all__ = [
    "FORMATS",
    "FREQUENCIES",
    "STATUSES",
    "ColumnFilter",
    "ReportCreate",
    "ScheduleSpec",
    "column_filters",
    "filter_of",
    "history_record",
    "report_columns",
    "report_details",
    "report_type",
    "schedule_object",
]

# DigiCert format names <-> reportd formats; ZIP is the bundle every run also carries.
FORMATS: Final = {"CSV": Format.CSV, "JSON": Format.JSON, "EXCEL": Format.XLSX, "ZIP": Format.ZIP}
_FORMAT_NAMES: Final = {fmt: name for name, fmt in FORMATS.items()}
STATUSES: Final = {
    "GENERATING": (ReportState.CREATED, ReportState.IN_PROGRESS),
    "READY": (ReportState.FINISHED,),
    "FAILED": (ReportState.FAILURE, ReportState.TIMEOUT, ReportState.CANCELED),
}
_STATUS_OF: Final = {state: name for name, states in STATUSES.items() for state in states}
_TIMESTAMP: Final = "%Y-%m-%d %H:%M:%S"  # "2021-01-13 02:15:48", UTC, as the history example


# -- request bodies -------------------------------------------------------------------------------


class ColumnRef(BaseModel):
    identifier: str = Field(min_length=1)


class ReportMetadata(BaseModel):
    report_type: str = Field(min_length=1)
    columns: list[ColumnRef] | None = None
    filters: list[ColumnFilter] = Field(default_factory=list)
    sources: dict[str, Any] | None = None  # divisions and subaccounts: nothing to map them to


class ReportCreate(BaseModel):
    """The Create report (and Edit report) body."""

    model_config = ConfigDict(populate_by_name=True)

    display_name: str = Field(min_length=1)
    schedule: ScheduleSpec
    formats: list[str] = Field(alias="format", min_length=1)
    report_metadata: ReportMetadata
    notification_emails: list[dict[str, Any]] = Field(default_factory=list)  # no mail is sent

    def definition(self, today: date) -> Schedule:
        """The saved report definition; ids, tenant and owner are the service's to set."""
        metadata = self.report_metadata
        columns = metadata.columns
        return Schedule(
            id="",
            tenant_id="",
            template_id=metadata.report_type,
            name=self.display_name,
            formats=formats_of(self.formats),
            fields=tuple(c.identifier for c in columns) if columns else None,
            filter=filter_of(metadata.filters),
            cron=self.schedule.cron(today),
            timezone="UTC",
        )


def formats_of(names: Sequence[str]) -> tuple[Format, ...]:
    """The asked formats plus the ZIP bundle, so every run can also be downloaded as ZIP."""
    formats: list[Format] = []
    for name in names:
        fmt = FORMATS.get(str(name).upper())
        if fmt is None:
            raise FormatInapplicable(f"{name!r} is not one of {list(FORMATS)}")
        if fmt not in formats and fmt is not Format.ZIP:
            formats.append(fmt)
    return (*formats, Format.ZIP)


# -- responses ------------------------------------------------------------------------------------


def timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime(_TIMESTAMP)


def format_names(formats: Sequence[Format]) -> list[str]:
    """What the client asked for; the ZIP bundle reportd adds is not listed."""
    return [_FORMAT_NAMES.get(f, f.value.upper()) for f in formats if f is not Format.ZIP]


def history_record(entry: HistoryEntry, type_name: str) -> dict[str, Any]:
    """One ``report_history`` item, key for key as DigiCert's List report history example."""
    if entry.run is not None:
        return _run_record(entry.run, entry.schedule, type_name)
    assert entry.schedule is not None  # an entry is a run or a calendared definition
    return _scheduled_record(entry.schedule, type_name)


def _run_record(run: Report, schedule: Schedule | None, type_name: str) -> dict[str, Any]:
    return {
        "report_display_name": run.name,
        "report_identifier": run.schedule_id,
        "report_run_identifier": run.id,
        "created_by_user_id": run.created_by_id,
        "created_by_user_name": run.created_by,
        "created_date": timestamp(run.created_at),
        "report_type": run.template_id,
        "report_type_display_name": type_name,
        "report_start_date": timestamp(run.started_at),
        "report_end_date": timestamp(run.finished_at),
        "schedule": frequency_name(schedule),
        "format": format_names(run.formats),
        "status": _STATUS_OF.get(run.state, "FAILED"),
        "manually_triggered": run.scheduled_for is None,
        "split_report_count": _parts(run),
    }


def _scheduled_record(schedule: Schedule, type_name: str) -> dict[str, Any]:
    """A definition waiting for its calendar: DigiCert lists it with status SCHEDULED."""
    return {
        "report_display_name": schedule.name,
        "report_identifier": schedule.id,
        "created_by_user_id": schedule.created_by_id,
        "created_by_user_name": schedule.created_by,
        "created_date": timestamp(schedule.created_at),
        "report_type": schedule.template_id,
        "report_type_display_name": type_name,
        "schedule": frequency_name(schedule),
        "format": format_names(schedule.formats),
        "status": "SCHEDULED",
        "manually_triggered": False,
        "split_report_count": 0,
    }


def _parts(run: Report) -> int:
    """Files of one format beyond the first: 0 for a report in one file, as DigiCert counts."""
    counts: dict[Format, int] = {}
    for artifact in run.artifacts:
        counts[artifact.format] = counts.get(artifact.format, 0) + 1
    most = max(counts.values(), default=1)
    return most if most > 1 else 0


# -- report details (the saved definition, in the shape its create and edit bodies take) ---------


def report_details(schedule: Schedule, type_name: str) -> dict[str, Any]:
    """Report details: ``{"report": {...}}`` with the Create report body's own keys, so a client
    can edit a report by sending back what it read, as DigiCert's Edit report page advises."""
    columns = [{"identifier": name} for name in schedule.fields or ()]
    return {
        "report": {
            "report_display_name": schedule.name,
            "report_identifier": schedule.id,
            "created_by_user_id": schedule.created_by_id,
            "created_date": timestamp(schedule.created_at),
            "created_by_user_name": schedule.created_by,
            "report_metadata": {
                "columns": columns,
                "report_type": schedule.template_id,
                "report_type_display_name": type_name,
                "filters": column_filters(schedule.filter),
                "sources": {},
            },
            "schedule": schedule_object(schedule.cron),
            "format": format_names(schedule.formats),
            "notification_emails": [],
            "status": "ACTIVE" if schedule.enabled else "INACTIVE",
            "next_run_date": timestamp(schedule.next_fire_at) if schedule.cron else None,
        }
    }


def report_type(template: Template) -> dict[str, Any]:
    """One List report types item; ``supported_formats`` as DigiCert's how-to page names it."""
    supported = [n for n, f in FORMATS.items() if f in template.formats and f is not Format.ZIP]
    return {
        "identifier": template.id,
        "display_name": template.name,
        "description": template.description,
        "supported_formats": supported,
    }


def report_columns(template: Template) -> list[dict[str, Any]]:
    """List columns: a template's fields, with the filters each one takes."""
    return [
        {
            "identifier": f.name,
            "display_name": f.title,
            "type": f.type.value,
            "filters": filter_kinds(f) if f.filterable else [],
        }
        for f in template.fields
    ]
