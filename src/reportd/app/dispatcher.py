"""The webhook dispatcher: outbox to deliveries, then due deliveries to signed POSTs.

It runs in every worker process; the webhooks port makes each claim exclusive, so many
dispatchers never POST one delivery at once. The POST itself goes through a ``Poster``
(``reportd.adapters.http_poster`` over httpx): this module decides what to send, to whom,
signed how, and what happens after; never how bytes cross the network.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from reportd.app.urls import check_url
from reportd.app.webhooks import EVENT_OF_STATE, WebhookService
from reportd.domain.errors import UrlNotAllowed, ValidationError
from reportd.domain.models import Report
from reportd.domain.webhook_signatures import DELIVERY_HEADER, EVENT_HEADER, signed_headers
from reportd.domain.webhooks import ATTEMPT_FAILED, REFUSED_BY_POLICY

if TYPE_CHECKING:
    from reportd.app.ports import ReportRepository, WebhookRepository
    from reportd.domain.webhooks import ClaimedDelivery

__all__ = ["Poster", "WebhookDispatcher"]

log = logging.getLogger("reportd.app.webhooks")


class Poster(Protocol):
    """One POST: the status, and an error unless it is a 2xx (the body is never read)."""

    def post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]: ...
    def close(self) -> None: ...


class WebhookDispatcher:
    """Outbox to deliveries, then due deliveries to POSTs; safe to run in many processes."""

    def __init__(
        self,
        *,
        webhooks: WebhookRepository,
        reports: ReportRepository,
        service: WebhookService,
        poster: Poster,
        render: Callable[[Report], str],
        owner: str,
        batch: int = 50,
    ) -> None:
        self.service = service
        self._reports = reports
        self._render = render
        self.store = webhooks
        self.policy = service.policy
        self.owner = owner
        self.batch = batch
        self._poster = poster
        self.on_failure: Callable[[bool], None] | None = None  # metrics: called with `final`

    def payload_of(self, report_id: str) -> str:
        """The body of a delivery: the report as the API shows it (``render``).

        A report that cannot be rendered is logged here; the webhooks port then records its
        deliveries as failed, and the other reports of the batch go on.
        """
        report = self._reports.get(report_id)
        try:
            return self._render(report)
        except Exception:
            log.exception(
                "webhook payload not rendered",
                extra={"action": "webhook_unrenderable", "report_id": report_id},
            )
            raise

    def run_once(self) -> int:
        """One pass of both steps; how many deliveries were queued plus attempted.

        Deliveries are attempted one at a time: one that raises is recorded as failed and
        the rest of the batch goes on (a poisoned delivery used to abort every pass).
        """
        queued = self.store.enqueue_due(EVENT_OF_STATE, self.payload_of)
        attempted = 0
        while attempted < self.batch:
            claimed = self.store.claim(self.owner, self.policy.lease_seconds)
            if claimed is None:
                break
            try:
                self.attempt(claimed)
            except Exception as exc:
                log.exception(
                    "webhook attempt raised",
                    extra={"action": "webhook_error", "delivery_id": claimed.delivery.id},
                )
                self._record(claimed, None, f"{type(exc).__name__}: {exc}", final=True)
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
        self._poster.close()

    def attempt(self, claimed: ClaimedDelivery) -> bool:
        """POST one claimed delivery and record the outcome; True when it was delivered."""
        delivery = claimed.delivery
        secret = self._secret(claimed)
        if secret is None:
            return self._record(claimed, None, "the subscription was deleted", final=True)
        try:
            check_url(delivery.url, "callback_url")
        except ValidationError as exc:  # stored before the rule was as strict as now
            return self._record(claimed, None, exc.message, final=True)
        body = delivery.payload.encode()
        scheme = claimed.signature or self.service.default_signature
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "reportd-webhooks",
            **signed_headers(
                scheme, secret, message_id=delivery.id, timestamp=int(time.time()), body=body
            ),
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: delivery.id,
        }
        try:
            status, error = self._poster.post(delivery.url, body, headers)
        except UrlNotAllowed as exc:  # at connect time: never retried into the inside
            why = exc.message if exc.details is None else f"{exc.message}: {exc.details}"
            return self._record(claimed, None, why, final=True, shown=REFUSED_BY_POLICY)
        if error is None and status is not None:
            self.store.mark_delivered(delivery.id, self.owner, status)
            self._log("webhook delivered", "webhook_delivered", claimed, status=status)
            return True
        return self._record(claimed, status, error or "no response", final=False)

    def _secret(self, claimed: ClaimedDelivery) -> str | None:
        if claimed.delivery.webhook_id is None:
            return self.service.callback_secret_for(claimed.delivery.tenant_id)
        return claimed.secret

    def _record(
        self,
        claimed: ClaimedDelivery,
        status: int | None,
        error: str,
        *,
        final: bool,
        shown: str = ATTEMPT_FAILED,
    ) -> bool:
        """A failed attempt: ``error`` goes to the operator's log, ``shown`` to the tenant's."""
        attempts = claimed.delivery.attempts + 1
        delay = None if final else self.policy.delay_after(attempts)
        retry_at = None if delay is None else datetime.now(UTC) + timedelta(seconds=delay)
        self.store.mark_attempt_failed(
            claimed.delivery.id, self.owner, status=status, error=shown, retry_at=retry_at
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
