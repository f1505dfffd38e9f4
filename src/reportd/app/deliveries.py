"""The delivery dispatcher: a finished report's files to each destination it names.

It runs in every worker process beside the webhook dispatcher and has the same shape: the
delivery queue port (``reportd.adapters.db.deliveries``) leases each delivery to one worker, an
attempt is recorded only under the lease, a failure is retried after the webhook policy's
kind of delays (``DeliveryPolicy``, from ``[delivery]``), the lease is renewed while a file
is being sent, and a worker that dies mid-delivery loses it, so another worker tries again.
A delivery never holds a report back: the report is FINISHED before its deliveries are even
claimable.

How bytes reach a destination is a ``Sender``'s job (``reportd.adapters.delivery``: SMTP, S3,
SFTP, HTTP); this module decides what to send, when, and what happens after. The outcome of
each delivery becomes a ``report.delivered`` or ``report.delivery_failed`` webhook event, in
the same transaction as the outcome itself.

A failed send is told to the tenant (``last_error``) as the webhooks' delivery log tells it:
a stable reason of ``reportd.domain.destinations.SHOWN_REASONS`` ("failed", "refused by
policy", ...); what the destination's host answered goes to the operator's log alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from reportd.app.downloads import Download, Downloads
from reportd.app.webhooks import DeliveryPolicy
from reportd.domain.destinations import (
    DELIVERED_EVENT,
    DELIVERY_FAILED_EVENT,
    ClaimedReportDelivery,
    DeliveryState,
    Destination,
    DestinationType,
    ReportDelivery,
)
from reportd.domain.errors import (
    DeliveryFailed,
    NotFound,
    ReportdError,
    ReportNotFound,
    UrlNotAllowed,
)
from reportd.domain.models import Report
from reportd.domain.states import ReportState
from reportd.domain.webhooks import ATTEMPT_FAILED, REFUSED_BY_POLICY

if TYPE_CHECKING:
    from reportd.app.destinations import Destinations
    from reportd.app.ports import DeliveryQueue, DestinationRepository, ReportRepository

__all__ = [
    "DeliveryDispatcher",
    "Parcel",
    "Sender",
]

log = logging.getLogger("reportd.app.deliveries")

_ERROR_CHARS = 500


def _detail(exc: ReportdError) -> str:
    """An error's message and the library error beneath it (``raise ... from``), for the
    operator's log: "storage ... is unreachable" alone does not say what answered."""
    cause = exc.__cause__
    return exc.message if cause is None else f"{exc.message}: {type(cause).__name__}: {cause}"


@dataclass(frozen=True, slots=True)
class Parcel:
    """What one delivery carries: the report and its files, each openable, and a way to
    make a signed link to a file (for a mail too big to attach it)."""

    report: Report
    files: tuple[Download, ...]
    link: Callable[[Download], str]


class Sender(Protocol):
    """Puts a parcel at one type of destination; raises ``DeliveryFailed`` when it cannot."""

    def send(
        self, destination: Destination, secrets: Mapping[str, str], parcel: Parcel
    ) -> None: ...


