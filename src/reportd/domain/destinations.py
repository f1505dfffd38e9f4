"""Destinations (where a tenant's finished reports are sent) and the deliveries to them.

A destination is one of four types; each keeps its public settings in ``config`` (shown by
the API) and its secrets in ``secrets`` (an S3 secret key, an SFTP password or private key, a
webhook signing secret). The store only ever holds ``secrets`` sealed (``sealed_secrets``);
``reportd.app.destinations`` seals them with a key from the configuration and opens them
only to deliver.

A delivery is one report to one destination: made with the report (in the same insert), tried
once the report ends FINISHED, retried with backoff, and leased while a worker tries it, like a
webhook delivery (``reportd.domain.webhooks``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from reportd.domain.webhooks import ATTEMPT_FAILED, REFUSED_BY_POLICY

__all__ = [
    "AUTHENTICATION_FAILED",
    "DELIVERED_EVENT",
    "DELIVERY_EVENTS",
    "DELIVERY_FAILED_EVENT",
    "DELIVERY_STATES",
    "NOT_CONFIGURED",
    "SHOWN_REASONS",
    "TOO_BIG_FOR_WEBHOOK",
    "ClaimedReportDelivery",
    "DeliveryState",
    "Destination",
    "DestinationType",
    "ReportDelivery",
    "pending_deliveries",
]


# What a delivery's ``last_error`` may say about a send, as the webhooks' delivery log: a
# stable reason that tells the tenant nothing about what answered on a host they named (the
# operator's log has the detail, with the report and destination ids). Beside the webhooks'
# "failed" and "refused by policy", only reasons that a server proved is the tenant's own, or
# that arise before any connection: an SFTP login refused after the server showed the pinned
# host key; a file over the webhook destination's size cap; no ``[smtp]`` host configured.
# A host key mismatch or an S3 "invalid access key" is "failed": any SSH or S3 server on an
# allow-listed address would answer the same, so telling it would reveal that one is there.
# (The dispatcher's own reasons, such as "the destination was deleted", are also shown.)
AUTHENTICATION_FAILED = "authentication failed"
TOO_BIG_FOR_WEBHOOK = "file too big for a webhook destination"
NOT_CONFIGURED = "e-mail cannot be sent: the operator configured no [smtp] host"
SHOWN_REASONS = (
    ATTEMPT_FAILED,
    REFUSED_BY_POLICY,
    AUTHENTICATION_FAILED,
    TOO_BIG_FOR_WEBHOOK,
    NOT_CONFIGURED,
)

# The webhook events of a delivery's outcome (subscribable like report.finished).
DELIVERED_EVENT = "report.delivered"
DELIVERY_FAILED_EVENT = "report.delivery_failed"
DELIVERY_EVENTS = (DELIVERED_EVENT, DELIVERY_FAILED_EVENT)


class DestinationType(StrEnum):
    EMAIL = "email"
    S3 = "s3"
    SFTP = "sftp"
    WEBHOOK = "webhook"


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for the report to finish, or for its next try
    DELIVERED = "delivered"
    FAILED = "failed"  # for good: attempts spent, or the destination was deleted
    SKIPPED = "skipped"  # the report ended without files (FAILURE, TIMEOUT, CANCELED)


DELIVERY_STATES = tuple(s.value for s in DeliveryState)


@dataclass(frozen=True, slots=True)
class Destination:
    """A tenant's destination; ``sealed_secrets`` is what the store keeps, never plain text."""

    id: str
    tenant_id: str
    type: DestinationType
    name: str
    config: Mapping[str, Any] = field(default_factory=dict)
    sealed_secrets: str | None = None
    secret_names: tuple[str, ...] = ()  # which secrets are set (shown; their values never are)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportDelivery:
    """One report to one destination, as the report resource shows it."""

    report_id: str
    destination_id: str
    tenant_id: str
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClaimedReportDelivery:
    """A delivery leased to a worker, with the state of its report at the claim."""

    delivery: ReportDelivery
    report_state: str


def pending_deliveries(
    report_id: str, tenant_id: str, destination_ids: Sequence[str], now: datetime
) -> tuple[ReportDelivery, ...]:
    """A new report's deliveries: one pending per destination, due as soon as it ends."""
    return tuple(
        ReportDelivery(
            report_id=report_id,
            destination_id=destination_id,
            tenant_id=tenant_id,
            next_attempt_at=now,
            created_at=now,
        )
        for destination_id in destination_ids
    )
