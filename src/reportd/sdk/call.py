"""One request described once, and how to read its answer, before a transport sends it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

T = TypeVar("T")
JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """A request (``Client`` sends it blocking, ``AsyncClient`` awaiting) and its reader.

    ``read`` turns the checked response into what the public method returns; streamed calls
    (a download, the event stream) are read by the client and carry ``no_body``.
    """

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: dict[str, Any] | None = None
    json: JSON | None = None
    headers: dict[str, str] | None = None


def json_body(response: httpx.Response) -> JSON:
    body: JSON = response.json()
    return body


def no_body(response: httpx.Response) -> None:
    return None
