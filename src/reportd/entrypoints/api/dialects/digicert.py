"""DigiCert CertCentral Report Library, as in its report download document ("보고서 다운로드").

The document is the download of a report run::

    GET /reports/v1/report/{report_identifier}/{report_run_identifier}/download?report_format=CSV

with ``X-DC-DEVKEY``, served too under ``/services/v1/report/...`` and ``/services/v2/report/...``
as its code samples use, and also without the slash before ``download``, exactly as its cURL
sample (and DigiCert's own page) prints it. ``report_format`` is ``CSV``, ``JSON`` or ``ZIP``
(and ``EXCEL``, DigiCert's fourth format). The file is ``<display_name>-<YYYY-MM-DD>.<ext>``
with the date of the *download*, as the document says, not of the run. Its seven error bodies
are reproduced with their codes, statuses and messages.

A DigiCert report is a reportd schedule and a report run is a reportd report carrying that
``schedule_id``: the rules (the ``custom_reports`` feature, which run belongs to which report,
the history) live in :mod:`reportd.app.library`; this module only translates.

Where the document is silent, this follows DigiCert's public Report Library API pages
(dev.digicert.com, "Report Library API"):

- ``POST /reports/v1/report`` (Create report): ``display_name``, ``format`` (``CSV``, ``JSON``,
  ``EXCEL``), ``schedule`` and ``report_metadata {report_type, columns, filters}``; 201
  ``{"report_identifier", "message": "Successfully created Custom Report"}``. ``report_type``
  is a reportd template id (an operator's, or one the tenant defined itself through
  ``/v1/templates``: docs/templates.md) and ``columns`` its fields. Every run also carries a
  ZIP bundle of its files, so ``report_format=ZIP`` always works. ``frequency: ON_DEMAND``
  runs once at creation ("the first report run starts the moment the report is created").
- ``PUT /reports/v1/report/{report_identifier}`` (Edit report) overwrites the definition, 204;
  changed to ``ON_DEMAND`` it starts a run at once, as DigiCert's page says.
- ``GET /reports/v1/report/history`` (List report history): ``{page: {total, limit, offset},
  report_history: [...]}`` with the example's keys; comma-separated filters
  ``report_display_name``, ``schedule``, ``status``, ``report_type``, plus ``search`` (a part of
  the display name), ``offset`` (default 0) and ``limit`` (default 100). Calendared reports are
  listed too, with status ``SCHEDULED``; runs are ``GENERATING``, ``READY`` or ``FAILED``.
- Schedules (00:00 UTC): ``WEEKLY`` on ``weekday_to_run``; ``MONTHLY`` on
  ``repeat_on_date.date`` (or its ``last_day_of_the_month``) or on the ``weekday_frequency``
  (``FIRST`` to ``FOURTH``, ``LAST``) ``weekday_to_run``, every ``repeat_every`` months counted
  from the month of the request. A ``run_until`` in the past is 400 ``invalid_date``.
- Column filters: ``in`` and ``not_in`` (``values`` listed), ``custom_date`` (two dates, the
  last one included), all of which must hold; other kinds are 400 ``invalid_filter``.
- ``split_report_sequence`` (from 0) picks one file of a run split into several.
- Errors are DigiCert's ``{"code", "message"}`` as in the document (and the example on
  DigiCert's Errors page), which also carries the same error in ``errors: [{code, message}]``,
  the shape the Errors page's parameter table describes. Other 400s use the Errors page's codes:
  ``invalid_column_identifiers``, ``invalid_filter``, ``invalid_schedule``, ``invalid_date``,
  ``invalid_limit``, ``invalid_offset``, ``invalid_request: <field>``.

- ``GET /reports/v1/report/{report_identifier}`` (Report details): ``{"report": {...}}`` with
  ``report_display_name``, ``report_identifier``, ``created_by_user_id``, ``created_date``,
  ``created_by_user_name``, ``report_metadata {columns, report_type, filters, sources}``,
  ``schedule``, ``format`` as DigiCert's page lists them (``schedule`` and ``filters`` rebuilt from
  the saved definition, so the body can be sent back to Edit report).

Where DigiCert publishes nothing reportd could follow (the pages for these could not be read
here; the paths follow the Report Library's naming and are reportd's), this is reportd's choice:

- ``DELETE /reports/v1/report/{report_identifier}`` (Delete scheduled report): 204; no more runs,
  past runs stay in the history and downloadable until their retention ends.
- ``GET /reports/v1/report/types`` (List report types): ``{"report_types": [{identifier,
  display_name, description, supported_formats}]}`` (``supported_formats`` is named by
  DigiCert's how-to page); ``GET /reports/v1/report/types/{report_type}/columns`` (List
  columns): ``{"report_type", "columns": [{identifier, display_name, type, filters}]}``.

- ``POST /reports/v1/report/{report_identifier}/run`` starts a run now: 201
  ``{"report_identifier", "report_run_identifier"}``.
- 404 ``report_not_found`` is an unknown (or another tenant's) report identifier;
  ``reports_not_found`` a run that is unknown, of another report or tenant, not finished, failed
  or expired: a run without files to download.
- ``run_until`` is checked but not enforced (reportd schedules have no end date);
  ``created_by_user_id`` is the id of the API key, OAuth client or user that made the report
  (reportd has no numeric user ids), ``created_by_user_name`` its name; a
  schedule reportd cannot name in DigiCert's words shows as ``CUSTOM``; ``sort`` is ignored
  (newest first); ``notification_emails`` and ``sources`` are accepted and have no effect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from reportd.app.library import HistoryEntry, HistoryQuery
from reportd.domain.errors import (
    ArtifactNotFound,
    AuthenticationFailed,
    FeatureNotEnabled,
    FilterSyntaxError,
    Forbidden,
    FormatInapplicable,
    MissingMandatoryFields,
    ReportdError,
    ReportExpired,
    ReportNotFound,
    ReportNotReady,
    ScheduleNotFound,
    TemplateNotFound,
    ValidationError,
)
from reportd.domain.models import Principal
from reportd.domain.paging import MAX_PAGE
from reportd.domain.states import ReportState
from reportd.entrypoints.api.auth import core_of, principal
from reportd.entrypoints.api.dialects.digicert_wire import (
    FORMATS,
    FREQUENCIES,
    STATUSES,
    ReportCreate,
    history_record,
    report_columns,
    report_type,
)
from reportd.entrypoints.api.dialects.digicert_wire import report_details as wire_details
from reportd.entrypoints.api.dialects.routing import router_with_errors
from reportd.entrypoints.api.downloads import stream_download
from reportd.entrypoints.api.problems import error_headers
from reportd.entrypoints.api.schemas import MAX_OFFSET

PREFIXES: Final = ("/reports/v1/report", "/services/v1/report", "/services/v2/report")
CREATED_MESSAGE: Final = "Successfully created Custom Report"
NOT_FOUND_MESSAGE: Final = "Report with the given identifier does not exist."
# The document's bodies: (status, code, message), by the domain error they stand for.
_DOCUMENTED: Final[tuple[tuple[type[ReportdError], int, str, str], ...]] = (
    (AuthenticationFailed, 401, "user_authentication_error", "User is not authenticated."),
    (FeatureNotEnabled, 403, "custom_reports_not_enabled", "Custom reports is not enabled"),
    (Forbidden, 403, "user_forbidden", "User does not have the required permission."),
    (ScheduleNotFound, 404, "report_not_found", NOT_FOUND_MESSAGE),
    (ReportNotFound, 404, "reports_not_found", NOT_FOUND_MESSAGE),
    (ReportNotReady, 404, "reports_not_found", NOT_FOUND_MESSAGE),
    (ReportExpired, 404, "reports_not_found", NOT_FOUND_MESSAGE),
    (ArtifactNotFound, 404, "reports_not_found", NOT_FOUND_MESSAGE),
    (
        FormatInapplicable,
        400,
        "report_format_inapplicable",
        "The given report format is not applicable for the template/report.",
    ),
    (
        MissingMandatoryFields,
        400,
        "missing_mandatory_fields",
        "Please provide values for mandatory fields",
    ),
)
_MISSING: Final = _DOCUMENTED[-1]
# 400 codes of DigiCert's Errors page, by the ``target`` a translation error names.
_TARGETS: Final = {
    "schedule": "invalid_schedule",
    "run_until": "invalid_date",
    "filters": "invalid_filter",
    "limit": "invalid_limit",
    "offset": "invalid_offset",
}


# -- errors ---------------------------------------------------------------------------------------


def _body(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    error = {"code": code, "message": message}
    return JSONResponse({**error, "errors": [error]}, status_code=status, headers=headers)


def render_error(request: Request, exc: ReportdError) -> Response:
    """DigiCert's body for any reportd error on these routes."""
    documented = any(isinstance(exc, kind) for kind, *_ in _DOCUMENTED)
    if (
        isinstance(exc, ValidationError)
        and not documented
        and not isinstance(exc, FilterSyntaxError)
    ):
        return _validation_body(exc)
    status, code, message = _documented(exc)
    return _body(status, code, message, error_headers(exc, status))


