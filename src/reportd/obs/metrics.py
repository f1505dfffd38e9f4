"""Prometheus metrics of one reportd process, in a registry of its own.

The registry is made by the app factory (or ``reportd worker``), never at import time, so
two apps in one process (the tests) do not share counters. Two kinds of figures:

- read from the metadata database on each scrape (queue depth, reports by state): every
  process reports the same numbers, so scrape one API process for them;
- observed here (generation seconds and rows by format, lease expiries, webhook failures):
  per process; Prometheus sums them across targets. ``reportd worker`` serves its own
  registry with ``[worker] metrics_port`` (see docs/deploy.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reportd.domain.errors import Unavailable
from reportd.domain.states import ReportState

if TYPE_CHECKING:
    from reportd.app.ports import WorkQueue
    from reportd.domain.models import Report

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

GENERATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class Metrics:
    """Every metric reportd exports, registered in ``self.registry``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        self.generation_seconds = Histogram(
            "reportd_generation_seconds",
            "Seconds from claim to FINISHED of reports run by this process, by format.",
            ["format"],
            buckets=GENERATION_BUCKETS,
            registry=self.registry,
        )
        self.rows = Counter(
            "reportd_rows",
            "Rows written into finished reports by this process, by format.",
            ["format"],
            registry=self.registry,
        )
        self.runs = Counter(
            "reportd_runs",
            "Report runs ended by this process, by the state they ended in.",
            ["state"],
            registry=self.registry,
        )
        self.lease_expiries = Counter(
            "reportd_lease_expiries",
            "Reports whose worker stopped renewing its lease, found by this process.",
            registry=self.registry,
        )
        self.webhook_failures = Counter(
            "reportd_webhook_failures",
            "Failed webhook delivery attempts; final=true when no retry follows.",
            ["final"],
            registry=self.registry,
        )
        for final in ("true", "false"):  # exported as 0 before the first failure
            self.webhook_failures.labels(final)
        self.delivery_attempts = Counter(
            "reportd_delivery_attempts",
            "Attempts to deliver reports to destinations, by destination type and by the "
            "state each left its delivery in (delivered, pending: a retry follows, failed, "
            "skipped).",
            ["type", "state"],
            registry=self.registry,
        )

    def watch_queue(self, reports: WorkQueue) -> None:
        """Queue depth and reports by state, read from the database on each scrape."""
        self.registry.register(QueueCollector(reports))

    def observe_run(self, report: Report, state: ReportState, seconds: float, rows: int) -> None:
        self.runs.labels(state.value).inc()
        if state is not ReportState.FINISHED:
            return
        for fmt in report.formats:
            self.generation_seconds.labels(fmt.value).observe(seconds)
            self.rows.labels(fmt.value).inc(rows)

    def webhook_failed(self, final: bool) -> None:
        self.webhook_failures.labels("true" if final else "false").inc()

    def delivery_attempted(self, type: str, state: str) -> None:
        self.delivery_attempts.labels(type, state).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Expose this registry on ``http://host:port/metrics`` (worker processes)."""
        start_http_server(port, addr=host, registry=self.registry)


class QueueCollector(Collector):
    """Gauges computed from the reports table when scraped; ``reportd_database_up`` says
    whether the database answered (the other two are absent when it did not)."""

    def __init__(self, reports: WorkQueue) -> None:
        self.reports = reports

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "reportd_database_up", "1 when the metadata database answered this scrape."
        )
        try:
            counts = self.reports.count_by_state()
        except Unavailable:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "reportd_queue_depth",
            "Reports waiting for a worker (state CREATED).",
            value=counts[ReportState.CREATED.value],
        )
        states = GaugeMetricFamily("reportd_reports", "Reports by state.", labels=["state"])
        for state, count in counts.items():
            states.add_metric([state], count)
        yield states
