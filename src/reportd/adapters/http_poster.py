"""The webhook dispatcher's ``Poster`` over httpx: one POST, no redirects, body never read."""

from __future__ import annotations

import httpx

__all__ = ["HttpxPoster"]


class HttpxPoster:
    def __init__(self, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        """The status, and an error unless it is a 2xx; the response body is never read."""
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
