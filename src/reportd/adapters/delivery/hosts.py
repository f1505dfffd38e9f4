"""The outbound policy for the hosts of destinations, at save and at connect.

A tenant's S3 endpoint, SFTP host and webhook URL obey the same policy as webhooks
(``reportd.adapters.outbound.AddressGuard``: no loopback, private, link-local or reserved
address unless ``[webhooks] allow_private`` lists its network). Saving a destination checks
the host if it resolves; each connection checks again and goes to the checked address only.
"""

from __future__ import annotations

from reportd.adapters.outbound import AddressGuard

__all__ = ["PolicyHostGuard"]


class PolicyHostGuard:
    """Implements ``reportd.app.destination_types.HostGuard`` over ``AddressGuard``."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard

    def check_host(self, host: str, what: str) -> None:
        try:
            self.guard.addresses(host, 443, what)
        except OSError:  # does not resolve now: the connect-time check still applies
            return

    def addresses(self, host: str, port: int, what: str) -> list[str]:
        """The permitted addresses to connect to (``UrlNotAllowed``; ``OSError`` if none)."""
        return self.guard.addresses(host, port, what)
