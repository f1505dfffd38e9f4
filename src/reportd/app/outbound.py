"""The outbound policy port: may reportd send a tenant's request to this URL?

Webhook subscriptions, a report's ``callback_url`` and delivery destinations are checked
when they are made, so a tenant learns at once that ``http://10.0.0.1/`` will never be
called; the adapter (``reportd.adapters.outbound.AddressGuard``) resolves the host and
applies ``reportd.domain.addresses``. That check is advice: DNS can change between
creation and sending, so the adapters check again at connect time, against the address
they then connect to.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["OutboundPolicy"]


class OutboundPolicy(Protocol):
    def check(self, url: str, what: str = "url") -> None:
        """Raise ``UrlNotAllowed`` when the URL's host is, or resolves to, a refused address.

        A host that does not resolve now passes (it may later; the connect-time check
        still applies). The URL's syntax is ``reportd.app.urls``'s, checked before.
        """
        ...
