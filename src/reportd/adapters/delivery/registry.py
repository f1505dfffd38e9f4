"""The senders of every destination type, and the outbound policy, built from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportd.adapters.delivery.email import SmtpSender, SmtpServer
from reportd.adapters.delivery.s3 import S3Sender
from reportd.adapters.delivery.sftp import SftpSender
from reportd.adapters.delivery.webhook import WebhookSender
from reportd.domain.destinations import DestinationType

if TYPE_CHECKING:
    from reportd.adapters.delivery.hosts import PolicyHostGuard
    from reportd.app.deliveries import Sender
    from reportd.config import Settings

__all__ = ["build_senders"]


def build_senders(settings: Settings, guard: PolicyHostGuard) -> dict[DestinationType, Sender]:
    """One sender per type; ``guard`` (the outbound policy) is checked by each one that
    connects to a tenant's host, at connect time."""
    smtp = settings.smtp
    server = SmtpServer(
        host=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        sender=smtp.from_,
        starttls=smtp.starttls,
        ssl=smtp.ssl,
        timeout=smtp.timeout,
        max_attachment_bytes=smtp.max_attachment_bytes,
    )
    timeout = settings.delivery.timeout
    return {
        DestinationType.EMAIL: SmtpSender(server),
        DestinationType.S3: S3Sender(guard, timeout),
        DestinationType.SFTP: SftpSender(guard, timeout),
        DestinationType.WEBHOOK: WebhookSender(
            guard.guard, timeout, max_bytes=settings.delivery.webhook_max_bytes
        ),
    }
