"""The outbound policy over real name resolution and real sockets: ``AddressGuard``.

Every request reportd sends to a URL a tenant chose (webhooks, ``callback_url``, delivery
destinations) goes through one ``AddressGuard``:

- ``check(url)``, at creation (the ``reportd.app.outbound.OutboundPolicy`` port): the host is
  resolved and refused when any address it gives is refused by ``reportd.domain.addresses``.
- ``addresses(host, port)``, at connect time: the same, and the caller connects to those
  checked addresses only, never to the name again. A name that resolved to a public address
  when the webhook was made and to 127.0.0.1 now (DNS rebinding) is refused now.
- ``connect(host, port, timeout)``: a TCP socket to the first checked address that answers,
  for clients that take a socket (SMTP, SFTP).
- ``reportd.adapters.guarded_http.GuardedTransport``: an httpx transport whose every
  connection goes through ``addresses`` (apart, so that the policy, which ``reportd export``
  and every process build, does not import httpx: ~40 ms of start-up).

Numeric host forms (``2130706433``, ``0x7f000001``, ``127.1``, ``[::ffff:127.0.0.1]``) need no
special case: the system resolver turns them into the address they mean, and that address
is what is judged.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import unquote

from reportd.app.urls import split_url
from reportd.domain.addresses import Address, Network, parse_networks, refusal
from reportd.domain.errors import UrlNotAllowed

__all__ = ["AddressGuard", "Resolver", "system_resolver"]

# (host, port) -> the addresses it resolves to, as strings; raises OSError when it does not.
Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (A and AAAA, /etc/hosts too)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (UnicodeError, ValueError) as exc:  # not a name IDNA can encode, a NUL in it
        raise OSError(f"{host!r} is not a valid host name") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AddressGuard:
    """Refuses loopback, private, link-local, multicast, reserved and unspecified targets.

    ``allow_private`` is the operator's ``[webhooks] allow_private`` (networks such as
    ``"10.1.2.0/24"``), for receivers on the operator's own network; empty by default.
    """

    def __init__(
        self, allow_private: Iterable[str | Network] = (), resolver: Resolver = system_resolver
    ) -> None:
        given = list(allow_private)
        self.allowed: tuple[Network, ...] = tuple(
            n for n in given if not isinstance(n, str)
        ) + parse_networks(n for n in given if isinstance(n, str))
        self._resolve = resolver

    def check(self, url: str, what: str = "url") -> None:
        """At creation: refused when the host resolves to any refused address."""
        parts = split_url(url, what)
        host = parts.hostname or ""
        try:
            self.addresses(host, parts.port or (443 if parts.scheme == "https" else 80), what)
        except OSError:  # does not resolve (yet): the connect-time check still applies
            return

    def addresses(self, host: str, port: int, what: str = "url") -> list[str]:
        """The addresses to connect to, all permitted; ``UrlNotAllowed`` if any is not.

        Any, not all: a name answering both a public and a private address would otherwise
        reach the private one whenever the public one is slow. Raises ``OSError`` when the
        name does not resolve.
        """
        # Judged as the resolver would mean it: fe80::1%25eth0 (a zone), %31%32%37.0.0.1.
        found = list(self._resolve(unquote(host.strip("[]")), port))
        if not found:
            raise OSError(f"{host} resolves to no address")
        for value in found:
            why = refusal(_address(value), self.allowed)
            if why is not None:
                raise UrlNotAllowed(
                    f"{what} points at an address reportd does not send to "
                    "(loopback, private, link-local, multicast or reserved)",
                    details={"reason": why},
                )
        return found

    def connect(self, host: str, port: int, timeout: float | None) -> socket.socket:
        """A TCP connection to the first checked address of ``host`` that accepts one."""
        error: OSError | None = None
        for value in self.addresses(host, port):
            try:
                return socket.create_connection((value, port), timeout=timeout)
            except OSError as exc:
                error = exc
        raise error or OSError(f"cannot connect to {host}")


def _address(value: str) -> Address:
    return ipaddress.ip_address(value.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
