"""Downloads: which file of a report to serve, and expiring signed links to it.

A signed link (``/v1/files/<report>/<filename>?expires=&signature=``) needs no other credential:
the signature is checked first, then the expiry (``reportd.adapters.storage.signing``). A
storage that can presign (S3) gets its own URL instead, so the bytes skip reportd.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlencode

from reportd.app.access import require
from reportd.app.catalog import Catalog, FileStorage
from reportd.domain.errors import (
    ArtifactNotFound,
    FormatInapplicable,
    ReportExpired,
    ReportNotReady,
)
from reportd.domain.formats import Format
from reportd.domain.models import Artifact, Principal, Report, Scope
from reportd.domain.states import ReportState

if TYPE_CHECKING:
    from reportd.app.ports import ReportRepository

__all__ = ["Download", "DownloadLink", "Downloads", "LinkSigner", "file_path"]


class LinkSigner(Protocol):
    """Signs link paths (``reportd.adapters.storage.signing.LinkSigner``)."""

    def signed_query(self, path: str, expires_at: int) -> dict[str, str]: ...
    def verify(self, path: str, expires: str | None, signature: str | None) -> None: ...


@dataclass(frozen=True, slots=True)
class Download:
    """An artifact ready to stream: where it is and how to describe it."""

    report: Report
    artifact: Artifact
    storage: FileStorage

    def open(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start..end`` (inclusive, as HTTP ``Range``); raises before the first chunk."""
        return self.storage.open_range(self.artifact.storage_key, start, end)


@dataclass(frozen=True, slots=True)
class DownloadLink:
    url: str
    expires_at: datetime
    artifact: Artifact


def file_path(report_id: str, filename: str) -> str:
    """The path a signed link signs (and the files route serves)."""
    return f"/v1/files/{quote(report_id, safe='')}/{quote(filename, safe='')}"


class Downloads:
    def __init__(
        self,
        *,
        reports: ReportRepository,
        catalog: Catalog,
        signer: LinkSigner,
        link_ttl: int = 300,
        public_url: str | None = None,
    ) -> None:
        self._reports = reports
        self._catalog = catalog
        self._signer = signer
        self.link_ttl = link_ttl
        self.public_url = public_url.rstrip("/") if public_url else None

    def open_download(
        self, principal: Principal, report_id: str, fmt: str | None, part: int | None = None
    ) -> Download:
        require(principal, Scope.REPORTS_READ)
        return self.of_report(self._reports.get(report_id, principal.tenant_id), fmt, part)

    def of_report(self, report: Report, fmt: str | None, part: int | None = None) -> Download:
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
            storage = self._catalog.storage_of(report)
            return Download(report=report, artifact=candidates[0], storage=storage)
        if report.state is not ReportState.FINISHED:
            raise ReportNotReady(f"the report is {report.state}, not FINISHED")
        if fmt is not None and not report.artifacts_for(Format.parse(fmt)):
            raise FormatInapplicable(
                f"the report has no {Format.parse(fmt).value} file; it has "
                f"{sorted({a.format.value for a in report.artifacts})}"
            )
        raise ArtifactNotFound()

    def files_of(self, report: Report) -> tuple[Download, ...]:
        """Every file of a finished report, each ready to open (what a delivery sends)."""
        storage = self._catalog.storage_of(report)
        return tuple(Download(report=report, artifact=a, storage=storage) for a in report.artifacts)

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
            path = file_path(download.report.id, artifact.filename)
            query = urlencode(self._signer.signed_query(path, expires_at))
            root = self.public_url or (base_url or "").rstrip("/")
            url = f"{root}{path}?{query}"
        return DownloadLink(
            url=url, expires_at=datetime.fromtimestamp(expires_at, UTC), artifact=artifact
        )

    def open_signed(
        self, report_id: str, filename: str, expires: str | None, signature: str | None
    ) -> Download:
        """The file behind a signed link; the signature is the only credential."""
        self._signer.verify(file_path(report_id, filename), expires, signature)
        report = self._reports.get(report_id)
        if report.state is ReportState.EXPIRED:
            raise ReportExpired()
        for artifact in report.artifacts:
            if artifact.filename == filename:
                storage = self._catalog.storage_of(report)
                return Download(report=report, artifact=artifact, storage=storage)
        raise ArtifactNotFound()
