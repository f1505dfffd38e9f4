"""Structured JSON logs: one object per line, with a stable ``action`` and the report id.

The worker sets ``report_context`` while it runs a report; ``ReportContextFilter`` (on the
handler, so it sees every ``reportd.*`` logger) copies it onto each record, so the lines of
the pipeline, the service and the sources carry ``report_id`` without passing it around.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
report_context: ContextVar[str | None] = ContextVar("reportd_report_id", default=None)


@contextmanager
def report_logging(report_id: str) -> Iterator[None]:
    """Every log line of this thread (and of contexts copied from it) names the report."""
    token = report_context.set(report_id)
    try:
        yield
    finally:
        report_context.reset(token)


class ReportContextFilter(logging.Filter):
    """Adds ``report_id`` from ``report_context`` unless the call gave one itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        report_id = report_context.get()
        if report_id is not None and not hasattr(record, "report_id"):
            record.report_id = report_id
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ReportContextFilter())
    root = logging.getLogger("reportd")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
