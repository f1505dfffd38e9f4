"""DigiCert Report Library shapes: request bodies in, history records and errors out.

Translation only (see ``digicert.py`` for what follows which document): DigiCert's schedule
object becomes a cron expression, its column filters become reportd's filter language, its
format names become reportd formats, and reportd's records become DigiCert's JSON.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from reportd.app.library import Cadence, HistoryEntry, cadence
from reportd.domain.errors import FormatInapplicable, ValidationError
from reportd.domain.filters import And, Comparison, Expr, InList, Literal, Not, Op, format_filter
from reportd.domain.formats import Format
from reportd.domain.models import Field as TemplateField
from reportd.domain.models import Report, Schedule, Template
from reportd.domain.states import ReportState

# DigiCert format names <-> reportd formats; ZIP is the bundle every run also carries.
FORMATS: Final = {"CSV": Format.CSV, "JSON": Format.JSON, "EXCEL": Format.XLSX, "ZIP": Format.ZIP}
_FORMAT_NAMES: Final = {fmt: name for name, fmt in FORMATS.items()}
WEEKDAYS: Final = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")
_ORDINALS: Final = {"FIRST": "#1", "SECOND": "#2", "THIRD": "#3", "FOURTH": "#4", "LAST": "L"}
FREQUENCIES: Final = {
    "ON_DEMAND": Cadence.ONCE,
    "WEEKLY": Cadence.WEEKLY,
    "MONTHLY": Cadence.MONTHLY,
}
_FREQUENCY_NAMES: Final = {
    Cadence.ONCE: "ON_DEMAND",
    Cadence.WEEKLY: "WEEKLY",
    Cadence.MONTHLY: "MONTHLY",
    Cadence.OTHER: "CUSTOM",
}
STATUSES: Final = {
    "GENERATING": (ReportState.CREATED, ReportState.IN_PROGRESS),
    "READY": (ReportState.FINISHED,),
    "FAILED": (ReportState.FAILURE, ReportState.TIMEOUT, ReportState.CANCELED),
}
_STATUS_OF: Final = {state: name for name, states in STATUSES.items() for state in states}
_TIMESTAMP: Final = "%Y-%m-%d %H:%M:%S"  # "2021-01-13 02:15:48", UTC, as the history example


def _invalid(message: str, target: str) -> ValidationError:
    """A 400 whose ``target`` tells the error mapper which DigiCert code it is."""
    return ValidationError(message, details={"target": target})


# -- request bodies -------------------------------------------------------------------------------


class ColumnRef(BaseModel):
    identifier: str = Field(min_length=1)


class ColumnFilter(BaseModel):
    filter_identifier: str = Field(min_length=1)
    column_identifier: str = Field(min_length=1)
    values: list[str | int | float | bool]


class ReportMetadata(BaseModel):
    report_type: str = Field(min_length=1)
    columns: list[ColumnRef] | None = None
    filters: list[ColumnFilter] = Field(default_factory=list)
    sources: dict[str, Any] | None = None  # divisions and subaccounts: nothing to map them to


class RepeatOnDate(BaseModel):
    date: int | None = Field(default=None, ge=1, le=31)
    last_day_of_the_month: bool = False


class ScheduleSpec(BaseModel):
    frequency: str = Field(min_length=1)
    weekday_to_run: str | None = None
    weekday_frequency: str | None = None
    run_until: str | None = None
    repeat_every: int | str | None = None
    repeat_on: str | None = None
    repeat_on_date: RepeatOnDate | None = None

    @property
    def on_demand(self) -> bool:
        return self.frequency.upper() == "ON_DEMAND"

    def cron(self, today: date) -> str | None:
        """The calendar as cron, at 00:00 UTC; None for ON_DEMAND (run when asked)."""
        frequency = self.frequency.upper()
        if frequency not in FREQUENCIES:
            raise _invalid(f"frequency must be one of {list(FREQUENCIES)}", "schedule")
        self._check_until(today)
        if frequency == "ON_DEMAND":
            return None
        if frequency == "WEEKLY":
            if self._every() != 1:
                raise _invalid("a weekly schedule repeats every week", "schedule")
            return f"0 0 * * {self._weekday()}"
        return self._monthly(today)

    def _monthly(self, today: date) -> str:
        every = self._every()
        if 12 % every:
            raise _invalid("repeat_every of a monthly schedule must divide 12", "schedule")
        months = "*" if every == 1 else _months(today.month, every)
        on_date = self.repeat_on_date
        if on_date is not None and (on_date.last_day_of_the_month or on_date.date):
            day = "L" if on_date.last_day_of_the_month else str(on_date.date)
            return f"0 0 {day} {months} *"
        ordinal = _ORDINALS.get((self.weekday_frequency or "").upper())
        if ordinal is None:
            raise _invalid(
                "a monthly schedule needs repeat_on_date or weekday_to_run and weekday_frequency",
                "schedule",
            )
        weekday = self._weekday()
        dow = f"L{weekday}" if ordinal == "L" else f"{weekday}{ordinal}"
        return f"0 0 * {months} {dow}"

    def _weekday(self) -> int:
        name = (self.weekday_to_run or "").upper()
        if name not in WEEKDAYS:
            raise _invalid(f"weekday_to_run must be one of {list(WEEKDAYS)}", "schedule")
        return WEEKDAYS.index(name)

    def _every(self) -> int:
        raw = self.repeat_every
        if raw in (None, "", 0):
            return 1
        try:
            every = int(raw)
        except ValueError:
            raise _invalid("repeat_every must be a whole number", "schedule") from None
        if every < 1:
            raise _invalid("repeat_every must be a positive number", "schedule")
        return every

    def _check_until(self, today: date) -> None:
        if not self.run_until:
            return
        try:
            until = date.fromisoformat(self.run_until)
        except ValueError:
            raise _invalid("run_until must be a date such as 2030-12-31", "run_until") from None
        if until < today:
            raise _invalid("run_until is in the past", "run_until")


def _months(start: int, every: int) -> str:
    """Every ``every`` months counted from ``start`` (1-12), as a cron month list."""
    return ",".join(str(m) for m in sorted({(start - 1 + k * every) % 12 + 1 for k in range(12)}))


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


def filter_of(filters: Sequence[ColumnFilter]) -> str | None:
    """DigiCert column filters, all of which must hold, as one filter-language expression."""
    if not filters:
        return None
    parts = [_filter_expr(f) for f in filters]
    return format_filter(parts[0] if len(parts) == 1 else And(tuple(parts)))


def _filter_expr(item: ColumnFilter) -> Expr:
    kind = item.filter_identifier.lower()
    column, values = item.column_identifier, [Literal(v) for v in item.values]
    if not values:
        raise _invalid(f"the {column!r} filter has no values", "filters")
    if kind in ("in", "not_in"):
        listed = InList(column, tuple(values))
        return listed if kind == "in" else Not(listed)
    if kind == "custom_date" and len(values) == 2:
        return And((_bound(column, Op.GE, values[0].value), _end(column, values[1].value)))
    raise _invalid(
        f"filter_identifier {item.filter_identifier!r} is not supported "
        "(in, not_in, custom_date with two dates)",
        "filters",
    )


def _bound(column: str, op: Op, value: Any) -> Expr:
    return Comparison(column, op, Literal(value))


def _end(column: str, value: Any) -> Expr:
    """A custom date range includes its whole last day."""
    try:
        last = date.fromisoformat(str(value))
    except ValueError:
        return _bound(column, Op.LE, value)
    return _bound(column, Op.LT, (last + timedelta(days=1)).isoformat())


# -- responses ------------------------------------------------------------------------------------


def timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime(_TIMESTAMP)


def format_names(formats: Sequence[Format]) -> list[str]:
    """What the client asked for; the ZIP bundle reportd adds is not listed."""
    return [_FORMAT_NAMES.get(f, f.value.upper()) for f in formats if f is not Format.ZIP]


def frequency_name(schedule: Schedule | None) -> str | None:
    return None if schedule is None else _FREQUENCY_NAMES[cadence(schedule.cron)]


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

_WEEKDAY_ORDINALS: Final = {v: k for k, v in _ORDINALS.items() if k != "LAST"}


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


def schedule_object(cron: str | None) -> dict[str, Any]:
    """DigiCert's schedule object back from the cron expression ``ScheduleSpec.cron`` made."""
    blank: dict[str, Any] = {
        "frequency": "ON_DEMAND",
        "weekday_to_run": "",
        "weekday_frequency": "",
        "run_until": "",
        "repeat_every": 1,
    }
    if cron is None:
        return blank
    kind = cadence(cron)
    fields = cron.split()
    if kind is Cadence.WEEKLY and fields[4].isdigit():
        return {**blank, "frequency": "WEEKLY", "weekday_to_run": WEEKDAYS[int(fields[4]) % 7]}
    if kind is not Cadence.MONTHLY:
        return {**blank, "frequency": _FREQUENCY_NAMES[kind]}
    months = fields[3]
    every = 1 if months == "*" else 12 // max(1, len(months.split(",")))
    monthly = {**blank, "frequency": "MONTHLY", "repeat_every": every}
    day, dow = fields[2], fields[4]
    if day != "*":
        last = day == "L"
        return {
            **monthly,
            "repeat_on": "DATE_OF_THE_MONTH",
            "repeat_on_date": {"date": None if last else int(day), "last_day_of_the_month": last},
        }
    if dow.startswith("L"):
        weekday, ordinal = dow[1:], "LAST"
    else:
        weekday, _, number = dow.partition("#")
        ordinal = _WEEKDAY_ORDINALS.get(f"#{number}", "")
    return {
        **monthly,
        "repeat_on": "DAY_OF_THE_MONTH",
        "weekday_frequency": ordinal,
        "weekday_to_run": WEEKDAYS[int(weekday) % 7] if weekday.isdigit() else "",
    }


