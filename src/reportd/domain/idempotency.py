"""Remembered Idempotency-Key requests and their answers (rules: ``reportd.app.idempotency``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["IdempotencyRecord", "StoredResponse"]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """One remembered request; ``response`` is None while the first one still runs."""

    scope: str
    key: str
    method: str
    path: str
    request_hash: str
    created_at: datetime
    response: StoredResponse | None = None
