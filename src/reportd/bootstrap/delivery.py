"""Report delivery wiring: the senders by type, the secrets' box, the host guard and the retry
policy, from ``[delivery]`` (``Delivery``); ``compose`` takes one, tests give their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportd.adapters.outbound import AddressGuard
from reportd.adapters.secret_box import FernetBox, derive_key, new_key
from reportd.app.deliveries import Sender
from reportd.app.destination_types import HostGuard
from reportd.app.destinations import SecretBox
from reportd.app.webhooks import DeliveryPolicy
from reportd.config import Settings
from reportd.domain.destinations import DestinationType


@dataclass
class Delivery:
    """What report deliveries are made with: the senders by type, the secrets' box, the
    outbound policy for tenant-given hosts, and how hard to try."""

    senders: dict[DestinationType, Sender] = field(default_factory=dict)
    # a key of this process only when none is given (tests): nothing sealed outlives it
    box: SecretBox = field(default_factory=lambda: FernetBox([new_key()]))
    guard: HostGuard | None = None  # None: the outbound policy compose is given
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    link_ttl: int = 7 * 86_400
    link_base: str | None = None  # links in mails: the server's own URL unless public_url
    lease_seconds: float = 120.0


def delivery_of(settings: Settings, outbound: AddressGuard) -> Delivery:
    # Here, not at the top: the senders' modules (SMTP, S3, SFTP, HTTP) only where they are built.
    from reportd.adapters.delivery.hosts import PolicyHostGuard
    from reportd.adapters.delivery.registry import build_senders

    config = settings.delivery
    keys = config.secret_keys or [derive_key(settings.signing_secret())]
    guard = PolicyHostGuard(outbound)
    return Delivery(
        senders=build_senders(settings, guard),
        box=FernetBox(keys),
        guard=guard,
        policy=DeliveryPolicy(
            retry_delays=tuple(config.retry_delays),
            timeout=config.timeout,
            max_attempts=config.max_attempts,
            poll_interval=config.poll_interval,
        ),
        link_ttl=config.link_ttl,
        link_base=settings.http_base_url(),
        lease_seconds=config.lease_seconds,
    )
