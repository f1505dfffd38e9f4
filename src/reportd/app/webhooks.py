"""Webhooks: per-tenant subscriptions, Stripe-style signatures, and the dispatcher.

A report reaching a final state becomes one delivery per matching subscription (and one
for its ``callback_url``) through the outbox in ``store/webhooks.py``; ``WebhookDispatcher``
runs in every worker process and POSTs them, retrying with backoff. Delivery is at least
once: receivers de-duplicate on the ``Reportd-Delivery`` header.

This module imports no database code at run time, so the SDK can reuse ``verify``.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from reportd.domain.errors import Forbidden, InvalidSignature, ValidationError
from reportd.domain.models import Principal, Report, Scope
from reportd.domain.states import ReportState
from reportd.domain.webhooks import ClaimedDelivery, DeliveryPage, Webhook

if TYPE_CHECKING:
    from reportd.app.ports import ReportRepository, WebhookRepository

log = logging.getLogger("reportd.app.webhooks")

SIGNATURE_HEADER = "Reportd-Signature"
EVENT_HEADER = "Reportd-Event"
DELIVERY_HEADER = "Reportd-Delivery"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
MAX_SUBSCRIPTIONS = 100
MAX_URL_LENGTH = 2000

EVENT_OF_STATE: dict[str, str] = {
    ReportState.FINISHED.value: "report.finished",
    ReportState.FAILURE.value: "report.failed",
    ReportState.TIMEOUT.value: "report.failed",
    ReportState.CANCELED.value: "report.canceled",
    ReportState.EXPIRED.value: "report.expired",
}
EVENTS: tuple[str, ...] = tuple(dict.fromkeys(EVENT_OF_STATE.values()))
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600)


# -- signatures -----------------------------------------------------------------------------


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def sign(secret: str, timestamp: int, body: bytes | str) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed by the whole secret string."""
    message = str(timestamp).encode() + b"." + _bytes(body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes | str) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None:
        raise InvalidSignature(f"{SIGNATURE_HEADER} has no t=<unix time>: {header[:100]!r}")
    if not signatures:
        raise InvalidSignature(f"{SIGNATURE_HEADER} has no v1 signature: {header[:100]!r}")
    return timestamp, signatures