def _documented(exc: ReportdError) -> tuple[int, str, str]:
    for kind, status, code, message in _DOCUMENTED:
        if isinstance(exc, kind):
            return status, code, message
    if isinstance(exc, TemplateNotFound):
        return 400, "invalid_request: report_type", exc.message
    if isinstance(exc, FilterSyntaxError):
        return 400, "invalid_filter", exc.message
    return exc.status, exc.code, exc.message


def _validation_body(exc: ValidationError) -> Response:
    details = exc.details
    if isinstance(details, dict):
        if "unknown_fields" in details:
            return _body(400, "invalid_column_identifiers", exc.message)
        target = details.get("target")
        fallback = f"invalid_request: {target}" if target else "invalid_request"
        return _body(400, _TARGETS.get(str(target), fallback), exc.message)
    if isinstance(details, list) and details:  # the request itself did not parse
        return _request_body(details[0], exc.message)
    return _body(400, "invalid_request", exc.message)


def _request_body(first: dict[str, Any], message: str) -> Response:
    where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query")]
    if str(first.get("message", "")).lower() == "field required":
        _, status, code, documented = _MISSING
        return _body(status, code, documented)
    name = where[0] if where else ""
    if name in _TARGETS:
        return _body(400, _TARGETS[name], message)
    return _body(
        400, f"invalid_request: {'.'.join(where)}" if where else "invalid_request", message
    )