class DeliveryDispatcher:
    """Due deliveries to their destinations; safe to run in many processes at once."""

    def __init__(
        self,
        *,
        queue: DeliveryQueue,
        reports: ReportRepository,
        destinations: DestinationRepository,
        secrets: Destinations,
        downloads: Downloads,
        senders: Mapping[DestinationType, Sender],
        policy: DeliveryPolicy,
        render: Callable[[Report], str],
        owner: str,
        link_ttl: int = 7 * 86_400,
        link_base: str | None = None,
        lease_seconds: float = 120.0,
        batch: int = 20,
    ) -> None:
        self._queue = queue
        self._reports = reports
        self._destinations = destinations
        self._secrets = secrets
        self._downloads = downloads
        self._senders = senders
        self.policy = policy
        self._render = render
        self.owner = owner
        self.link_ttl = link_ttl
        self.link_base = link_base
        self.lease_seconds = lease_seconds
        self.batch = batch
        # metrics: called with the destination type ("" if unknown) and the state left in
        self.on_attempt: Callable[[str, str], None] | None = None

    def run_once(self) -> int:
        """Attempt up to ``batch`` due deliveries; how many were attempted."""
        attempted = 0
        while attempted < self.batch:
            claimed = self._queue.claim(self.owner, self.lease_seconds)
            if claimed is None:
                break
            self.attempt(claimed)
            attempted += 1
        return attempted

    def loop(self, stop: threading.Event) -> None:
        """``run_once`` until ``stop``, resting ``poll_interval`` when idle; errors are logged."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("delivery dispatch failed", extra={"action": "delivery_error"})
                busy = 0
            if busy < self.batch:
                stop.wait(self.policy.poll_interval)

    def attempt(self, claimed: ClaimedReportDelivery) -> DeliveryState:
        """Try one claimed delivery and record the outcome; the state it is left in."""
        kind, state = self._attempt(claimed)
        if self.on_attempt is not None:
            self.on_attempt(kind, state.value)
        return state

    def _attempt(self, claimed: ClaimedReportDelivery) -> tuple[str, DeliveryState]:
        delivery = claimed.delivery
        if claimed.report_state != ReportState.FINISHED.value:
            # Failed, timed out, canceled or expired: there is no file, and none will come.
            self._settle(delivery, DeliveryState.SKIPPED, f"the report is {claimed.report_state}")
            return "", DeliveryState.SKIPPED
        try:
            report = self._reports.get(delivery.report_id, delivery.tenant_id)
        except ReportNotFound:
            self._settle(delivery, DeliveryState.SKIPPED, "the report was deleted")
            return "", DeliveryState.SKIPPED
        try:
            destination = self._destinations.get(delivery.destination_id, delivery.tenant_id)
        except NotFound:
            return "", self._fail(report, delivery, "the destination was deleted", final=True)
        kind = destination.type.value
        try:
            sender = self._senders[destination.type]
            secrets = self._secrets.secrets_of(destination)
            with self._renewing(delivery):
                sender.send(destination, secrets, self._parcel(report))
        except UrlNotAllowed as exc:  # at connect time: never retried into the inside
            why = exc.message if exc.details is None else f"{exc.message}: {exc.details}"
            return kind, self._failed_send(report, delivery, why, REFUSED_BY_POLICY, final=True)
        except DeliveryFailed as exc:
            shown = exc.shown or ATTEMPT_FAILED
            return kind, self._failed_send(report, delivery, exc.message, shown, final=False)
        except ReportdError as exc:  # e.g. the S3 upload's StorageUnavailable
            return kind, self._failed_send(report, delivery, _detail(exc), final=False)
        except Exception as exc:  # a sender's library raised something unforeseen
            log.exception(
                "delivery raised",
                extra={
                    "action": "delivery_error",
                    "report_id": delivery.report_id,
                    "destination_id": delivery.destination_id,
                },
            )
            why = f"{exc.__class__.__name__}: {exc}"
            return kind, self._failed_send(report, delivery, why, final=False)
        done = replace(delivery, state=DeliveryState.DELIVERED, attempts=delivery.attempts + 1)
        self._settle(delivery, DeliveryState.DELIVERED, None, event=self._event(report, done))
        return kind, DeliveryState.DELIVERED

    @contextlib.contextmanager
    def _renewing(self, delivery: ReportDelivery) -> Iterator[None]:
        """Renew the lease every third of it while the send runs, so a long upload keeps its
        delivery and only a dead worker's lease runs out."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.lease_seconds / 3):
                try:
                    held = self._queue.renew(
                        delivery.report_id, delivery.destination_id, self.owner, self.lease_seconds
                    )
                except Exception:  # the database is away for a moment: try again next time
                    log.warning("delivery lease renewal failed", exc_info=True)
                    continue
                if not held:
                    return

        renewer = threading.Thread(target=renew, name="reportd-delivery-lease", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()

    def _parcel(self, report: Report) -> Parcel:
        return Parcel(report=report, files=self._downloads.files_of(report), link=self._link)

    def _link(self, download: Download) -> str:
        link = self._downloads.signed_link(
            download, base_url=self.link_base, expires_in=self.link_ttl
        )
        return link.url

    def _failed_send(
        self,
        report: Report,
        delivery: ReportDelivery,
        detail: str,
        shown: str = ATTEMPT_FAILED,
        *,
        final: bool,
    ) -> DeliveryState:
        """A send that failed: ``detail`` (what answered, or did not) goes to the operator's
        log with the delivery's ids, ``shown`` (``SHOWN_REASONS``) to the tenant's
        ``last_error``, as the webhook dispatcher does with its delivery log."""
        log.info(
            "delivery attempt failed",
            extra={
                "action": "delivery_attempt_failed",
                "report_id": delivery.report_id,
                "destination_id": delivery.destination_id,
                "attempts": delivery.attempts + 1,
                "error": detail[:_ERROR_CHARS],
                "shown": shown,
            },
        )
        return self._fail(report, delivery, shown, final=final)

    def _fail(
        self, report: Report, delivery: ReportDelivery, error: str, *, final: bool
    ) -> DeliveryState:
        attempts = delivery.attempts + 1
        delay = None if final else self.policy.delay_after(attempts)
        error = error[:_ERROR_CHARS]
        if delay is not None:
            retry_at = datetime.now(UTC) + timedelta(seconds=delay)
            self._settle(delivery, DeliveryState.PENDING, error, retry_at=retry_at)
            return DeliveryState.PENDING
        failed = replace(delivery, state=DeliveryState.FAILED, attempts=attempts, last_error=error)
        self._settle(delivery, DeliveryState.FAILED, error, event=self._event(report, failed))
        return DeliveryState.FAILED

    def _settle(
        self,
        delivery: ReportDelivery,
        state: DeliveryState,
        error: str | None,
        *,
        retry_at: datetime | None = None,
        event: tuple[str, str] | None = None,
    ) -> None:
        held = self._queue.settle(
            delivery.report_id,
            delivery.destination_id,
            self.owner,
            state=state,
            error=error,
            retry_at=retry_at,
            event=event,
        )
        log.info(
            "delivery %s",
            state.value if held else "lost its lease",
            extra={
                "action": f"delivery_{state.value}" if held else "delivery_lease_lost",
                "report_id": delivery.report_id,
                "destination_id": delivery.destination_id,
                "attempts": delivery.attempts + 1,
                "error": error,
            },
        )

    def _event(self, report: Report, outcome: ReportDelivery) -> tuple[str, str]:
        """The webhook event of an outcome: the report resource (with its deliveries as they
        are now) and a ``delivery`` member saying which one this event is about."""
        shown = tuple(
            outcome if d.destination_id == outcome.destination_id else d for d in report.deliveries
        )
        body = json.loads(self._render(report.evolve(deliveries=shown)))
        body["delivery"] = {
            "destination_id": outcome.destination_id,
            "state": outcome.state.value,
            "attempts": outcome.attempts,
            "last_error": outcome.last_error,
        }
        name = (
            DELIVERED_EVENT if outcome.state is DeliveryState.DELIVERED else DELIVERY_FAILED_EVENT
        )
        return name, json.dumps(body, separators=(",", ":"))
