"""One report made in this process, with no queue and no metadata: ``reportd export``.

An export is checked like a created report and runs the workers' pipeline, so its files are
the ones a worker would have made. It is a use case of its own, over the catalog and the
generator only, so that ``bootstrap.build_exports`` can give the CLI a report maker without
building the store, the HTTP client or the token machinery it never uses (their imports were
most of an export's start-up: docs/performance.md).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from reportd.app.catalog import Catalog
from reportd.app.generator import Generator, OutputFile, RunControl, RunSpec
from reportd.app.requests import RequestChecker
from reportd.domain.formats import Packaging
from reportd.domain.models import ReportRequest
from reportd.domain.naming import artifact_filename


class Exports:
    def __init__(self, *, catalog: Catalog, generator: Generator, checker: RequestChecker) -> None:
        self._catalog = catalog
        self._generator = generator
        self._checker = checker

    def export(
        self,
        tenant_id: str,
        request: ReportRequest,
        workdir: Path,
        control: RunControl | None = None,
    ) -> list[OutputFile]:
        """Every file of ``request``, parts included, left in ``workdir`` under its own name;
        placing them is the caller's business (``reportd export`` names them after
        ``--output``)."""
        report = self._checker.check(tenant_id, request)
        template = self._catalog.of_report(report)
        control = control or RunControl(deadline=time.time() + template.timeout)
        spec = RunSpec.of(report, template, report.formats)
        source = self._catalog.source(template.source)
        return self._generator.generate(spec, source, workdir, control).files

    def names(self, tenant_id: str, request: ReportRequest) -> list[str]:
        """The file names an export of ``request`` starts with (before it knows its parts),
        so that a run that would overwrite a file is refused before a row is read."""
        report = self._checker.check(tenant_id, request)
        template = self._catalog.of_report(report)
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