# -- routes ---------------------------------------------------------------------------------------

router = router_with_errors(
    prefix="", tag="digicert", render_error=render_error, error_prefixes=PREFIXES
)
Caller = Annotated[Principal, Depends(principal)]


def create_report(body: ReportCreate, caller: Caller, request: Request) -> Response:
    """Create report; an ``ON_DEMAND`` report also starts its first run."""
    library = core_of(request).library
    definition = body.definition(datetime.now(UTC).date())
    saved = library.create(caller, definition, run_now=body.schedule.on_demand)
    content = {"report_identifier": saved.id, "message": CREATED_MESSAGE}
    return JSONResponse(content, status_code=201)


def edit_report(
    report_identifier: str, body: ReportCreate, caller: Caller, request: Request
) -> Response:
    """Edit report: the body overwrites the definition."""
    library = core_of(request).library
    definition = body.definition(datetime.now(UTC).date())
    library.replace(caller, report_identifier, definition, run_now=body.schedule.on_demand)
    return Response(status_code=204)


def run_report(report_identifier: str, caller: Caller, request: Request) -> Response:
    run = core_of(request).library.run(caller, report_identifier)
    content = {"report_identifier": report_identifier, "report_run_identifier": run.id}
    return JSONResponse(content, status_code=201)


def report_history(
    caller: Caller,
    request: Request,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    report_display_name: str | None = None,
    schedule: str | None = None,
    status: str | None = None,
    report_type: str | None = None,
    search: str | None = None,
) -> dict[str, Any]:
    """List report history: calendared reports and their runs, newest first."""
    statuses = _listed(status, ("SCHEDULED", *STATUSES), "status")
    states = _states(statuses)
    query = HistoryQuery(
        names=_listed(report_display_name),
        name_contains=search or None,
        template_ids=_listed(report_type),
        cadences=tuple(FREQUENCIES[s] for s in _listed(schedule, tuple(FREQUENCIES), "schedule")),
        states=states,
        with_scheduled=not statuses or "SCHEDULED" in statuses,
        with_runs=bool(states),
        offset=offset,
        limit=limit,
    )
    page = core_of(request).library.history(caller, query)
    names = page.template_names
    records = [history_record(e, names.get(_type_of(e), _type_of(e))) for e in page.entries]
    return {
        "page": {"total": page.total, "limit": limit, "offset": offset},
        "report_history": records,
    }


