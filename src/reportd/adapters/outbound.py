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
- ``GuardedTransport``: an httpx transport whose every connection goes through
  ``addresses``; TLS still verifies the certificate against the URL's host name.

Numeric host forms (``2130706433``, ``0x7f000001``, ``127.1``, ``[::ffff:127.0.0.1]``) need no
special case: the system resolver turns them into the address they mean, and that address
is what is judged.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import unquote

import httpcore
import httpx

from reportd.app.urls import split_url
from reportd.domain.addresses import Address, Network, parse_networks, refusal
from reportd.domain.errors import UrlNotAllowed

__all__ = ["AddressGuard", "GuardedTransport", "Resolver", "system_resolver"]

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


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's TCP connect, to addresses the guard checked instead of the host name."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            checked = self._guard.addresses(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        error: Exception | None = None
        for value in checked:
            try:
                return self._tcp.connect_tcp(
                    value, port, timeout, local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"cannot connect to {host}")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not an outbound target")

    def sleep(self, seconds: float) -> None:
        self._tcp.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with every connection checked by ``guard``; no proxy from the
    environment (a proxy would connect on our behalf, past the check)."""

    def __init__(self, guard: AddressGuard, *, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(trust_env=False)
        limits = httpx.Limits()
        # httpx builds its pool in __init__ without a way to pass a network backend; the
        # pool is replaced by the same one over the guarded backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(guard),
        )
