"""A report request checked against its template: a CREATED report, or the first reason why not.

Why apart from the reports use case: schedules validate their definition the same way at
creation (a bad schedule fails then, not at 3 am), and the CLI's in-process export does too;
all of them get exactly these rules. The dedup key is what makes two requests the same report.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reportd.app.catalog import Catalog
from reportd.app.generator import Generator
from reportd.app.options import resolve_options
from reportd.app.outbound import OutboundPolicy
from reportd.app.urls import check_url
from reportd.domain import bounds
from reportd.domain.errors import FormatInapplicable, ValidationError
from reportd.domain.filters import compile_filter, parse_order_by
from reportd.domain.formats import Format, Packaging, ZipEncryption
from reportd.domain.models import Report, ReportRequest, Template
from reportd.domain.states import ReportState

if TYPE_CHECKING:
    from reportd.app.ports import DestinationRepository

__all__ = ["MAX_DESTINATIONS", "RequestChecker", "check_bounds", "dedup_key"]

MAX_DESTINATIONS = 10


class RequestChecker:
    """Validates requests against the catalog and what the generator can write."""

    def __init__(
        self,
        catalog: Catalog,
        generator: Generator,
        outbound: OutboundPolicy,
        destinations: DestinationRepository | None = None,
    ) -> None:
        self._catalog = catalog
        self._generator = generator
        self._outbound = outbound
        self._destinations = destinations

    def check(self, tenant_id: str, request: ReportRequest) -> Report:
        """A CREATED report for ``request``, or the first reason it cannot be made."""
        check_bounds(request)
        template = self._catalog.template(request.template_id, tenant_id)
        formats = self.formats(template, request.formats)
        fields = _fields(template, request.fields)
        options = resolve_options(template, request.options)
        if request.filter and request.filter.strip():
            compile_filter(request.filter, template.fields_by_name)
        parse_order_by(request.order_by, template.fields_by_name)
        packaging = _packaging(request.packaging)
        storage_id = self._catalog.check_storage(request.storage_id)
        if request.expires_in is not None and request.expires_in <= 0:
            raise ValidationError("expires_in must be a positive number of seconds")
        if request.callback_url is not None:
            self._outbound.check(check_url(request.callback_url, "callback_url"), "callback_url")
        report = Report(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            template_id=template.id,
            template_version=template.version,
            name=request.name or template.name,
            state=ReportState.CREATED,
            formats=formats,
            fields=fields,
            options=options,
            filter=request.filter if request.filter and request.filter.strip() else None,
            order_by=tuple(request.order_by),
            packaging=packaging,
            zip_password=self._zip_password(packaging, formats, request.zip_password),
            zip_encryption=(
                ZipEncryption.parse(request.zip_encryption)
                if request.zip_encryption
                else template.zip_encryption
            ),
            storage_id=storage_id,
            schedule_id=request.schedule_id,
            callback_url=request.callback_url,
            expires_in=request.expires_in,
            expires_at=request.expires_at,
            subject=request.subject,
            destinations=self.destinations(tenant_id, request.destinations),
        )
        return report.evolve(dedup_key=dedup_key(report))

    def destinations(self, tenant_id: str, asked: Sequence[str]) -> tuple[str, ...]:
        """The tenant's destinations of these ids, once each; ``DestinationNotFound`` else."""
        unique = tuple(dict.fromkeys(asked))
        if len(unique) > MAX_DESTINATIONS:
            raise ValidationError(f"a report names at most {MAX_DESTINATIONS} destinations")
        if unique and self._destinations is None:
            raise ValidationError("this server delivers to no destinations")
        for destination_id in unique:
            assert self._destinations is not None
            self._destinations.get(destination_id, tenant_id)
        return unique

    def formats(self, template: Template, asked: Sequence[str]) -> tuple[Format, ...]:
        """The formats to write; ``zip`` bundles the others and needs at least one of them."""
        if not asked:
            raise ValidationError("at least one format is required")
        available = self._generator.available_formats()
        formats: list[Format] = []
        for name in asked:
            fmt = Format.parse(name)
            if not fmt.is_bundle and fmt not in available:
                raise FormatInapplicable(f"{fmt.value} is not available in this installation")
            if not fmt.is_bundle and fmt not in template.formats:
                raise FormatInapplicable(
                    f"template {template.id!r} does not offer {fmt.value}; "
                    f"it offers {[f.value for f in template.formats]}"
                )
            if fmt not in formats:
                formats.append(fmt)
        if formats == [Format.ZIP]:
            raise FormatInapplicable("zip bundles other formats: ask for at least one of them")
        return tuple(formats)

    def default_formats(self, template: Template) -> tuple[str, ...]:
        """The first of the template's formats this installation writes (none: the first)."""
        available = set(self._generator.available_formats())
        for fmt in template.formats:
            if fmt in available:
                return (fmt.value,)
        return tuple(f.value for f in template.formats[:1])

    def _zip_password(
        self, packaging: Packaging, formats: tuple[Format, ...], asked: bool | str | None
    ) -> str | None:
        if asked is None or asked is False:
            return None
        if packaging is not Packaging.ZIP and Format.ZIP not in formats:
            raise ValidationError("zip_password needs packaging 'zip' or the 'zip' format")
        if asked is True:
            return self._generator.new_password()
        if len(asked) < 8:
            raise ValidationError("a zip password must be at least 8 characters")
        return asked


def check_bounds(request: ReportRequest) -> None:
    """Every part of a request within ``domain.bounds``, before anything parses or stores it.

    Here, where every door's request passes (create, schedules, subjects, the CLI), so the
    bounds are the same whichever door a tenant comes through.
    """
    bounds.check_value(request.options, what="options")
    lists = [list(request.fields or ()), list(request.order_by), list(request.formats)]
    bounds.check_value(lists, what="fields, order_by and formats", max_bytes=bounds.MAX_LIST_BYTES)
    if request.name is not None:
        bounds.check_text(request.name, what="name", max_length=bounds.MAX_NAME)
    if isinstance(request.zip_password, str):
        bounds.check_text(request.zip_password, what="zip_password")
    if request.expires_in is not None:
        bounds.check_integer(
            request.expires_in, what="expires_in", low=1, high=bounds.MAX_EXPIRES_IN
        )


def _fields(template: Template, asked: Sequence[str] | None) -> tuple[str, ...]:
    if asked is None:
        return tuple(f.name for f in template.fields)
    if not asked:
        raise ValidationError("fields, when given, must name at least one field")
    known = template.fields_by_name
    unknown = [name for name in asked if name not in known]
    if unknown:
        raise ValidationError(
            f"unknown fields {unknown}; the template has {list(known)}",
            details={"unknown_fields": unknown},
        )
    if len(set(asked)) != len(asked):
        raise ValidationError("fields must not repeat")
    return tuple(asked)


def _packaging(value: str) -> Packaging:
    try:
        return Packaging(value)
    except ValueError:
        raise ValidationError(f"packaging must be one of {[p.value for p in Packaging]}") from None


def dedup_key(report: Report) -> str:
    """What makes two requests the same report, hashed (the password is not part of it)."""
    material = {
        "template_id": report.template_id,
        **({"template_version": report.template_version} if report.template_version else {}),
        "options": report.options,
        "fields": report.fields,
        "filter": report.filter,
        "order_by": report.order_by,
        "formats": [f.value for f in report.formats],
        "packaging": report.packaging.value,
    }
    if report.destinations:  # only then, so the keys of reports without any stay as they were
        material["destinations"] = sorted(report.destinations)
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
