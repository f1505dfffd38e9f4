"""Rows of the reports and artifacts tables to domain records and back, shared by every store.

``load_report`` and ``with_artifacts`` are the one way a report is read, so the report store,
the queue, the search and the schedules all hand back the same record for the same row.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.sql import Select

from reportd.adapters.db.schema import artifacts, report_deliveries, reports
from reportd.domain.bounds import renderable
from reportd.domain.destinations import DeliveryState, ReportDelivery, pending_deliveries
from reportd.domain.errors import ReportNotFound
from reportd.domain.formats import Format, Packaging, ZipEncryption
from reportd.domain.models import Artifact, Progress, Report, ReportError
from reportd.domain.states import ReportState


def load_report(conn: Connection, report_id: str, tenant_id: str | None) -> Report:
    """The report with its artifacts; another tenant's report is not found."""
    query: Select[Any] = select(reports).where(reports.c.id == report_id)
    if tenant_id is not None:
        query = query.where(reports.c.tenant_id == tenant_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise ReportNotFound(f"report {report_id!r} not found")
    return with_artifacts(conn, [report_of(row)])[0]


def insert_report(conn: Connection, report: Report, now: datetime) -> Report:
    """The report's row and one pending delivery per destination it names: one insert, so a
    report is never queued without its deliveries (the schedules' firing uses it too).
    Returned: the report with those deliveries."""
    conn.execute(insert(reports).values(**report_row(report), updated_at=now))
    made = pending_deliveries(report.id, report.tenant_id, report.destinations, now)
    if made:
        conn.execute(insert(report_deliveries), [delivery_row(d) for d in made])
    return report.evolve(deliveries=made)


def delivery_row(delivery: ReportDelivery) -> dict[str, Any]:
    return {
        "report_id": delivery.report_id,
        "destination_id": delivery.destination_id,
        "tenant_id": delivery.tenant_id,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
    }


def with_artifacts(conn: Connection, found: builtins.list[Report]) -> builtins.list[Report]:
    """The same reports, each carrying its artifacts and its deliveries (one query each)."""
    if not found:
        return found
    found = _with_deliveries(conn, found)
    ids = [r.id for r in found]
    rows = conn.execute(
        select(artifacts)
        .where(artifacts.c.report_id.in_(ids))
        .order_by(artifacts.c.report_id, artifacts.c.id)
    ).mappings()
    by_report: dict[str, list[Artifact]] = {}
    for row in rows:
        by_report.setdefault(row["report_id"], []).append(_artifact(row))
    return [r.evolve(artifacts=tuple(by_report.get(r.id, ()))) for r in found]


def _with_deliveries(conn: Connection, found: builtins.list[Report]) -> builtins.list[Report]:
    ids = [r.id for r in found if r.destinations]
    if not ids:
        return found
    d = report_deliveries.c
    rows = conn.execute(
        select(report_deliveries).where(d.report_id.in_(ids)).order_by(d.report_id)
    ).mappings()
    by_report: dict[str, dict[str, ReportDelivery]] = {}
    for row in rows:
        by_report.setdefault(row["report_id"], {})[row["destination_id"]] = delivery_of(row)
    return [r.evolve(deliveries=ordered(r, by_report.get(r.id, {}))) for r in found]


def ordered(report: Report, deliveries: dict[str, ReportDelivery]) -> tuple[ReportDelivery, ...]:
    """The deliveries in the order the report names its destinations."""
    return tuple(deliveries[i] for i in report.destinations if i in deliveries)


def delivery_of(row: Any) -> ReportDelivery:
    return ReportDelivery(
        report_id=row["report_id"],
        destination_id=row["destination_id"],
        tenant_id=row["tenant_id"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        next_attempt_at=row["next_attempt_at"],
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
    )


def report_row(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "tenant_id": report.tenant_id,
        "template_id": report.template_id,
        "name": report.name,
        "state": report.state.value,
        "options": dict(report.options),
        "fields": list(report.fields),
        "filter": report.filter,
        "order_by": list(report.order_by),
        "formats": [f.value for f in report.formats],
        "packaging": report.packaging.value,
        "zip_password": report.zip_password,
        "storage_id": report.storage_id,
        "rows": report.progress.rows,
        "total_rows": report.progress.total_rows,
        "created_by": report.created_by,
        "created_by_id": report.created_by_id,
        "schedule_id": report.schedule_id,
        "callback_url": report.callback_url,
        "expires_in": report.expires_in,
        "created_at": report.created_at,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "expires_at": report.expires_at,
        "error_code": report.error.code if report.error else None,
        "error_message": report.error.message if report.error else None,
        "attempts": report.attempts,
        "cancel_requested": report.cancel_requested,
        "scheduled_for": report.scheduled_for,
        "dedup_key": report.dedup_key,
        "subject": report.subject,
        "data_key": report.data_key,
        "zip_encryption": report.zip_encryption.value,
        "destinations": list(report.destinations) or None,
        "template_version": report.template_version,
    }


def report_of(row: Any) -> Report:
    error = None
    if row["error_code"]:
        error = ReportError(code=row["error_code"], message=row["error_message"] or "")
    return Report(
        id=row["id"],
        tenant_id=row["tenant_id"],
        template_id=row["template_id"],
        name=row["name"],
        state=ReportState(row["state"]),
        formats=tuple(Format(f) for f in row["formats"]),
        fields=tuple(row["fields"]),
        options=renderable(row["options"]),  # as stored, even before the bounds
        filter=row["filter"],
        order_by=tuple(row["order_by"]),
        packaging=Packaging(row["packaging"]),
        zip_password=row["zip_password"],
        zip_encryption=ZipEncryption(row["zip_encryption"] or ZipEncryption.AES256),
        storage_id=row["storage_id"],
        progress=Progress(rows=row["rows"], total_rows=row["total_rows"]),
        created_by=row["created_by"],
        created_by_id=row["created_by_id"],
        schedule_id=row["schedule_id"],
        callback_url=row["callback_url"],
        expires_in=row["expires_in"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        expires_at=row["expires_at"],
        error=error,
        attempts=row["attempts"],
        cancel_requested=bool(row["cancel_requested"]),
        scheduled_for=row["scheduled_for"],
        dedup_key=row["dedup_key"],
        subject=row["subject"],
        template_version=row.get("template_version"),
        data_key=row["data_key"],
        destinations=tuple(row["destinations"] or ()),
    )


def artifact_row(artifact: Artifact, now: datetime) -> dict[str, Any]:
    return {
        "report_id": artifact.report_id,
        "format": artifact.format.value,
        "packaging": artifact.packaging.value,
        "part": artifact.part,
        "filename": artifact.filename,
        "mime_type": artifact.mime_type,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "storage_key": artifact.storage_key,
        "rows": artifact.rows,
        "zip_password": artifact.zip_password,
        "created_at": now,
    }


def _artifact(row: Any) -> Artifact:
    return Artifact(
        report_id=row["report_id"],
        format=Format(row["format"]),
        packaging=Packaging(row["packaging"]),
        filename=row["filename"],
        mime_type=row["mime_type"],
        size=row["size"],
        sha256=row["sha256"],
        storage_key=row["storage_key"],
        part=row["part"],
        rows=row["rows"],
        zip_password=row["zip_password"],
        created_at=row["created_at"],
    )
