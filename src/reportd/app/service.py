"""The application service: every use case of reportd, once.

Routers (native and dialects), the CLI and the worker are thin callers of this class.
It raises domain errors only; how they look on the wire is each caller's business.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from reportd.adapters.db import Store
from reportd.adapters.sources.base import Source
from reportd.adapters.storage.base import ArtifactStorage
from reportd.adapters.storage.signing import LinkSigner
from reportd.adapters.template_files import resolve_options
from reportd.app.keys import TenantKeys
from reportd.app.library import ReportLibrary
from reportd.app.oauth import OAuthService
from reportd.app.ports import IdempotencyRepository
from reportd.app.preview import Preview
from reportd.app.ratelimits import RateLimiter
from reportd.app.schedules import ScheduleService
from reportd.app.search import ReportSearch
from reportd.app.subjects import SubjectService
from reportd.app.tokens import looks_like_token
from reportd.app.users import UserService
from reportd.app.webhooks import WebhookService, check_url
from reportd.domain.errors import (
    ArtifactNotFound,
    AuthenticationFailed,
    Conflict,
    DatabaseUnavailable,
    FeatureNotEnabled,
    Forbidden,
    FormatInapplicable,
    ReportdError,
    ReportExpired,
    ReportNotReady,
    ReportTimedOut,
    SourceNotFound,
    StorageNotFound,
    StorageUnavailable,
    TemplateNotFound,
    Unavailable,
    ValidationError,
)
from reportd.domain.filters import compile_filter, parse_order_by
from reportd.domain.formats import Format, Packaging, ZipEncryption
from reportd.domain.leases import Heartbeat, ReapResult
from reportd.domain.listing import ReportPage, ReportQuery
from reportd.domain.models import (
    ApiKey,
    Artifact,
    Principal,
    Report,
    ReportError,
    ReportRequest,
    Scope,
    Template,
    Tenant,
)
from reportd.domain.naming import artifact_filename
from reportd.domain.states import ReportState
from reportd.generation.formats.packaging import generate_password
from reportd.generation.formats.registry import available_formats
from reportd.generation.pipeline import (
    OutputFile,
    RunControl,
    RunResult,
    RunSpec,
    generate,
    regenerate,
)

log = logging.getLogger("reportd.app.service")

KEY_PREFIX = "rk_"
FAILED_RETENTION = 86_400  # reports whose worker died (no files) stay listed for a day
STORAGE_RETRY_FIRST = 1.0  # seconds before re-running a report whose storage was away; doubles
STORAGE_RETRY_MAX = 30.0
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Download:
    """An artifact ready to stream: where it is and how to describe it."""

    report: Report
    artifact: Artifact
    storage: ArtifactStorage


@dataclass(frozen=True, slots=True)
class DownloadLink:
    url: str
    expires_at: datetime
    artifact: Artifact


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    secret: str


@dataclass(frozen=True, slots=True)
class RunOptions:
    batch_size: int = 65_536
    compresslevel: int = 1
    lease_seconds: float = 30.0
    max_attempts: int = 3


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ReportService:
    def __init__(
        self,
        *,
        store: Store,
        templates: Mapping[str, Template],
        sources: Mapping[str, Source],
        storages: Mapping[str, ArtifactStorage],
        signer: LinkSigner,
        default_storage: str = "default",
        link_ttl: int = 300,
        public_url: str | None = None,
        run_options: RunOptions | None = None,
        idempotency: IdempotencyRepository | None = None,
        rate_limiter: RateLimiter | None = None,
        webhooks: WebhookService | None = None,
        oauth: OAuthService | None = None,
        users: UserService | None = None,
    ) -> None:
        self.store = store
        self.templates = dict(templates)
        self.sources = dict(sources)
        self.storages = dict(storages)
        self.signer = signer
        self.default_storage = default_storage
        self.link_ttl = link_ttl
        self.public_url = public_url.rstrip("/") if public_url else None
        self.run_options = run_options or RunOptions()
        self.webhooks = webhooks  # None: no webhook API and no dispatcher (reportd.app.webhooks)
        self.idempotency = idempotency  # Idempotency-Key answers (api/idempotency.py)
        self.rate_limiter = rate_limiter  # None: no limits (api/ratelimit.py)
        self.oauth = oauth  # None: no OAuth clients nor tokens (reportd.app.oauth)
        self.users = users  # None: no users with passwords (reportd.app.users)
        self.schedules = ScheduleService(self, store.schedules)
        self.report_search = ReportSearch(self)  # filtered report lists (reportd.app.search)
        self.subjects = SubjectService(self)  # per-subject reports (reportd.app.subjects)
        self.report_library = ReportLibrary(self)
        self.keys = TenantKeys(
            keys=store.tenants,
            create=self.create_key,
            revoke=self.revoke_key,
            require=self.require,
        )
        self.preview = Preview(
            validate=self.validate_request,
            template=self.template,
            source=self.source,
            require=self.require,
        )  # saved reports and runs (DigiCert's)

    # -- tenants and keys ----------------------------------------------------------------

    def create_tenant(
        self, tenant_id: str, *, name: str | None = None, features: Sequence[str] = ()
    ) -> Tenant:
        if not tenant_id or len(tenant_id) > 64:
            raise ValidationError("a tenant id is 1 to 64 characters")
        return self.store.tenants.create_tenant(
            Tenant(id=tenant_id, name=name or tenant_id, features=frozenset(features))
        )

    def create_key(self, tenant_id: str, name: str, scopes: Sequence[str]) -> CreatedKey:
        known = {s.value for s in Scope}
        unknown = sorted(set(scopes) - known)
        if unknown:
            raise ValidationError(f"unknown scopes {unknown}; known: {sorted(known)}")
        self.store.tenants.get_tenant(tenant_id)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            name=name,
            scopes=frozenset(scopes),
            key_hash=hash_key(secret),
        )
        return CreatedKey(key=self.store.tenants.create_key(key), secret=secret)

    def revoke_key(self, key_id: str, tenant_id: str | None = None) -> None:
        self.store.tenants.revoke_key(key_id, tenant_id)

    def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise AuthenticationFailed("an API key is required")
        if self.oauth is not None and looks_like_token(secret):
            return self.oauth.authenticate(secret)
        found = self.store.tenants.find_key(hash_key(secret))
        if found is None:
            raise AuthenticationFailed("the API key is not valid")
        key, tenant = found
        return Principal(tenant=tenant, key_id=key.id, name=key.name, scopes=key.scopes)

    @staticmethod
    def require(principal: Principal, scope: Scope) -> None:
        if not principal.has_scope(scope):
            raise Forbidden(f"this API key lacks the {scope.value} scope")

    @staticmethod
    def require_feature(principal: Principal, feature: str) -> None:
        """A tenant-level switch (e.g. ``custom_reports``), checked whatever the key's scopes."""
        if not principal.tenant.has_feature(feature):
            raise FeatureNotEnabled(f"the {feature} feature is not enabled for this tenant")

    # -- templates -----------------------------------------------------------------------

    def list_templates(self, principal: Principal) -> list[Template]:
        self.require(principal, Scope.TEMPLATES_READ)
        return sorted(self.templates.values(), key=lambda t: t.id)

    def get_template(self, principal: Principal, template_id: str) -> Template:
        self.require(principal, Scope.TEMPLATES_READ)
        return self.template(template_id)

    def template(self, template_id: str) -> Template:
        try:
            return self.templates[template_id]
        except KeyError:
            raise TemplateNotFound(f"template {template_id!r} not found") from None

    def validate_query(
        self,
        principal: Principal,
        template_id: str,
        filter: str | None = None,
        order_by: Sequence[str] = (),
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Check a filter, an order and options against a template, as a create would."""
        template = self.get_template(principal, template_id)
        if options is not None:
            resolve_options(template, options)
        if filter and filter.strip():
            compile_filter(filter, template.fields_by_name)
        parse_order_by(order_by, template.fields_by_name)

    # -- reports -------------------------------------------------------------------------

    def create_report(self, principal: Principal, request: ReportRequest) -> Report:
        """Queue a report, or hand back a live identical one within the template's dedup window."""
        self.require(principal, Scope.REPORTS_WRITE)
        report = self.validate_request(principal.tenant_id, request)
        window = self.template(report.template_id).dedup_window
        if window and report.dedup_key:
            since = datetime.now(UTC) - timedelta(seconds=window)
            twin = self.store.reports.find_duplicate(report.tenant_id, report.dedup_key, since)
            if twin is not None:
                return twin.evolve(deduplicated=True)
        made = report.evolve(created_by=principal.name, created_by_id=principal.key_id)
        return self.store.reports.insert(made)

    def validate_request(self, tenant_id: str, request: ReportRequest) -> Report:
        """A CREATED report for ``request``, or the first reason it cannot be made."""
        template = self.template(request.template_id)
        formats = self._formats(template, request.formats)
        fields = self._fields(template, request.fields)
        options = resolve_options(template, request.options)
        if request.filter and request.filter.strip():
            compile_filter(request.filter, template.fields_by_name)
        parse_order_by(request.order_by, template.fields_by_name)
        packaging = self._packaging(request.packaging)
        storage_id = request.storage_id or self.default_storage
        if storage_id not in self.storages:
            raise StorageNotFound(f"no storage {storage_id!r}; known: {sorted(self.storages)}")
        if request.expires_in is not None and request.expires_in <= 0:
            raise ValidationError("expires_in must be a positive number of seconds")
        if request.callback_url is not None:
            check_url(request.callback_url, "callback_url")
        report = Report(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            template_id=template.id,
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
        )
        return report.evolve(dedup_key=dedup_key(report))

    @staticmethod
    def _formats(template: Template, asked: Sequence[str]) -> tuple[Format, ...]:
        """The formats to write; ``zip`` bundles the others and needs at least one of them."""
        if not asked:
            raise ValidationError("at least one format is required")
        formats: list[Format] = []
        for name in asked:
            fmt = Format.parse(name)
            if not fmt.is_bundle and fmt not in available_formats():
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

    @staticmethod
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

    @staticmethod
    def _packaging(value: str) -> Packaging:
        try:
            return Packaging(value)
        except ValueError:
            raise ValidationError(
                f"packaging must be one of {[p.value for p in Packaging]}"
            ) from None

    @staticmethod
    def _zip_password(
        packaging: Packaging, formats: tuple[Format, ...], asked: bool | str | None
    ) -> str | None:
        if asked is None or asked is False:
            return None
        if packaging is not Packaging.ZIP and Format.ZIP not in formats:
            raise ValidationError("zip_password needs packaging 'zip' or the 'zip' format")
        if asked is True:
            return generate_password()
        if len(asked) < 8:
            raise ValidationError("a zip password must be at least 8 characters")
        return asked

    def get_report(self, principal: Principal, report_id: str) -> Report:
        self.require(principal, Scope.REPORTS_READ)
        return self.store.reports.get(report_id, principal.tenant_id)

    def list_reports(
        self,
        principal: Principal,
        *,
        state: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        created_by: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> ReportPage:
        self.require(principal, Scope.REPORTS_READ)
        if state is not None and state not in ReportState.__members__:
            raise ValidationError(f"state must be one of {list(ReportState.__members__)}")
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
        return self.store.reports.search(
            ReportQuery(
                tenant_id=principal.tenant_id,
                state=state,
                template_id=template_id,
                schedule_id=schedule_id,
                created_by=created_by,
                limit=limit,
                cursor=cursor,
            )
        )

    def cancel_report(self, principal: Principal, report_id: str) -> Report:
        self.require(principal, Scope.REPORTS_WRITE)
        report = self.store.reports.get(report_id, principal.tenant_id)
        return self.store.reports.request_cancel(
            report_id, principal.tenant_id, self.expiry_of(report)
        )

    def delete_report(self, principal: Principal, report_id: str) -> None:
        self.require(principal, Scope.REPORTS_WRITE)
        report, keys = self.store.reports.delete(report_id, principal.tenant_id)
        storage = self.storages.get(report.storage_id)
        if storage is not None:
            for key in keys:
                storage.delete(key)

    # -- downloads -----------------------------------------------------------------------

    def open_download(
        self, principal: Principal, report_id: str, fmt: str | None, part: int | None = None
    ) -> Download:
        self.require(principal, Scope.REPORTS_READ)
        report = self.store.reports.get(report_id, principal.tenant_id)
        return self._download(report, fmt, part)

    def _download(self, report: Report, fmt: str | None, part: int | None) -> Download:
        """A file of the report; files stay available while formats are being added."""
        if report.state is ReportState.EXPIRED:
            raise ReportExpired()
        candidates = list(report.artifacts)
        if fmt is not None:
            wanted = Format.parse(fmt)
            candidates = [a for a in candidates if a.format == wanted]
        if part is not None:
            candidates = [a for a in candidates if (a.part or 1) == part]
        if candidates:
            return Download(report=report, artifact=candidates[0], storage=self._storage(report))
        if report.state is not ReportState.FINISHED:
            raise ReportNotReady(f"the report is {report.state}, not FINISHED")
        if fmt is not None and not report.artifacts_for(Format.parse(fmt)):
            raise FormatInapplicable(
                f"the report has no {Format.parse(fmt).value} file; it has "
                f"{sorted({a.format.value for a in report.artifacts})}"
            )
        raise ArtifactNotFound()

    def add_format(self, principal: Principal, report_id: str, fmt_name: str) -> Report:
        """Another format of a finished report, made from its kept rows, not from the source."""
        self.require(principal, Scope.REPORTS_WRITE)
        report = self.store.reports.get(report_id, principal.tenant_id)
        template = self.template(report.template_id)
        (fmt,) = self._formats(template, [fmt_name])
        if fmt.is_bundle:
            raise FormatInapplicable("zip can only be asked for when the report is created")
        if fmt in report.formats:
            return report
        if report.state is not ReportState.FINISHED:
            raise ReportNotReady(f"the report is {report.state}, not FINISHED")
        if not report.data_key:
            raise Conflict(
                f"report {report.id} kept no data to make new formats from "
                f"(template {template.id!r} does not set keep_data)"
            )
        return self.store.reports.add_formats(report.id, (*report.formats, fmt))

    def _storage(self, report: Report) -> ArtifactStorage:
        try:
            return self.storages[report.storage_id]
        except KeyError:
            raise StorageNotFound(f"storage {report.storage_id!r} is not configured") from None

    def download_link(
        self,
        principal: Principal,
        report_id: str,
        fmt: str | None,
        *,
        part: int | None = None,
        base_url: str | None = None,
        expires_in: int | None = None,
    ) -> DownloadLink:
        download = self.open_download(principal, report_id, fmt, part)
        return self.signed_link(download, base_url=base_url, expires_in=expires_in)

    def signed_link(
        self, download: Download, *, base_url: str | None = None, expires_in: int | None = None
    ) -> DownloadLink:
        """An absolute link that needs no other credential, valid ``expires_in`` seconds."""
        ttl = expires_in or self.link_ttl
        artifact = download.artifact
        expires_at = int(time.time()) + ttl
        presigned = download.storage.presigned_url(
            artifact.storage_key,
            filename=artifact.filename,
            mime_type=artifact.mime_type,
            expires_in=ttl,
        )
        if presigned is not None:
            url = presigned
        else:
            path = self.file_path(download.report.id, artifact.filename)
            query = urlencode(self.signer.signed_query(path, expires_at))
            root = self.public_url or (base_url or "").rstrip("/")
            url = f"{root}{path}?{query}"
        return DownloadLink(
            url=url, expires_at=datetime.fromtimestamp(expires_at, UTC), artifact=artifact
        )

    @staticmethod
    def file_path(report_id: str, filename: str) -> str:
        return f"/v1/files/{quote(report_id, safe='')}/{quote(filename, safe='')}"

    def open_signed(
        self, report_id: str, filename: str, expires: str | None, signature: str | None
    ) -> Download:
        """The file behind a signed link; the signature is the only credential."""
        self.signer.verify(self.file_path(report_id, filename), expires, signature)
        report = self.store.reports.get(report_id)
        if report.state is ReportState.EXPIRED:
            raise ReportExpired()
        for artifact in report.artifacts:
            if artifact.filename == filename:
                return Download(report=report, artifact=artifact, storage=self._storage(report))
        raise ArtifactNotFound()

    # -- the worker's use cases ----------------------------------------------------------

    def claim(self, worker_id: str) -> Report | None:
        return self.store.reports.claim(worker_id, self.run_options.lease_seconds)

    def heartbeat(self, report_id: str, worker_id: str, control: RunControl) -> Heartbeat:
        return self.store.reports.heartbeat(
            report_id, worker_id, self.run_options.lease_seconds, control.progress
        )

    def release(self, report_id: str, worker_id: str) -> bool:
        return self.store.reports.release(report_id, worker_id)

    def reap(self) -> ReapResult:
        result = self.store.reports.reap(self.run_options.max_attempts, FAILED_RETENTION)
        for report_id in result.requeued:
            log.warning(
                "lease expired; report requeued",
                extra={"action": "requeue", "report_id": report_id},
            )
        return result

    def deadline(self, report: Report) -> float:
        started = report.started_at or datetime.now(UTC)
        return started.timestamp() + self.template(report.template_id).timeout

    def run_report(self, report: Report, worker_id: str, control: RunControl) -> ReportState:
        """Generate a claimed report and record how it ended; never raises for a bad run."""
        workdir = Path(tempfile.mkdtemp(prefix=f"reportd-{report.id[:8]}-"))
        try:
            result = self._generate(report, workdir, control)
            return self._store_files(report, worker_id, result, control)
        except Exception as exc:  # every way out must end the report, never leave it stuck
            shutil.rmtree(workdir, ignore_errors=True)  # partial files go before the end is told
            return self._after_error(report, worker_id, control, exc)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _after_error(
        self, report: Report, worker_id: str, control: RunControl, exc: Exception
    ) -> ReportState:
        if isinstance(exc, DatabaseUnavailable):
            raise exc  # nothing can be recorded: the lease runs out and the report is re-run
        if isinstance(exc, StorageUnavailable) and control.stopping is None:
            return self._retry_later(report, worker_id, exc)
        if control.stopping is not None:
            # Canceled, timed out or handed back; an interrupted query surfaces as an error.
            if control.hand_back:
                self.release(report.id, worker_id)
                return ReportState.CREATED
            reason = control.stopping()
            timed_out = isinstance(reason, ReportTimedOut)
            state = ReportState.TIMEOUT if timed_out else ReportState.CANCELED
            return self._end(report, worker_id, state, reason)
        if not isinstance(exc, ReportdError):
            log.exception("report failed", extra={"action": "crash", "report_id": report.id})
            exc = ReportdError(f"internal error: {type(exc).__name__}")
        return self._end(report, worker_id, ReportState.FAILURE, exc)

    def _retry_later(self, report: Report, worker_id: str, exc: StorageUnavailable) -> ReportState:
        """Storage was away: back to the queue after a backoff while attempts remain."""
        if report.attempts >= self.run_options.max_attempts:
            gave_up = StorageUnavailable(f"{exc.message}; gave up after {report.attempts} attempts")
            return self._end(report, worker_id, ReportState.FAILURE, gave_up)
        delay = min(STORAGE_RETRY_MAX, STORAGE_RETRY_FIRST * 2 ** (report.attempts - 1))
        log.warning(
            "storage unavailable; the report will be retried",
            extra={"action": "storage_retry", "retry_in": delay, "error": exc.message},
        )
        self.store.reports.park(report.id, worker_id, delay)
        return ReportState.CREATED

    def _generate(self, report: Report, workdir: Path, control: RunControl) -> RunResult:
        template = self.template(report.template_id)
        missing = tuple(f for f in report.formats if not report.artifacts_for(f))
        spec = RunSpec(
            template=template,
            tenant_id=report.tenant_id,
            fields=report.fields,
            formats=missing,
            options=report.options,
            filter=report.filter,
            order_by=report.order_by,
            packaging=report.packaging,
            zip_password=report.zip_password,
            zip_encryption=report.zip_encryption,
            report_name=report.name,
        )
        if report.artifacts and report.data_key:  # formats added later: from the kept rows
            data = workdir / "kept.parquet"
            self._fetch(report, report.data_key, data)
            return regenerate(
                spec, data, workdir, control, compresslevel=self.run_options.compresslevel
            )
        return generate(
            spec,
            self.source(template.source),
            workdir,
            control,
            batch_size=self.run_options.batch_size,
            compresslevel=self.run_options.compresslevel,
        )

    def _fetch(self, report: Report, key: str, dest: Path) -> None:
        with dest.open("wb") as out:
            for chunk in self._storage(report).open_range(key):
                out.write(chunk)

    def source(self, name: str) -> Source:
        try:
            return self.sources[name]
        except KeyError:
            raise SourceNotFound(f"source {name!r} is not configured") from None

    def _store_files(
        self, report: Report, worker_id: str, result: RunResult, control: RunControl
    ) -> ReportState:
        storage = self._storage(report)
        _drop_stale_attempts(report, storage)
        prefix = f"{report.tenant_id}/{report.id}/{report.attempts}"
        artifacts = []
        for out in result.files:
            key = f"{prefix}/{out.filename}"
            storage.put_file(key, out.path)
            artifacts.append(_artifact(report.id, key, out))
        data_key = None
        if result.kept_data is not None:
            data_key = f"{prefix}/data/rows.parquet"
            storage.put_file(data_key, result.kept_data)
        regenerated = bool(report.artifacts)
        expires_at = (
            report.expires_at if regenerated and report.expires_at else (self.expiry_of(report))
        )
        if self.store.reports.finish(
            report.id, worker_id, artifacts, control.progress, expires_at, data_key=data_key
        ):
            return ReportState.FINISHED
        # The lease was lost (another worker has it now): nothing of ours may stay.
        storage.delete_prefix(prefix + "/")
        return ReportState.IN_PROGRESS

    def _end(
        self, report: Report, worker_id: str, state: ReportState, exc: ReportdError
    ) -> ReportState:
        error = ReportError(code=exc.code, message=exc.message)
        self.store.reports.end(report.id, worker_id, state, error, self.expiry_of(report))
        return state

    def expiry_of(self, report: Report) -> datetime:
        """When an ending report's files go: its template's retention, or less if asked."""
        retention = self.template(report.template_id).retention
        if report.expires_in is not None:
            retention = min(retention, report.expires_in)
        expiry = datetime.now(UTC) + timedelta(seconds=retention)
        if report.expires_at is not None:  # asked for at creation (e.g. PingOne's 30 minutes)
            expiry = min(expiry, report.expires_at)
        return expiry

    def expire_due(self, now: datetime | None = None) -> list[str]:
        """The retention sweep: delete expired reports' files, then mark them EXPIRED."""
        expired: list[str] = []
        for report in self.store.reports.expired(now or datetime.now(UTC)):
            storage = self.storages.get(report.storage_id)
            if storage is not None:
                storage.delete_prefix(f"{report.tenant_id}/{report.id}/")
            if self.store.reports.mark_expired(report):
                expired.append(report.id)
                log.info("report expired", extra={"action": "expire", "report_id": report.id})
        return expired

    # -- in-process export (no server) ---------------------------------------------------

    def export(
        self,
        tenant_id: str,
        request: ReportRequest,
        workdir: Path,
        control: RunControl | None = None,
    ) -> list[OutputFile]:
        """One report through the same pipeline the workers run: every file, parts included.

        The files are left in ``workdir`` under their own names; placing them is the caller's
        business (``reportd export`` names them after ``--output``).
        """
        report = self.validate_request(tenant_id, request)
        template = self.template(report.template_id)
        control = control or RunControl(deadline=time.time() + template.timeout)
        return self._generate(report, workdir, control).files

    def export_names(self, tenant_id: str, request: ReportRequest) -> list[str]:
        """The file names an export of ``request`` starts with (before it knows its parts)."""
        report = self.validate_request(tenant_id, request)
        template = self.template(report.template_id)
        split = template.max_rows_per_file is not None or template.max_bytes_per_file is not None
        today = datetime.now(UTC).date()
        names = []
        for fmt in report.formats:
            name = artifact_filename(template.file_stem, today, fmt.extension, 1 if split else None)
            if report.packaging is not Packaging.NONE:
                stem = name.rsplit(".", 1)[0]
                name = f"{stem}.{report.packaging.wrap_extension(fmt.extension)}"
            names.append(name)
        return names

    def iter_file(
        self, download: Download, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        return download.storage.open_range(download.artifact.storage_key, start, end)

    def close(self) -> None:
        """Release database connections and open sources (DuckDB files stay locked otherwise)."""
        for source in self.sources.values():
            source.close()
        self.store.close()

    def readiness(self) -> dict[str, Any]:
        """Raises Unavailable naming every dependency that is down (``details.down``)."""
        checks = {"database": self.store.check}
        checks.update({f"storage:{name}": s.check for name, s in self.storages.items()})
        down: dict[str, str] = {}
        for name, check in checks.items():
            try:
                check()
            except Exception as exc:  # a probe: whatever the failure, the dependency is down
                down[name] = exc.message if isinstance(exc, ReportdError) else repr(exc)
        if down:
            raise Unavailable(f"not ready: {', '.join(down)} unavailable", details={"down": down})
        return {"database": "ok", "storages": sorted(self.storages)}


def _drop_stale_attempts(report: Report, storage: ArtifactStorage) -> None:
    """Delete files earlier attempts stored but never recorded (a worker killed between
    upload and finish, a database lost mid-finish), so no orphan stays and no report ever
    holds files of two attempts. Recorded files (formats added later) are kept."""
    if report.attempts <= 1:
        return
    kept = {a.storage_key for a in report.artifacts} | {report.data_key or ""}
    for key in storage.list_keys(f"{report.tenant_id}/{report.id}/"):
        if key not in kept:
            storage.delete(key)


def _artifact(report_id: str, key: str, out: OutputFile) -> Artifact:
    return Artifact(
        report_id=report_id,
        format=out.format,
        packaging=out.packaging,
        filename=out.filename,
        mime_type=out.mime_type,
        size=out.size,
        sha256=out.sha256,
        storage_key=key,
        part=out.part,
        rows=out.rows,
        zip_password=out.zip_password,
    )


def dedup_key(report: Report) -> str:
    """What makes two requests the same report, hashed (the password is not part of it)."""
    material = {
        "template_id": report.template_id,
        "options": report.options,
        "fields": report.fields,
        "filter": report.filter,
        "order_by": report.order_by,
        "formats": [f.value for f in report.formats],
        "packaging": report.packaging.value,
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