def column_filters(text: str | None) -> list[dict[str, Any]]:
    """The column filters ``filter_of`` turned into the filter language, turned back."""
    if not text:
        return []
    from reportd.domain.filters import parse_filter

    parts = _conjuncts(parse_filter(text))
    found: list[dict[str, Any]] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        nxt = parts[index + 1] if index + 1 < len(parts) else None
        if isinstance(part, InList):
            found.append(_listed("in", part))
        elif isinstance(part, Not) and isinstance(part.operand, InList):
            found.append(_listed("not_in", part.operand))
        elif isinstance(part, Comparison) and isinstance(nxt, Comparison):
            found.append(_date_range(part, nxt))
            index += 1
        index += 1
    return found


def _conjuncts(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, And):
        return tuple(p for operand in expr.operands for p in _conjuncts(operand))
    return (expr,)


def _listed(kind: str, listed: InList) -> dict[str, Any]:
    return {
        "filter_identifier": kind,
        "column_identifier": listed.field,
        "values": [v.value for v in listed.values],
    }


def _date_range(start: Comparison, end: Comparison) -> dict[str, Any]:
    last = str(end.value.value)
    with contextlib.suppress(ValueError):  # the range's end was the day after the last one
        last = (date.fromisoformat(last) - timedelta(days=1)).isoformat()
    return {
        "filter_identifier": "custom_date",
        "column_identifier": start.field,
        "values": [start.value.value, last],
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
            "filters": _filter_kinds(f) if f.filterable else [],
        }
        for f in template.fields
    ]


def _filter_kinds(field: TemplateField) -> list[str]:
    if field.type.value in ("date", "datetime"):
        return ["custom_date", "in", "not_in"]
    return ["in", "not_in"]