def download_report(
    report_identifier: str,
    report_run_identifier: str,
    caller: Caller,
    request: Request,
    report_format: str | None = None,
    split_report_sequence: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Download report: one file of a run, as CSV, JSON, EXCEL or the ZIP of them all."""
    if not report_format:
        raise MissingMandatoryFields("report_format is required")
    fmt = FORMATS.get(report_format.upper())
    if fmt is None:
        raise FormatInapplicable(f"report_format must be one of {list(FORMATS)}")
    part = None if split_report_sequence is None else split_report_sequence + 1
    download = core_of(request).library.open_run(
        caller, report_identifier, report_run_identifier, fmt.value, part
    )
    return stream_download(download, request)


def report_details(report_identifier: str, caller: Caller, request: Request) -> dict[str, Any]:
    """Report details: the saved definition, in the Create report body's own keys."""
    library = core_of(request).library
    schedule = library.details(caller, report_identifier)
    names = {t.id: t.name for t in library.report_types(caller)}
    return wire_details(schedule, names.get(schedule.template_id, schedule.template_id))


def delete_report(report_identifier: str, caller: Caller, request: Request) -> Response:
    """Delete scheduled report: no more runs; past runs stay in the history."""
    core_of(request).library.delete(caller, report_identifier)
    return Response(status_code=204)


def list_report_types(caller: Caller, request: Request) -> dict[str, Any]:
    """List report types (reportd's templates), with their ``supported_formats``."""
    found = core_of(request).library.report_types(caller)
    return {"report_types": [report_type(t) for t in found]}


def list_columns(report_type_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """List columns of a report type (a template's fields)."""
    template = core_of(request).library.report_type(caller, report_type_id)
    return {"report_type": template.id, "columns": report_columns(template)}


def _listed(raw: str | None, allowed: tuple[str, ...] = (), name: str = "") -> tuple[str, ...]:
    """A comma-separated query value, as DigiCert's list filters are written."""
    values = tuple(v.strip() for v in (raw or "").split(",") if v.strip())
    if allowed:
        values = tuple(v.upper() for v in values)
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise ValidationError(f"{name} must be among {list(allowed)}", details={"target": name})
    return values


def _states(statuses: tuple[str, ...]) -> tuple[ReportState, ...]:
    """Run states asked for; by default every state but EXPIRED (a run with no files left)."""
    if not statuses:
        return tuple(s for s in ReportState if s is not ReportState.EXPIRED)
    return tuple(state for name in statuses for state in STATUSES.get(name, ()))


def _type_of(entry: HistoryEntry) -> str:
    source = entry.run or entry.schedule
    return source.template_id if source is not None else ""


def _routes() -> None:
    """Every route under each of the document's three prefixes (the first one documented)."""
    for index, prefix in enumerate(PREFIXES):
        shown = index == 0
        add = router.add_api_route
        add(prefix, create_report, methods=["POST"], status_code=201, include_in_schema=shown)
        add(f"{prefix}/history", report_history, methods=["GET"], include_in_schema=shown)
        add(f"{prefix}/types", list_report_types, methods=["GET"], include_in_schema=shown)
        add(f"{prefix}/types/{{report_type_id}}/columns", list_columns, methods=["GET"],
            include_in_schema=shown)  # fmt: skip
        add(f"{prefix}/{{report_identifier}}", report_details, methods=["GET"],
            include_in_schema=shown)  # fmt: skip
        add(f"{prefix}/{{report_identifier}}", delete_report, methods=["DELETE"],
            status_code=204, include_in_schema=shown)  # fmt: skip
        add(f"{prefix}/{{report_identifier}}", edit_report, methods=["PUT"], status_code=204,
            include_in_schema=shown)  # fmt: skip
        add(f"{prefix}/{{report_identifier}}/run", run_report, methods=["POST"],
            status_code=201, include_in_schema=shown)  # fmt: skip
        run_path = f"{prefix}/{{report_identifier}}/{{report_run_identifier}}"
        add(f"{run_path}/download", download_report, methods=["GET"], include_in_schema=shown)
        # The cURL sample's path, with no slash before "download".
        add(f"{run_path}download", download_report, methods=["GET"], include_in_schema=False)


_routes()
