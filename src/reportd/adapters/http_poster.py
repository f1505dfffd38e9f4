"""The webhook dispatcher's ``Poster`` over httpx: one POST, no redirects, body never read.

Every connection goes through the outbound policy (``reportd.adapters.outbound``): the
host is resolved and checked when the connection is made, and the connection goes to the
checked address. A refused address raises ``UrlNotAllowed`` out of ``post``; the
dispatcher records it as "refused by policy". Redirects are not followed (a 3xx is a
failed attempt), so a public receiver cannot bounce a delivery inside.
"""

from __future__ import annotations

import httpx

from reportd.adapters.guarded_http import GuardedTransport
from reportd.adapters.outbound import AddressGuard

__all__ = ["HttpxPoster"]


class HttpxPoster:
    def __init__(
        self,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        *,
        guard: AddressGuard | None = None,
    ) -> None:
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: it would connect past the guard
            transport=transport or GuardedTransport(guard or AddressGuard()),
        )

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        """The status, and an error unless it is a 2xx; the response body is never read.

        The error is for the operator's log (it names what failed); the tenant's delivery
        log gets only "failed" from the dispatcher.
        """
        try:
            with self._http.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            return status, None
        return status, f"HTTP {status}"

    def close(self) -> None:
        self._http.close()
