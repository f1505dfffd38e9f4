"""``GuardedTransport``: an httpx transport whose every connection goes through an
``AddressGuard`` (``reportd.adapters.outbound``): it connects to the addresses the guard
checked, never to the name again; TLS still verifies the certificate against the URL's host.

Its own module so that the guard, which every process builds, imports no httpx.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from reportd.adapters.outbound import AddressGuard

__all__ = ["GuardedTransport"]


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
