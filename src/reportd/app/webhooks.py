"""Webhooks: per-tenant subscriptions, the rules of delivery, and the callback signing key.

A report reaching a final state becomes one delivery per matching subscription (and one
for its ``callback_url``) through the outbox of the webhooks port
(``reportd.adapters.db.webhooks``); ``reportd.app.dispatcher`` runs in every worker process and
POSTs them, retrying with backoff. Delivery is at least once: receivers de-duplicate on the
``Reportd-Delivery`` (= ``webhook-id``) header. Signatures: ``reportd.domain.webhook_signatures``;
each subscription chooses its scheme (``reportd``, ``standard`` or ``both``), callbacks get the
server's default.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportd.app.access import require
from reportd.app.urls import MAX_URL_LENGTH, check_url
from reportd.domain.destinations import DELIVERY_EVENTS
from reportd.domain.errors import ValidationError
from reportd.domain.models import Principal, Scope
from reportd.domain.paging import check_page
from reportd.domain.states import ReportState
from reportd.domain.webhook_signatures import (
    DEFAULT_SCHEME,
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    check_scheme,
    sign,
    signature_header,
    verify,
)
from reportd.domain.webhooks import DeliveryPage, Webhook

if TYPE_CHECKING:
    from reportd.app.outbound import OutboundPolicy
    from reportd.app.ports import WebhookRepository

__all__ = [
    "DELIVERY_HEADER",
    "EVENTS",
    "EVENT_HEADER",
    "EVENT_OF_STATE",
    "MAX_URL_LENGTH",
    "SIGNATURE_HEADER",
    "DeliveryPolicy",
    "WebhookService",
    "check_events",
    "check_url",
    "sign",
    "signature_header",
    "verify",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
MAX_SUBSCRIPTIONS = 100

EVENT_OF_STATE: dict[str, str] = {
    ReportState.FINISHED.value: "report.finished",
    ReportState.FAILURE.value: "report.failed",
    ReportState.TIMEOUT.value: "report.failed",
    ReportState.CANCELED.value: "report.canceled",
    ReportState.EXPIRED.value: "report.expired",
}
# A delivery's outcome is an event too (reportd.app.deliveries), not a report state.
EVENTS: tuple[str, ...] = (*dict.fromkeys(EVENT_OF_STATE.values()), *DELIVERY_EVENTS)
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600)


# -- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard to try: the delay before each retry, the POST timeout, the attempt cap."""

    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    timeout: float = 10.0
    max_attempts: int = 10
    poll_interval: float = 0.5

    def __post_init__(self) -> None:
        if not self.retry_delays or min(self.retry_delays) < 0:
            raise ValidationError("[webhooks] retry_delays must be non-negative seconds")

    def delay_after(self, attempts: int) -> float | None:
        """Seconds before the next try after ``attempts`` tries; None: give up."""
        if attempts >= self.max_attempts:
            return None
        return self.retry_delays[min(attempts, len(self.retry_delays)) - 1]

    @property
    def lease_seconds(self) -> float:
        """Long enough for one POST (connect, write and read each up to ``timeout``)."""
        return self.timeout * 4 + 30


def check_events(events: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise ValidationError(
            f"events must be a non-empty list of {list(EVENTS)}",
            details={"unknown_events": unknown},
        )
    return tuple(dict.fromkeys(events))


# -- the use cases --------------------------------------------------------------------------


class WebhookService:
    """Subscriptions per tenant, their delivery logs, and the keys deliveries are signed with.

    The body a delivery POSTs is rendered by the dispatcher (``reportd.app.dispatcher``).
    """

    def __init__(
        self,
        *,
        store: WebhookRepository,
        signing_secret: str,
        outbound: OutboundPolicy,
        policy: DeliveryPolicy | None = None,
        default_signature: str = DEFAULT_SCHEME,
    ) -> None:
        self.store = store
        self._outbound = outbound
        self.policy = policy or DeliveryPolicy()
        self._callback_key = signing_secret.encode()
        # The scheme of a subscription that names none, and of every callback_url delivery.
        self.default_signature = check_scheme(default_signature, "[webhooks] signature")

    def subscribe(
        self,
        principal: Principal,
        url: str,
        events: Sequence[str],
        signature: str | None = None,
    ) -> Webhook:
        """A new subscription; the returned record carries its ``secret`` (shown once)."""
        require(principal, Scope.REPORTS_WRITE)
        self._outbound.check(check_url(url))
        webhook = Webhook(
            id=str(uuid.uuid4()),
            tenant_id=principal.tenant_id,
            url=url,
            events=check_events(events),
            secret=SECRET_PREFIX + secrets.token_hex(32),
            signature=check_scheme(signature or self.default_signature),
        )
        if self.store.count(principal.tenant_id) >= MAX_SUBSCRIPTIONS:
            raise ValidationError(f"a tenant has at most {MAX_SUBSCRIPTIONS} webhooks")
        return self.store.create(webhook)

    def list(self, principal: Principal) -> builtins.list[Webhook]:
        require(principal, Scope.REPORTS_READ)
        return self.store.list_for_tenant(principal.tenant_id)

    def get(self, principal: Principal, webhook_id: str) -> Webhook:
        require(principal, Scope.REPORTS_READ)
        return self.store.get(webhook_id, principal.tenant_id)

    def set_signature(self, principal: Principal, webhook_id: str, signature: str) -> Webhook:
        """Switch a subscription's scheme (say ``reportd`` → ``both`` → ``standard``) keeping
        its secret, so a receiver can move to a Standard Webhooks library without a gap."""
        require(principal, Scope.REPORTS_WRITE)
        return self.store.set_signature(webhook_id, principal.tenant_id, check_scheme(signature))

    def delete(self, principal: Principal, webhook_id: str) -> None:
        require(principal, Scope.REPORTS_WRITE)
        self.store.delete(webhook_id, principal.tenant_id)

    def deliveries(
        self, principal: Principal, webhook_id: str, *, limit: int = 50, offset: int = 0
    ) -> DeliveryPage:
        require(principal, Scope.REPORTS_READ)
        check_page(limit, offset)
        return self.store.deliveries(webhook_id, principal.tenant_id, limit=limit, offset=offset)

    def callback_secret(self, principal: Principal) -> str:
        """The key signing the tenant's ``callback_url`` deliveries (a secret: write scope)."""
        require(principal, Scope.REPORTS_WRITE)
        return self.callback_secret_for(principal.tenant_id)

    def callback_secret_for(self, tenant_id: str) -> str:
        """Derived from the server secret, so every process agrees without storing it."""
        message = b"reportd.app.webhooks.callback:" + tenant_id.encode()
        return SECRET_PREFIX + hmac.new(self._callback_key, message, hashlib.sha256).hexdigest()