def verify(
    payload: bytes | str,
    header: str,
    secret: str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> None:
    """Raise ``InvalidSignature`` unless ``header`` signs ``payload`` within ``tolerance`` s.

    The timestamp is part of what is signed, so a captured delivery cannot be replayed
    later than ``tolerance`` seconds; any one matching ``v1`` passes (secret rotation).
    """
    timestamp, signatures = _parse_header(header)
    age = (time.time() if now is None else now) - timestamp
    if tolerance > 0 and abs(age) > tolerance:
        raise InvalidSignature(
            f"the webhook's timestamp is {int(age)} s away from now, over the {tolerance} s "
            "tolerance (a replay, or a clock out of sync)"
        )
    expected = sign(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("the webhook's signature does not match its body and secret")


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


def check_url(url: str, what: str = "url") -> str:
    parts = urlsplit(url.strip())
    if len(url) > MAX_URL_LENGTH or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"{what} must be an absolute http or https URL of at most {MAX_URL_LENGTH} characters",
            details={what: url[:200]},
        )
    return url.strip()


def check_events(events: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise ValidationError(
            f"events must be a non-empty list of {list(EVENTS)}",
            details={"unknown_events": unknown},
        )
    return tuple(dict.fromkeys(events))


def _require(principal: Principal, scope: Scope) -> None:
    if not principal.has_scope(scope):
        raise Forbidden(f"this API key lacks the {scope.value} scope")


# -- the use cases --------------------------------------------------------------------------


class WebhookService:
    """Subscriptions per tenant, their delivery logs, and the keys deliveries are signed with.

    ``render`` turns a report into the body sent (the API's report resource); it is passed
    in so this module does not depend on the HTTP layer.
    """

    def __init__(
        self,
        *,
        store: WebhookRepository,
        reports: ReportRepository,
        render: Callable[[Report], str],
        signing_secret: str,
        policy: DeliveryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.store = store
        self.reports = reports
        self.render = render
        self.policy = policy or DeliveryPolicy()
        self.transport = transport
        self._callback_key = signing_secret.encode()

    def subscribe(self, principal: Principal, url: str, events: Sequence[str]) -> Webhook:
        """A new subscription; the returned record carries its ``secret`` (shown once)."""
        _require(principal, Scope.REPORTS_WRITE)
        webhook = Webhook(
            id=str(uuid.uuid4()),
            tenant_id=principal.tenant_id,
            url=check_url(url),
            events=check_events(events),
            secret=SECRET_PREFIX + secrets.token_hex(32),
        )
        if self.store.count(principal.tenant_id) >= MAX_SUBSCRIPTIONS:
            raise ValidationError(f"a tenant has at most {MAX_SUBSCRIPTIONS} webhooks")
        return self.store.create(webhook)

    def list(self, principal: Principal) -> builtins.list[Webhook]:
        _require(principal, Scope.REPORTS_READ)
        return self.store.list_for_tenant(principal.tenant_id)

    def get(self, principal: Principal, webhook_id: str) -> Webhook:
        _require(principal, Scope.REPORTS_READ)
        return self.store.get(webhook_id, principal.tenant_id)

    def delete(self, principal: Principal, webhook_id: str) -> None:
        _require(principal, Scope.REPORTS_WRITE)
        self.store.delete(webhook_id, principal.tenant_id)

    def deliveries(
        self, principal: Principal, webhook_id: str, *, limit: int = 50, offset: int = 0
    ) -> DeliveryPage:
        _require(principal, Scope.REPORTS_READ)
        if not 1 <= limit <= 1000 or offset < 0:
            raise ValidationError("limit must be 1 to 1000 and offset not negative")
        return self.store.deliveries(webhook_id, principal.tenant_id, limit=limit, offset=offset)

    def callback_secret(self, principal: Principal) -> str:
        """The key signing the tenant's ``callback_url`` deliveries (a secret: write scope)."""
        _require(principal, Scope.REPORTS_WRITE)
        return self.callback_secret_for(principal.tenant_id)

    def callback_secret_for(self, tenant_id: str) -> str:
        """Derived from the server secret, so every process agrees without storing it."""
        message = b"reportd.app.webhooks.callback:" + tenant_id.encode()
        return SECRET_PREFIX + hmac.new(self._callback_key, message, hashlib.sha256).hexdigest()

    def payload_of(self, report_id: str) -> str:
        return self.render(self.reports.get(report_id))

    def dispatcher(self, owner: str) -> WebhookDispatcher:
        return WebhookDispatcher(self, owner)


# -- the dispatcher -------------------------------------------------------------------------


class WebhookDispatcher:
    """Outbox to deliveries, then due deliveries to POSTs; safe to run in many processes."""

    def __init__(self, service: WebhookService, owner: str, *, batch: int = 50) -> None:
        self.service = service
        self.store = service.store
        self.policy = service.policy
        self.owner = owner
        self.batch = batch
        self._http = httpx.Client(
            timeout=self.policy.timeout, follow_redirects=False, transport=service.transport
        )
        self.on_failure: Callable[[bool], None] | None = None  # metrics: called with `final`

    def run_once(self) -> int:
        """One pass of both steps; how many deliveries were queued plus attempted."""
        queued = self.store.enqueue_due(EVENT_OF_STATE, self.service.payload_of)
        attempted = 0
        while attempted < self.batch:
            claimed = self.store.claim(self.owner, self.policy.lease_seconds)
            if claimed is None:
                break
            self.attempt(claimed)
            attempted += 1
        return queued + attempted

    def loop(self, stop: threading.Event) -> None:
        """``run_once`` every ``poll_interval`` until ``stop``; errors are logged, not fatal."""
        try:
            while not stop.is_set():
                try:
                    busy = self.run_once()
                except Exception:
                    log.exception("webhook dispatch failed", extra={"action": "webhook_error"})
                    busy = 0
                if busy < self.batch:
                    stop.wait(self.policy.poll_interval)
        finally:
            self.close()

    def close(self) -> None:
        self._http.close()

    def attempt(self, claimed: ClaimedDelivery) -> bool:
        """POST one claimed delivery and record the outcome; True when it was delivered."""
        delivery = claimed.delivery
        secret = self._secret(claimed)
        if secret is None:
            return self._record(claimed, None, "the subscription was deleted", final=True)
        try:
            check_url(delivery.url, "callback_url")
        except ValidationError as exc:
            return self._record(claimed, None, exc.message, final=True)
        body = delivery.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "reportd-webhooks",
            SIGNATURE_HEADER: signature_header(secret, int(time.time()), body),
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: delivery.id,
        }
        status, error = self._post(delivery.url, body, headers)
        if error is None and status is not None:
            self.store.mark_delivered(delivery.id, self.owner, status)
            self._log("webhook delivered", "webhook_delivered", claimed, status=status)
            return True
        return self._record(claimed, status, error or "no response", final=False)

    def _secret(self, claimed: ClaimedDelivery) -> str | None:
        if claimed.delivery.webhook_id is None:
            return self.service.callback_secret_for(claimed.delivery.tenant_id)
        return claimed.secret

    def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        """The status, and an error unless it is a 2xx; the response body is never read."""
        try:
            with self._http.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            return status, None
        return status, f"HTTP {status}"

    def _record(
        self, claimed: ClaimedDelivery, status: int | None, error: str, *, final: bool
    ) -> bool:
        attempts = claimed.delivery.attempts + 1
        delay = None if final else self.policy.delay_after(attempts)
        retry_at = None if delay is None else datetime.now(UTC) + timedelta(seconds=delay)
        self.store.mark_attempt_failed(
            claimed.delivery.id, self.owner, status=status, error=error, retry_at=retry_at
        )
        if self.on_failure is not None:
            self.on_failure(retry_at is None)
        action = "webhook_retry" if retry_at is not None else "webhook_failed"
        self._log("webhook attempt failed", action, claimed, status=status, error=error)
        return False

    def _log(self, message: str, action: str, claimed: ClaimedDelivery, **extra: object) -> None:
        delivery = claimed.delivery
        log.info(
            message,
            extra={
                "action": action,
                "delivery_id": delivery.id,
                "report_id": delivery.report_id,
                "webhook_id": delivery.webhook_id,
                "attempts": delivery.attempts + 1,
                **extra,
            },
        )
